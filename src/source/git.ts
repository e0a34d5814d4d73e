import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { RollcallError } from '../config/errors.js';

/** The only place rollcall makes a simple-git client: every git call goes through here. */
export function createGit(dir: string): SimpleGit {
  return simpleGit({ baseDir: dir, maxConcurrentProcesses: 4, trimmed: false });
}

/** The commit a desired-state folder comes from, when it is committed and unchanged. */
export interface CommittedRevision {
  /** The full sha of HEAD. */
  sha: string;
  /** `Rollcall-Allow-Deletions: N` of that commit, if it has one. */
  allowDeletions?: number;
  /** The commit's committer time, in seconds since 1970: a later commit has a later one. */
  committedAt: number;
}

const ALLOW_DELETIONS = 'Rollcall-Allow-Deletions';

/**
 * The commit `dir` is at, when it is inside a git work tree and nothing under it differs from HEAD
 * (no edits, no untracked files); undefined otherwise, and then callers name the revision by a hash
 * of the files instead. A folder outside any git repository is not an error.
 */
export async function describeCommittedRevision(dir: string): Promise<CommittedRevision | undefined> {
  const git = createGit(dir);
  try {
    if (!(await git.checkIsRepo())) return undefined;
    const status = await git.raw(['status', '--porcelain', '--untracked-files=all', '--', '.']);
    if (status.trim() !== '') return undefined;
    // One git call for the sha, the commit time and the trailer (one per line).
    const [sha = '', time = '', trailer = ''] = (await git.raw(['log', '-1', `--format=%H%n%ct%n%(trailers:key=${ALLOW_DELETIONS},valueonly,separator=%x2C)`, 'HEAD'])).split('\n');
    const committedAt = Number(time);
    const allowDeletions = parseAllowDeletions(trailer.trim());
    return { sha, committedAt, ...(allowDeletions !== undefined ? { allowDeletions } : {}) };
  } catch (error) {
    if (/does not have any commits|unknown revision|ambiguous argument 'HEAD'/.test(String(error))) return undefined;
    throw new RollcallError('git', `could not read the git revision of ${path.resolve(dir)}`, { cause: error });
  }
}

/** The trailer's value; the largest when a commit has several. */
function parseAllowDeletions(value: string): number | undefined {
  const numbers = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => /^\d+$/.test(part))
    .map(Number);
  return numbers.length > 0 ? Math.max(...numbers) : undefined;
}
