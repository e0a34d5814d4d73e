import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RollcallError } from '../config/errors.js';
import { parseAllowDeletions, runGit, type GitOptions, type GitResult } from './git.js';

/** Where the desired state comes from. */
export interface RepositoryOptions {
  /** A local path (a work tree or a bare repo) or a remote URL (https://, http://, ssh://, git@host:path, file://). */
  repo: string;
  /** Default: local → the branch HEAD is on; remote → the remote's default branch. */
  branch?: string;
  /** The desired-state folder inside the repository. Default 'desired-state'. */
  path?: string;
  /** Where a remote is cloned (e.g. `<stateDir>/repo`); reused (fetched) when a clone of the same URL is there. */
  workDir: string;
  /**
   * Credentials: ROLLCALL_GIT_SSH_KEY (path of a private key → GIT_SSH_COMMAND with IdentitiesOnly
   * and StrictHostKeyChecking=accept-new), ROLLCALL_GIT_USERNAME + ROLLCALL_GIT_TOKEN for https
   * (given to git through GIT_ASKPASS, never written into a URL, .git/config or a log line).
   * GIT_COMMITTER_NAME / GIT_COMMITTER_EMAIL name who commits. Default `process.env`.
   */
  env?: NodeJS.ProcessEnv;
}

/** One commit of the tracked branch, as the reconciler and the notifier need it. */
export interface Revision {
  /** The full sha. */
  sha: string;
  /** Committer time, seconds since 1970. */
  committedAt: number;
  subject: string;
  /** "Name <email>" */
  author: string;
  /** All trailers of the commit message, by key as written (e.g. Approval, Requested-by, Approved-by, Request, Rollcall-Allow-Deletions, Rollcall-Break-Glass). Values trimmed, in order. */
  trailers: Record<string, string[]>;
  /** `Rollcall-Allow-Deletions: N` (the largest when several). */
  allowDeletions?: number;
}

/** A commit to make with {@link DesiredRepository.commitFile}. */
export interface FileCommit {
  message: string;
  /** Appended as `Key: value` lines, the way `git interpret-trailers` does. */
  trailers?: [string, string][];
  /** Default: the committer. */
  author?: { name: string; email: string };
}

// Fields and records of `git log` output, split on bytes no commit subject holds.
const FIELD = '\x1f';
const RECORD = '\x1e';
const REVISION_FORMAT = `--format=%H%x1f%ct%x1f%an <%ae>%x1f%s%x1f%(trailers:only,unfold)%x1e`;
const NOTES_REF = 'refs/notes/rollcall';
/** Where a remote's rollcall notes land; refs/notes/rollcall follows them when it can fast-forward. */
const REMOTE_NOTES_REF = 'refs/notes/remotes/origin/rollcall';
const NETWORK_TIMEOUT_MS = 120_000;
/** Pushes after the first, each after fetching and rebasing on what someone else pushed. */
const PUSH_RETRIES = 3;
const ROLLCALL_IDENTITY = { name: 'Rollcall', email: 'rollcall@localhost' };
const CREDENTIALS_HINT = 'check the URL and the credentials (ROLLCALL_GIT_SSH_KEY, or ROLLCALL_GIT_USERNAME and ROLLCALL_GIT_TOKEN)';

/**
 * The git repository that holds the desired state: a local work tree or bare repository that people
 * commit into, or rollcall's own bare clone of a remote. rollcall reads committed state only, never
 * a work tree, and takes no optional locks (see createGit), so it can read while people commit.
 */
export class DesiredRepository {
  readonly kind: 'local' | 'remote';
  /** The work tree (local), or the clone (remote). */
  readonly root: string;
  readonly branch: string;
  /** The desired-state folder inside the repository, e.g. 'desired-state'. */
  readonly path: string;
  private readonly env: NodeJS.ProcessEnv;
  /** A local repository without a work tree; rollcall's clone of a remote always is one. */
  private readonly bare: boolean;
  /** The URL of a remote, as given. */
  private readonly url: string | undefined;
  private readonly gitDir: string;

  private constructor(opened: OpenedRepository) {
    this.kind = opened.kind;
    this.root = opened.root;
    this.branch = opened.branch;
    this.path = opened.path;
    this.env = opened.env;
    this.bare = opened.bare;
    this.url = opened.url;
    this.gitDir = opened.gitDir;
  }

