import { posix } from 'node:path';
import { parse } from 'yaml';
import { RollcallError } from '../config/errors.js';
import { compareStrings } from '../desired/compare-strings.js';
import { createGit } from './git.js';
import { ResultNotes, type ChangeLine, type InstanceResultRecord, type ResultTrigger } from './result-notes.js';

/** A commit that changed a user's file, with the approval trailers the request flow writes. */
export interface HistoryCommit {
  sha: string;
  /** ISO 8601 committer date. */
  date: string;
  subject: string;
  /** `Request:` (onboard, grant, revoke, offboard, lock). */
  request?: string;
  /** `Requested-by:`. */
  requestedBy?: string;
  /** Every `Approved-by:`, in order. */
  approvers: string[];
  /** `Approval:`, the approval's id on its platform. */
  approval?: string;
  /** `Name <email>` of the commit's author. */
  author: string;
  /** The user's file in that commit (it may since have been renamed). */
  file: string;
}

/** One instance's part of an apply that changed the user. */
export interface HistoryApplication {
  /** The commit whose note holds the record. */
  revision: string;
  at: string;
  trigger: ResultTrigger;
  instance: string;
  status: InstanceResultRecord['status'];
  /** Only the changes to the user (its account and its private group). */
  changes: ChangeLine[];
  error?: string;
}

/** What happened to one user: the requests that changed the file, then what was applied where. */
export interface UserHistory {
  empId: string;
  login: string;
  commits: HistoryCommit[];
  applications: HistoryApplication[];
}

type Git = ReturnType<typeof createGit>;

/** Letters, digits, `_ . -`: every empId and login, and nothing git would read as an option or a pattern. */
const WHO = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

const TRAILERS = { request: 'request', 'requested-by': 'requestedBy', approval: 'approval' } as const;

/**
 * The history of one user. `who` is an empId (the file name users/<empId>.yaml) or a login
 * (matched against the `login:` of the users files at HEAD, then in history). Every commit that
 * touched that user's file (following renames, all branches merged into HEAD), oldest first, with
 * its `Request:`, `Requested-by:`, `Approved-by:` and `Approval:` trailers; then every change to
 * that user's account or private group recorded in rollcall's notes, oldest first.
 */
export async function userHistory(repoRoot: string, path: string, who: string): Promise<UserHistory> {
  const dir = usersDir(path);
  if (!WHO.test(who)) {
    throw new RollcallError('invalid-input', `"${who}" is neither an empId nor a login: give the name of a file in ${dir}/ without .yaml (like E1001), or a login (like zhangsan)`);
  }
  const git = createGit(repoRoot);
  try {
    let empId = who;
    let commits = await fileCommits(git, `${dir}/${who}.yaml`);
    let login: string | undefined;
    if (commits.length === 0) {
      const file = (await fileWithLoginAtHead(git, dir, who)) ?? (await fileWithLoginInHistory(git, dir, who));
      if (file === undefined) {
        throw new RollcallError('invalid-input', `no user ${who} in ${path}: it is neither an empId (no ${dir}/${who}.yaml) nor the login of a user, at HEAD or in its history`);
      }
      empId = posix.basename(file, '.yaml');
      commits = await fileCommits(git, `${dir}/${empId}.yaml`);
      login = who;
    }
    login ??= (await latestLogin(git, commits)) ?? '';
    const applications = login === '' ? [] : await userApplications(repoRoot, login);
    return { empId, login, commits: commits.reverse(), applications };
  } catch (error) {
    if (error instanceof RollcallError) throw error;
    throw new RollcallError('git', `could not read the history of ${who} in ${repoRoot}: ${String(error instanceof Error ? error.message : error).split('\n')[0]}`, { cause: error });
  }
}

function usersDir(desiredPath: string): string {
  const normalized = posix.normalize(desiredPath.replaceAll('\\', '/')).replace(/\/$/, '');
  return normalized === '.' || normalized === '' ? 'users' : `${normalized}/users`;
}

/** Commits that touched `file`, newest first, across renames. */
async function fileCommits(git: Git, file: string): Promise<HistoryCommit[]> {
  const format = '%x1e%H%x1f%cI%x1f%s%x1f%an <%ae>%x1f%(trailers:only,unfold)%x1f';
  const log = await git.raw(['-c', 'core.quotePath=false', 'log', '--follow', '--name-only', `--format=${format}`, 'HEAD', '--', file]);
  const commits: HistoryCommit[] = [];
  for (const entry of log.split('\x1e')) {
    const [sha = '', date = '', subject = '', author = '', trailers = '', names = ''] = entry.split('\x1f');
    if (!/^[0-9a-f]{40,64}$/.test(sha)) continue;
    const changed = names.split('\n').map((name) => name.trim()).filter((name) => name !== '');
    commits.push({ sha, date, subject, ...readTrailers(trailers), author, file: changed.at(-1) ?? file });
  }
  return commits;
}

