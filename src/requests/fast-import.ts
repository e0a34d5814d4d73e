import { randomUUID } from 'node:crypto';
import type { GitOptions, GitResult } from '../source/git.js';
import type { Ident } from './approval-message.js';

/** A git call in one repository (runGit bound to it). */
export type Git = (args: readonly string[], more?: Omit<GitOptions, 'env'> & { okExitCodes?: readonly number[] }) => Promise<GitResult>;

/** One commit to write. */
export interface ImportCommit {
  author: Ident;
  committer: Ident;
  message: string;
  /**
   * First parent, then the others: a commit's sha, or the index of an earlier commit of the same
   * import. The tree is the first parent's with `files` written into it.
   */
  parents: readonly (string | number)[];
  /** Whole files (mode 100644) that the commit writes over its first parent's tree. */
  files: readonly { path: string; text: string }[];
}

/**
 * Writes every blob, tree and commit of `commits` with one `git fast-import` process and returns
 * the commits' shas in order. No ref moves: fast-import works on a throwaway ref that is reset to
 * nothing before it ends, so the objects are written and the caller moves the refs that matter
 * (small imports become loose objects, per `fastimport.unpackLimit`, not a pack each).
 */
export async function importCommits(git: Git, commits: readonly ImportCommit[]): Promise<string[]> {
  if (commits.length === 0) return [];
  const ref = `refs/rollcall-import/${randomUUID()}`;
  const parts: string[] = [];
  commits.forEach((commit, index) => {
    const [first, ...others] = commit.parents;
    parts.push(
      `commit ${ref}\n`,
      `mark :${index + 1}\n`,
      `author ${ident(commit.author)}\n`,
      `committer ${ident(commit.committer)}\n`,
      data(commit.message),
      ...(first !== undefined ? [`from ${parent(first, index)}\n`] : []),
      ...others.map((other) => `merge ${parent(other, index)}\n`),
      ...commit.files.flatMap((file) => [`M 100644 inline ${quotePath(file.path)}\n`, data(file.text)]),
      '\n',
      // The sha, on stdout: get-mark answers at once, in order.
      `get-mark :${index + 1}\n`,
    );
  });
  // A reset without `from` leaves the ref with no commit: fast-import writes no ref at the end.
  parts.push(`reset ${ref}\n\n`, 'done\n');
  const output = (await git(['fast-import', '--quiet', '--done'], { input: parts.join('') })).text;
  const shas = output.split('\n').map((line) => line.trim()).filter((line) => /^[0-9a-f]{40,64}$/.test(line));
  if (shas.length !== commits.length) throw new Error(`git fast-import answered ${shas.length} commits for ${commits.length}: ${output.slice(0, 200)}`);
  return shas;
}

function parent(value: string | number, index: number): string {
  if (typeof value === 'string') return value;
  if (value < 0 || value >= index) throw new RangeError(`commit ${index} cannot have commit ${value} of the same import as its parent`);
  return `:${value + 1}`;
}

function ident(who: Ident): string {
  return `${who.name} <${who.email}> ${who.date}`;
}

/** `data <bytes>` and the bytes: the count is of UTF-8 bytes, not characters. */
function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

/** A path as fast-import reads it: as is, or C-quoted when it starts with `"` or holds control characters. */
function quotePath(file: string): string {
  if (!/^"|[\u0000-\u001f\\"]/.test(file)) return file;
  const escaped = file.replace(/[\u0000-\u001f\\"]/g, (char) => {
    if (char === '\\' || char === '"') return `\\${char}`;
    if (char === '\n') return '\\n';
    if (char === '\t') return '\\t';
    return `\\${char.charCodeAt(0).toString(8).padStart(3, '0')}`;
  });
  return `"${escaped}"`;
}