  /**
   * Opens a local repository, or clones (or fetches an existing clone of) a remote into `workDir`.
   * Throws RollcallError 'invalid-input' when the path is not a repository, the branch does not
   * exist or the credentials are incomplete, and 'git' when the remote cannot be reached or read.
   */
  static async open(options: RepositoryOptions): Promise<DesiredRepository> {
    const env = options.env ?? process.env;
    const desiredPath = normalizeRelativePath(options.path ?? 'desired-state', '--path', { allowRoot: true });
    if (options.branch !== undefined) checkBranchName(options.branch);
    const opened = isRemoteUrl(options.repo)
      ? await openRemote(options.repo, options.branch, desiredPath, options.workDir, env)
      : await openLocal(options.repo, options.branch, desiredPath, env);
    return new DesiredRepository(opened);
  }

  /** The ref whose tip rollcall follows. */
  private get tipRef(): string {
    return this.kind === 'local' ? `refs/heads/${this.branch}` : `refs/remotes/origin/${this.branch}`;
  }

  /** The tip of the tracked branch: local refs/heads/<branch>; remote refs/remotes/origin/<branch> as of the last fetch. */
  async head(): Promise<Revision> {
    return this.revision(this.tipRef);
  }

  /** The commit `sha` (any revision git understands); 'invalid-input' when there is no such commit. */
  async revision(sha: string): Promise<Revision> {
    const result = sha.startsWith('-') ? undefined : await this.git(['log', '-1', REVISION_FORMAT, `${sha}^{commit}`, '--'], { okExitCodes: [0, 128] });
    const revision = result?.exitCode === 0 ? parseRevisions(result.text)[0] : undefined;
    if (!revision) throw this.noSuchCommit(sha);
    return revision;
  }

  /**
   * The newest value of trailer `key` on the commits up to `sha` that changed `file` (relative to
   * the desired-state folder), e.g. the `Flow:` of the approval that last changed a user's file.
   */
  async lastTrailer(sha: string, file: string, key: string): Promise<string | undefined> {
    const text = (await this.git(['log', `--format=%(trailers:key=${key},valueonly,separator=%x1f)%x1e`, `${sha}^{commit}`, '--', path.posix.join(this.path, file)])).text;
    for (const entry of text.split('\x1e')) {
      const value = entry.trim().split('\x1f')[0]?.trim();
      if (value) return value;
    }
    return undefined;
  }

  /**
   * First-parent commits after `since` up to `head` that change `path`, oldest first; `head` itself
   * is always last even if it does not change `path`. `since` undefined, unknown, or not an ancestor
   * of head → just [head]; `since` equal to head → [] (nothing is pending).
   */
  async pendingRevisions(since: string | undefined, head: string): Promise<Revision[]> {
    const tip = await this.revision(head);
    const from = since === undefined ? undefined : await this.resolveCommit(since);
    if (from === undefined || !(await this.isAncestor(from, tip.sha))) return [tip];
    if (from === tip.sha) return [];
    const range = `${from}..${tip.sha}`;
    const revisions = parseRevisions((await this.git(['log', '--first-parent', '--reverse', REVISION_FORMAT, range, '--', this.path])).text);
    if (revisions.at(-1)?.sha !== tip.sha) revisions.push(tip);
    return revisions;
  }

  /**
   * Writes the files under `path` as of `sha` into `<destRoot>/<sha>/<path>` and returns that folder.
   * Reads objects only (never the work tree or the index), writes to a temporary name and renames it
   * when complete, so an existing export is complete and reused. Only regular files are exported:
   * symbolic links and submodules are left out, so nothing can point the loader outside the export.
   * 'invalid-input' when `path` does not exist in that commit.
   */
  async exportTree(sha: string, destRoot: string): Promise<string> {
    const commit = await this.commitOf(sha);
    const target = path.join(path.resolve(destRoot), commit);
    const folder = path.join(target, this.path);
    if (existsSync(folder)) return folder;
    const entries = parseTreeEntries((await this.git(['ls-tree', '-r', '-z', '--full-tree', commit, '--', this.path])).stdout);
    if (entries.length === 0) {
      throw new RollcallError('invalid-input', `${this.path} does not exist in commit ${commit} of ${this.describe()}: check --path, the desired-state folder inside the repository`);
    }
    const files = entries.filter((entry) => entry.mode === '100644' || entry.mode === '100755');
    const contents = files.length > 0 ? parseBatch((await this.git(['cat-file', '--batch'], { input: files.map((file) => file.oid).join('\n') + '\n' })).stdout) : [];
    const temporary = path.join(path.resolve(destRoot), `.${commit}.${process.pid}.${randomUUID()}.tmp`);
    try {
      await mkdir(path.join(temporary, this.path), { recursive: true });
      for (const [index, file] of files.entries()) {
        const destination = path.join(temporary, file.path);
        await mkdir(path.dirname(destination), { recursive: true });
        await writeFile(destination, contents[index] ?? Buffer.alloc(0), { mode: file.mode === '100755' ? 0o755 : 0o644 });
      }
      if (existsSync(target)) {
        // An export of another folder of this commit is there already: add this one beside it.
        await mkdir(path.dirname(folder), { recursive: true });
        await rename(path.join(temporary, this.path), folder);
        await rm(temporary, { recursive: true, force: true });
      } else {
        await rename(temporary, target);
      }
    } catch (error) {
      await rm(temporary, { recursive: true, force: true });
      // Another export of the same commit finished first: it is complete, use it.
      if (existsSync(folder)) return folder;
      throw new RollcallError('internal', `could not export ${this.path} of ${commit} into ${destRoot}: ${String(error)}`, { cause: error });
    }
    return folder;
  }