function readTrailers(text: string): Pick<HistoryCommit, 'request' | 'requestedBy' | 'approvers' | 'approval'> {
  const found: Pick<HistoryCommit, 'request' | 'requestedBy' | 'approval'> = {};
  const approvers: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*?)\s*$/.exec(line);
    if (!match || match[2] === '') continue;
    const key = (match[1] ?? '').toLowerCase();
    const value = match[2] ?? '';
    if (key === 'approved-by') approvers.push(value);
    else if (key in TRAILERS) found[TRAILERS[key as keyof typeof TRAILERS]] ??= value;
  }
  return { ...found, approvers };
}

/** The users file at HEAD whose `login:` is `login`. */
async function fileWithLoginAtHead(git: Git, dir: string, login: string): Promise<string | undefined> {
  // git grep finds the few candidate files in one process; YAML then decides (quotes, flow style).
  const candidates = await git.raw(['grep', '-l', '-F', '-w', '-e', login, 'HEAD', '--', `${dir}/`]);
  for (const line of candidates.split('\n')) {
    const file = line.replace(/^HEAD:/, '').trim();
    if (isUserFile(dir, file) && (await loginAt(git, `HEAD:${file}`)) === login) return file;
  }
  return undefined;
}

/** A users file that had `login:` `login` in some commit, newest first. */
async function fileWithLoginInHistory(git: Git, dir: string, login: string): Promise<string | undefined> {
  const log = await git.raw(['-c', 'core.quotePath=false', 'log', `-S${login}`, '--name-only', '--format=%x1e%H', 'HEAD', '--', `${dir}/`]);
  for (const entry of log.split('\x1e')) {
    const [sha = '', ...files] = entry.split('\n').map((line) => line.trim()).filter((line) => line !== '');
    for (const file of files) {
      if (!isUserFile(dir, file)) continue;
      // The commit added or changed the login, or removed it: then the parent had it.
      if ((await loginAt(git, `${sha}:${file}`)) === login || (await loginAt(git, `${sha}^:${file}`)) === login) return file;
    }
  }
  return undefined;
}

function isUserFile(dir: string, file: string): boolean {
  return file.endsWith('.yaml') && posix.dirname(file) === dir;
}

/** The login in the newest version of the user's file. */
async function latestLogin(git: Git, newestFirst: readonly HistoryCommit[]): Promise<string | undefined> {
  for (const commit of newestFirst) {
    const login = (await loginAt(git, `${commit.sha}:${commit.file}`)) ?? (await loginAt(git, `${commit.sha}^:${commit.file}`));
    if (login !== undefined) return login;
  }
  return undefined;
}

/** The `login:` of a users file at `<rev>:<path>`; undefined when there is no such file or it has none. */
async function loginAt(git: Git, spec: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await git.raw(['show', spec]);
  } catch {
    return undefined;
  }
  try {
    const value: unknown = parse(text, { maxAliasCount: 100 });
    const login = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).login : undefined;
    return typeof login === 'string' ? login : undefined;
  } catch {
    return undefined;
  }
}

/** Every change to `login` (kind user, or its private group of the same name) in every note, oldest first. */
async function userApplications(repoRoot: string, login: string): Promise<HistoryApplication[]> {
  const applications: HistoryApplication[] = [];
  for (const [revision, records] of await new ResultNotes(repoRoot).all()) {
    for (const record of records) {
      for (const [instance, result] of Object.entries(record.instances)) {
        const changes = result.changes.filter((change) => (change.kind === 'user' || change.kind === 'group') && change.name === login);
        if (changes.length === 0) continue;
        applications.push({ revision, at: record.at, trigger: record.trigger, instance, status: result.status, changes, ...(result.error ? { error: result.error } : {}) });
      }
    }
  }
  return applications.sort(
    (a, b) => (Date.parse(a.at) || 0) - (Date.parse(b.at) || 0) || compareStrings(a.instance, b.instance) || compareStrings(a.revision, b.revision),
  );
}
