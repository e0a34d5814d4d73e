import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Git } from './fast-import.js';

/** One file a round changed: its blob at the old tip (none: new), at the new tip, and its text. */
export interface ChangedFile {
  path: string;
  before: string | undefined;
  after: string;
  text: string;
}

/**
 * After the tracked branch moved (HEAD, on it, is the new tip already): brings each changed file in
 * the index and work tree at `root` from `before` to `after`, so the checkout does not look as if
 * it reverted the approvals. One `git status` of those paths decides, one `update-index` writes the
 * index. A person's uncommitted edit of a file (staged or not, or an untracked file at an onboarded
 * path) is left alone; an unstaged one still gets the new version in the index, so `git diff`
 * shows it against the new commit. Other files are never touched. Returns the paths left alone.
 */
export async function bringWorkTreeForward(git: Git, root: string, files: readonly ChangedFile[]): Promise<string[]> {
  if (files.length === 0) return [];
  // --branch: a header line always, so git never exits silently (see runGit); --no-renames: one path per entry.
  const status = (await git(['status', '--porcelain=v2', '-z', '--branch', '--no-renames', '--untracked-files=all', '--ignored=no', '--', ...files.map((file) => `:(literal)${file.path}`)])).text;
  const entries = new Map<string, { kind: string; fields: string[] }[]>();
  for (const entry of status.split('\0')) {
    const kind = entry[0] ?? '';
    // `1 XY sub mH mI mW hH hI path`, `u XY sub m1 m2 m3 mW h1 h2 h3 path`, `? path`: the path is the rest, spaces and all.
    const count = kind === '1' ? 8 : kind === 'u' ? 10 : kind === '?' ? 1 : -1;
    if (count < 0) continue;
    const fields = entry.split(' ');
    const file = fields.slice(count).join(' ');
    entries.set(file, [...(entries.get(file) ?? []), { kind, fields: fields.slice(0, count) }]);
  }

  const kept: string[] = [];
  const index: string[] = [];
  for (const file of files) {
    const found = entries.get(file.path) ?? [];
    if (found.length === 0) continue; // index and work tree hold the new version already
    const tracked = found.find((entry) => entry.kind === '1');
    // HEAD is the new tip: a clean path shows as staged back to the old version (hI = before).
    const indexOid = tracked === undefined || /^0+$/.test(tracked.fields[7] ?? '') ? undefined : tracked.fields[7];
    const indexClean = tracked !== undefined && indexOid === file.before && !found.some((entry) => entry.kind === 'u');
    const workTreeClean = indexClean && found.length === 1 && tracked.fields[1]?.[1] === '.';
    if (workTreeClean) {
      // The file is the blob's text as is (user files have no checkout filters).
      const destination = path.join(root, file.path);
      await mkdir(path.dirname(destination), { recursive: true });
      await writeFile(destination, file.text);
    } else {
      kept.push(file.path);
    }
    if (indexClean) index.push(`100644 ${file.after}\t${file.path}`);
  }
  // --verbose: it says what it added, so simple-git does not wait after a silent git.
  if (index.length > 0) await git(['update-index', '--verbose', '-z', '--index-info'], { input: `${index.join('\0')}\0` });
  return kept;
}