  /** Local only (remote: []): files under `path` that differ from HEAD or are untracked, relative to root. */
  async uncommittedChanges(): Promise<string[]> {
    if (this.kind === 'remote' || this.bare) return [];
    return this.changedPaths(this.path);
  }

  /**
   * Remote: fetches the tracked branch and rollcall's notes (refs/notes/rollcall; fine when the
   * remote has none) and says whether the branch moved. Local: false.
   */
  async fetch(): Promise<boolean> {
    if (this.kind === 'local') return false;
    const before = await this.readRefs();
    await fetchRemote(this.root, this.branch, this.env, this.describe());
    const after = await this.readRefs();
    const remoteNotes = after.get(REMOTE_NOTES_REF);
    if (remoteNotes !== undefined && remoteNotes !== before.get(REMOTE_NOTES_REF)) await this.followRemoteNotes(remoteNotes, after.get(NOTES_REF));
    return before.get(this.tipRef) !== after.get(this.tipRef);
  }

  /**
   * Commits one file (relative to root) on the tracked branch and returns the new sha; when the file
   * already holds `content`, commits nothing and returns the branch's tip.
   *
   * - Local work tree with HEAD on the branch: writes the file and commits only that path (other
   *   staged and unstaged work stays as it is), without running the repository's hooks. Refuses
   *   ('invalid-input') when that file has uncommitted edits or HEAD is not on the tracked branch.
   * - Local bare repository: makes the commit from objects and moves the branch to it.
   * - Remote: makes the commit in the clone and pushes it; when someone else pushed first, fetches,
   *   rebases onto their commit and pushes again (3 times). When they changed the same file, throws
   *   a retryable 'git' error: the caller reads the file again.
   *
   * The committer is `Rollcall <rollcall@localhost>` unless GIT_COMMITTER_NAME / GIT_COMMITTER_EMAIL
   * are set in the options' env; the author defaults to the committer.
   */
  async commitFile(relPath: string, content: string, commit: FileCommit): Promise<string> {
    const file = normalizeRelativePath(relPath, 'the file to commit', { allowRoot: false });
    const message = await this.messageWithTrailers(commit);
    const identity = this.identity(commit.author);
    if (this.kind === 'local' && !this.bare) return this.commitInWorkTree(file, content, message, identity);
    return this.commitFromObjects(file, content, message, identity);
  }

  /** Whether `ancestor` is `descendant` or one of its ancestors. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    for (const revision of [ancestor, descendant]) if (revision.startsWith('-')) throw this.noSuchCommit(revision);
    // `merge-base A B` prints the merge base, and A is an ancestor of B exactly when that base is A.
    // (The silent `--is-ancestor` would cost 50 ms on the hot path: simple-git waits that long
    // after a process that printed nothing.)
    const result = await this.git(['merge-base', ancestor, descendant], { okExitCodes: [0, 1, 128] });
    if (result.exitCode === 128) throw this.noSuchCommit(/Not a valid (?:commit|object) name (\S+)/.exec(result.stderr)?.[1] ?? `${ancestor} or ${descendant}`);
    if (result.exitCode === 1) return false;
    const base = result.text.trim();
    return base === (/^[0-9a-f]{40}$/.test(ancestor) ? ancestor : await this.commitOf(ancestor));
  }

  private async commitInWorkTree(file: string, content: string, message: string, identity: Record<string, string>): Promise<string> {
    const head = (await this.git(['symbolic-ref', '--quiet', 'HEAD'], { okExitCodes: [0, 1] })).text.trim();
    if (head !== `refs/heads/${this.branch}`) {
      const where = head ? `on ${head.replace(/^refs\/heads\//, '')}` : 'detached';
      throw new RollcallError('invalid-input', `HEAD of ${this.root} is ${where}, not on the tracked branch ${this.branch}: check out ${this.branch} (git switch ${this.branch}), then try again`);
    }
    if ((await this.changedPaths(file)).length > 0) {
      throw new RollcallError('invalid-input', `${file} has uncommitted changes in ${this.root}: commit or stash them, then try again`);
    }
    const destination = path.join(this.root, file);
    await mkdir(path.dirname(destination), { recursive: true });
    await writeFile(destination, content);
    if ((await this.changedPaths(file)).length === 0) return (await this.head()).sha;
    // --force: the caller asked for this file, even where a .gitignore pattern matches it.
    await this.git(['add', '--force', '--', file]);
    // --only: the commit holds this path alone, whatever else is staged.
    await this.git(['commit', '--only', '--no-verify', '--no-gpg-sign', '--cleanup=whitespace', '--file=-', '--', file], { input: message, set: identity });
    return (await this.git(['rev-parse', 'HEAD'])).text.trim();
  }

  private async commitFromObjects(file: string, content: string, message: string, identity: Record<string, string>): Promise<string> {
    let base = await this.commitOf(this.tipRef);
    const blob = (await this.git(['hash-object', '-w', '--no-filters', '--stdin'], { input: content })).text.trim();
    for (let attempt = 0; ; attempt += 1) {
      const sha = await this.commitOnto(base, file, blob, message, identity);
      if (sha === base) return base;
      const moved = this.kind === 'local' ? await this.moveBranch(sha, base) : await this.push(sha);
      if (!moved) return sha;
      if (attempt === PUSH_RETRIES) {
        throw new RollcallError('git', `could not commit ${file} to ${this.branch} of ${this.describe()}: the branch kept moving (${PUSH_RETRIES + 1} attempts); try again`);
      }
      if (this.kind === 'remote') await fetchRemote(this.root, this.branch, this.env, this.describe());
      const tip = await this.commitOf(this.tipRef);
      // Rebasing a commit that rewrites one file: clean unless the other commits changed that file too.
      const [before, now] = [await this.blobAt(base, file), await this.blobAt(tip, file)];
      if (before !== now && now !== blob) {
        throw new RollcallError('git', `${file} was changed on ${this.branch} of ${this.describe()} (now at ${tip}) while rollcall was committing it: read it again and retry`);
      }
      base = tip;
    }
  }

  /** A commit on `base` whose tree has `blob` at `file`; `base` itself when the file already is that blob. */
  private async commitOnto(base: string, file: string, blob: string, message: string, identity: Record<string, string>): Promise<string> {
    const existing = parseTreeEntries((await this.git(['ls-tree', '-z', '--full-tree', base, '--', file])).stdout)[0];
    if (existing?.oid === blob) return base;
    if (existing !== undefined && existing.mode !== '100644' && existing.mode !== '100755') {
      throw new RollcallError('invalid-input', `${file} is not a regular file in ${this.branch} of ${this.describe()}: commit a file path`);
    }
    // A private index, so neither the clone's nor a person's index is touched.
    const index = { GIT_INDEX_FILE: path.join(this.gitDir, `rollcall-index-${randomUUID()}`) };
    try {
      await this.git(['read-tree', base], { set: index });
      // --verbose: simple-git waits 50 ms after a git that prints nothing (see runGit).
      await this.git(['update-index', '--verbose', '--add', '--cacheinfo', `${existing?.mode ?? '100644'},${blob},${file}`], { set: index });
      const tree = (await this.git(['write-tree'], { set: index })).text.trim();
      return (await this.git(['commit-tree', tree, '-p', base, '-F', '-'], { input: message, set: identity })).text.trim();
    } finally {
      await rm(index.GIT_INDEX_FILE, { force: true });
    }
  }

  /** Moves a local branch from `from` to `to`; true when it had moved on in the meantime. */
  private async moveBranch(to: string, from: string): Promise<boolean> {
    const result = await this.git(['update-ref', '-m', 'rollcall: commit', this.tipRef, to, from], { okExitCodes: [0, 1, 128] });
    if (result.exitCode === 0) return false;
    if (/but expected|is at/.test(result.stderr)) return true;
    throw new RollcallError('git', `could not move ${this.branch} of ${this.describe()} to ${to}: ${result.stderr.trim()}`);
  }

  /** Pushes `sha` to the tracked branch; true when the remote had moved on (rejected, not a fast-forward). */
  private async push(sha: string): Promise<boolean> {
    const result = await this.git(['push', '--porcelain', 'origin', `${sha}:refs/heads/${this.branch}`], { okExitCodes: [0, 1, 128], timeoutMs: NETWORK_TIMEOUT_MS });
    const line = result.text.split('\n').find((entry) => entry.includes(`:refs/heads/${this.branch}\t`)) ?? '';
    if (result.exitCode === 0 && !line.startsWith('!')) {
      await this.git(['update-ref', this.tipRef, sha]);
      return false;
    }
    if (line.startsWith('!') && /non-fast-forward|fetch first/.test(line)) return true;
    const why = (line.split('\t')[2] ?? '') || result.stderr.trim();
    throw new RollcallError('git', `could not push to ${this.branch} of ${this.describe()}: ${why}; ${CREDENTIALS_HINT}`);
  }

  private async blobAt(commit: string, file: string): Promise<string | undefined> {
    return parseTreeEntries((await this.git(['ls-tree', '-z', '--full-tree', commit, '--', file])).stdout)[0]?.oid;
  }

  /** refs/notes/rollcall follows the remote's notes when that is a fast-forward; otherwise whoever writes notes merges them. */
  private async followRemoteNotes(remote: string, local: string | undefined): Promise<void> {
    if (local !== undefined && (local === remote || !(await this.isAncestor(local, remote)))) return;
    await this.git(['update-ref', NOTES_REF, remote, local ?? ''], { okExitCodes: [0, 1, 128] });
  }

  private async readRefs(): Promise<Map<string, string>> {
    const text = (await this.git(['for-each-ref', '--format=%(objectname) %(refname)', this.tipRef, NOTES_REF, REMOTE_NOTES_REF])).text;
    return new Map(
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [sha = '', ref = ''] = line.split(' ');
          return [ref, sha] as const;
        }),
    );
  }

  private async messageWithTrailers(commit: FileCommit): Promise<string> {
    if (commit.message.trim() === '') throw new RollcallError('invalid-input', 'the commit message is empty: say what the change is');
    const trailers = commit.trailers ?? [];
    for (const [key, value] of trailers) {
      if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(key)) throw new RollcallError('invalid-input', `trailer key "${key}" is not a trailer key: use letters, digits and dashes (e.g. Approved-by)`);
      if (/[\r\n]/.test(value)) throw new RollcallError('invalid-input', `the value of trailer ${key} spans lines: give it on one line`);
    }
    const message = commit.message.endsWith('\n') ? commit.message : `${commit.message}\n`;
    if (trailers.length === 0) return message;
    const args = ['interpret-trailers', '--no-divider', ...trailers.flatMap(([key, value]) => ['--trailer', `${key}: ${value.trim()}`])];
    return (await this.git(args, { input: message })).text;
  }

  private identity(author: FileCommit['author']): Record<string, string> {
    const committer = { name: this.env.GIT_COMMITTER_NAME || ROLLCALL_IDENTITY.name, email: this.env.GIT_COMMITTER_EMAIL || ROLLCALL_IDENTITY.email };
    const by = author ?? committer;
    const identity: Record<string, string> = {
      GIT_AUTHOR_NAME: by.name,
      GIT_AUTHOR_EMAIL: by.email,
      GIT_COMMITTER_NAME: committer.name,
      GIT_COMMITTER_EMAIL: committer.email,
    };
    if (this.env.GIT_COMMITTER_DATE) identity.GIT_COMMITTER_DATE = this.env.GIT_COMMITTER_DATE;
    return identity;
  }

  /** Paths (relative to root) under `pathspec` that differ from HEAD or are untracked. */
  private async changedPaths(pathspec: string): Promise<string[]> {
    const output = (await this.git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', pathspec])).text;
    const fields = output.split('\0');
    const paths = new Set<string>();
    for (let index = 0; index < fields.length; index += 1) {
      const field = fields[index] ?? '';
      if (field.length < 4) continue;
      paths.add(field.slice(3));
      // A rename or copy names its source in the next field.
      if (/^[RC]|^.[RC]/.test(field)) {
        index += 1;
        const source = fields[index];
        if (source) paths.add(source);
      }
    }
    return [...paths].sort();
  }

  /** The full sha of the commit `revision` names, or undefined when there is none. */
  private async resolveCommit(revision: string): Promise<string | undefined> {
    if (revision.startsWith('-')) return undefined;
    const result = await this.git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], { okExitCodes: [0, 1, 128] });
    return result.exitCode === 0 ? result.text.trim() : undefined;
  }

  private async commitOf(revision: string): Promise<string> {
    const sha = await this.resolveCommit(revision);
    if (sha === undefined) throw this.noSuchCommit(revision);
    return sha;
  }

  private noSuchCommit(revision: string): RollcallError {
    return new RollcallError('invalid-input', `${revision} is not a commit in ${this.describe()}${this.kind === 'remote' ? ' (as of the last fetch)' : ''}: check the revision`);
  }

  private describe(): string {
    return this.url ?? this.root;
  }

  private git(args: readonly string[], options: Omit<GitOptions, 'env'> & { okExitCodes?: readonly number[] } = {}): Promise<GitResult> {
    return runGit(this.root, args, { ...options, env: this.env });
  }
}

/** What opening a repository found out. */
interface OpenedRepository {
  kind: 'local' | 'remote';
  root: string;
  branch: string;
  path: string;
  env: NodeJS.ProcessEnv;
  bare: boolean;
  gitDir: string;
  url?: string;
}

async function openLocal(repo: string, branch: string | undefined, desiredPath: string, env: NodeJS.ProcessEnv): Promise<OpenedRepository> {
  const dir = path.resolve(repo);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new RollcallError('invalid-input', `${dir} does not exist or is not a folder: give --repo the path of a git repository or the URL of a remote`);
  }
  let bare: boolean;
  let root: string;
  let gitDir: string;
  try {
    const [isBare = '', absoluteGitDir = ''] = (await runGit(dir, ['rev-parse', '--is-bare-repository', '--absolute-git-dir'], { env })).text.split('\n');
    bare = isBare === 'true';
    gitDir = absoluteGitDir;
    root = bare ? gitDir : (await runGit(dir, ['rev-parse', '--show-toplevel'], { env })).text.trim();
  } catch (error) {
    throw new RollcallError('invalid-input', `${dir} is not in a git repository: give --repo the path of a clone (or a bare repository) of the desired state, or its URL`, { cause: error });
  }
  const tracked = branch ?? (await currentBranch(root, env));
  const tip = await runGit(root, ['rev-parse', '--verify', '--quiet', `refs/heads/${tracked}^{commit}`], { env, okExitCodes: [0, 1, 128] });
  if (tip.exitCode !== 0) {
    const branches = (await runGit(root, ['for-each-ref', '--format=%(refname:short)', 'refs/heads'], { env })).text.split('\n').filter(Boolean);
    const known = branches.length > 0 ? `it has ${branches.join(', ')}` : 'it has no commits yet: commit the desired state first';
    throw new RollcallError('invalid-input', `branch ${tracked} does not exist in ${root} (${known}): pass --branch with one of its branches`);
  }
  return { kind: 'local', root, branch: tracked, path: desiredPath, env, bare, gitDir };
}

async function currentBranch(root: string, env: NodeJS.ProcessEnv): Promise<string> {
  const head = (await runGit(root, ['symbolic-ref', '--quiet', 'HEAD'], { env, okExitCodes: [0, 1, 128] })).text.trim();
  if (!head.startsWith('refs/heads/')) {
    throw new RollcallError('invalid-input', `HEAD of ${root} is not on a branch (detached): pass --branch to name the branch rollcall follows`);
  }
  return head.slice('refs/heads/'.length);
}

async function openRemote(url: string, branch: string | undefined, desiredPath: string, workDir: string, env: NodeJS.ProcessEnv): Promise<OpenedRepository> {
  checkRemoteUrl(url);
  checkCredentials(env);
  const clone = path.resolve(workDir);
  const gitDir = await cloneOf(clone, url, env);
  if (gitDir !== undefined) {
    const tracked = branch ?? (await defaultBranch(clone, url, env));
    await fetchRemote(clone, tracked, env, url);
    return { kind: 'remote', root: clone, branch: tracked, path: desiredPath, env, bare: true, gitDir, url };
  }
  if (existsSync(clone) && (await readdir(clone)).length > 0) {
    throw new RollcallError('invalid-input', `${clone} is not empty and not a clone of ${url}: remove it, or give rollcall another state directory`);
  }
  // Cloned under a temporary name, so a clone that fails halfway is never mistaken for a good one.
  await mkdir(path.dirname(clone), { recursive: true });
  const temporary = `${clone}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await runGit(path.dirname(clone), ['init', '--bare', temporary], { env });
    const tracked = branch ?? (await defaultBranch(temporary, url, env));
    // origin fetches the tracked branch only, for people who run git in the clone too.
    await runGit(temporary, ['remote', 'add', '--track', tracked, 'origin', url], { env });
    await fetchRemote(temporary, tracked, env, url);
    if (existsSync(clone)) await rmdir(clone);
    await rename(temporary, clone);
    return { kind: 'remote', root: clone, branch: tracked, path: desiredPath, env, bare: true, gitDir: clone, url };
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** The git dir of `dir` when `dir` itself is a git repository whose origin is `url`. */
async function cloneOf(dir: string, url: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (!existsSync(dir) || !(await stat(dir)).isDirectory()) return undefined;
  const result = await runGit(dir, ['rev-parse', '--absolute-git-dir'], { env, okExitCodes: [0, 128] });
  const gitDir = result.text.trim();
  // A folder inside some other work tree (a state directory often is) is not a clone.
  if (result.exitCode !== 0 || (gitDir !== dir && gitDir !== path.join(dir, '.git'))) return undefined;
  const origin = await runGit(dir, ['config', '--get', 'remote.origin.url'], { env, okExitCodes: [0, 1] });
  const existing = origin.text.trim();
  if (existing === url) return gitDir;
  throw new RollcallError('invalid-input', `${dir} is a clone of ${existing || 'no remote'}, not of ${url}: remove it, or give rollcall another state directory`);
}

/** The branch the remote's HEAD names; `dir` is any folder to run git in. */
async function defaultBranch(dir: string, url: string, env: NodeJS.ProcessEnv): Promise<string> {
  let text: string;
  try {
    text = (await runGit(dir, ['ls-remote', '--symref', url, 'HEAD'], { env, timeoutMs: NETWORK_TIMEOUT_MS })).text;
  } catch (error) {
    throw new RollcallError('git', `could not read ${url}: ${gitMessage(error)}; ${CREDENTIALS_HINT}`, { cause: error });
  }
  const branch = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(text)?.[1];
  if (!branch) throw new RollcallError('invalid-input', `${url} names no default branch (it may be empty): pass --branch`);
  return branch;
}

/** Fetches the branch and rollcall's notes into `clone`; a missing branch is the user's to fix. */
async function fetchRemote(clone: string, branch: string, env: NodeJS.ProcessEnv, url: string): Promise<void> {
  // The notes refspec is a pattern, so a remote without notes is no error.
  const refspecs = [`+refs/heads/${branch}:refs/remotes/origin/${branch}`, `+${NOTES_REF}*:${REMOTE_NOTES_REF}*`];
  try {
    // --verbose: simple-git waits 50 ms after a git that prints nothing (see runGit).
    await runGit(clone, ['fetch', '--verbose', '--no-tags', 'origin', ...refspecs], { env, timeoutMs: NETWORK_TIMEOUT_MS });
  } catch (error) {
    if (/couldn't find remote ref/.test(gitMessage(error))) {
      throw new RollcallError('invalid-input', `branch ${branch} does not exist in ${url}: push it, or pass --branch with an existing branch`, { cause: error });
    }
    throw new RollcallError('git', `could not fetch ${branch} from ${url}: ${gitMessage(error)}; ${CREDENTIALS_HINT}`, { cause: error });
  }
}

function gitMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^git \S+ failed in \S+: /, '').split('\n').filter(Boolean).join(' ');
}

function isRemoteUrl(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\\:@\s]+@[^/\\:\s]+:/.test(repo);
}

/** Credentials go by environment only: never into a URL git would write into .git/config. */
function checkRemoteUrl(url: string): void {
  if (!/^https?:\/\//i.test(url)) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new RollcallError('invalid-input', `${url} is not a URL: give --repo a path or a URL`, { cause: error });
  }
  if (parsed.username || parsed.password) {
    throw new RollcallError('invalid-input', `the repository URL carries credentials: remove them from the URL and set ROLLCALL_GIT_USERNAME and ROLLCALL_GIT_TOKEN instead`);
  }
}

function checkCredentials(env: NodeJS.ProcessEnv): void {
  if (Boolean(env.ROLLCALL_GIT_USERNAME) !== Boolean(env.ROLLCALL_GIT_TOKEN)) {
    throw new RollcallError('invalid-input', 'only one of ROLLCALL_GIT_USERNAME and ROLLCALL_GIT_TOKEN is set: set both (or neither)');
  }
  const key = env.ROLLCALL_GIT_SSH_KEY;
  if (key && !existsSync(key)) throw new RollcallError('invalid-input', `ROLLCALL_GIT_SSH_KEY names ${key}, which does not exist: give the path of a private key`);
}

/** git's rules for a branch name, checked before the name goes into any git argument. */
function checkBranchName(branch: string): void {
  const bad =
    branch === '' ||
    branch.startsWith('-') ||
    branch.startsWith('/') ||
    branch.endsWith('/') ||
    branch.endsWith('.') ||
    branch.endsWith('.lock') ||
    branch.includes('..') ||
    branch.includes('//') ||
    branch.includes('@{') ||
    branch === '@' ||
    /[\s~^:?*[\\\x00-\x1f\x7f]/.test(branch) ||
    branch.split('/').some((part) => part.startsWith('.'));
  if (bad) throw new RollcallError('invalid-input', `"${branch}" is not a valid branch name: pass --branch the name of a branch`);
}

/** A path inside the repository, with forward slashes and no `..`; `.` for the root when allowed. */
function normalizeRelativePath(value: string, what: string, options: { allowRoot: boolean }): string {
  const normalized = path.posix.normalize(value.replaceAll('\\', '/')).replace(/\/+$/, '') || '.';
  const parts = normalized.split('/');
  if (path.posix.isAbsolute(normalized) || parts.includes('..') || parts.includes('.git') || (normalized === '.' && !options.allowRoot)) {
    throw new RollcallError('invalid-input', `${what} "${value}" is not a path inside the repository: give it relative to the repository's root, without ..`);
  }
  return normalized;
}

function parseRevisions(text: string): Revision[] {
  return text
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record !== '')
    .map((record) => {
      const [sha = '', time = '', author = '', subject = '', trailerBlock = ''] = record.split(FIELD);
      const trailers: Record<string, string[]> = {};
      for (const line of trailerBlock.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const key = line.slice(0, colon).trim();
        (trailers[key] ??= []).push(line.slice(colon + 1).trim());
      }
      const allowDeletions = parseAllowDeletions(
        Object.entries(trailers)
          .filter(([key]) => key.toLowerCase() === 'rollcall-allow-deletions')
          .flatMap(([, values]) => values),
      );
      return { sha, committedAt: Number(time), subject, author, trailers, ...(allowDeletions !== undefined ? { allowDeletions } : {}) };
    });
}

interface TreeEntry {
  mode: string;
  oid: string;
  path: string;
}

/** `git ls-tree -z` output: `<mode> <type> <oid>\t<path>\0` per entry. */
function parseTreeEntries(output: Buffer): TreeEntry[] {
  return output
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .map((entry) => {
      const tab = entry.indexOf('\t');
      const [mode = '', , oid = ''] = entry.slice(0, tab).split(' ');
      const file = entry.slice(tab + 1);
      // git refuses to check out such paths; a crafted tree could still hold them.
      if (file.split('/').some((part) => part === '..' || part === '.git') || file.startsWith('/')) {
        throw new RollcallError('invalid-input', `the repository holds a path git would not check out (${file}): remove it`);
      }
      return { mode, oid, path: file };
    });
}

/** `git cat-file --batch` output: `<oid> <type> <size>\n<content>\n` per object, in request order. */
function parseBatch(output: Buffer): Buffer[] {
  const contents: Buffer[] = [];
  let offset = 0;
  while (offset < output.length) {
    const newline = output.indexOf(0x0a, offset);
    if (newline < 0) break;
    const header = output.subarray(offset, newline).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] === 'missing' || !Number.isInteger(size)) throw new RollcallError('git', `git cat-file could not read object ${header[0] ?? ''}`);
    contents.push(output.subarray(newline + 1, newline + 1 + size));
    offset = newline + 1 + size + 1;
  }
  return contents;
}
