import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import { Policy } from '../desired/schema.js';
import { runGit, type GitOptions, type GitResult } from '../source/git.js';
import { applyRequest, type UserFileContext } from './apply-request.js';
import type { ApprovalEvent, PlatformPerson, Request } from './types.js';

/** How {@link commitApproval} reaches the repository. */
export interface CommitApprovalOptions {
  /** The tracked branch. Default: the branch HEAD is on. */
  branch?: string;
  /** The environment of git processes; GIT_COMMITTER_NAME / GIT_COMMITTER_EMAIL name rollcall. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Runs after the change is computed and before the refs move: where a test lets another writer
   * move the branch, to prove the compare-and-swap and the retry.
   */
  beforeUpdate?: (attempt: number) => Promise<void>;
  /**
   * Create only the approval branch, on the tip of the ref `base` (e.g. `refs/remotes/origin/main`),
   * and leave the tracked branch alone: a pull request merges it (the github provider). The trailer
   * is looked for in `base`'s history.
   */
  branchOnly?: { base: string };
  /** Where the warning goes when a checked-out work tree keeps a person's edit of the changed file. */
  logger?: Pick<Logger, 'warn'>;
}

/** What became of one approval. */
export type CommitApprovalResult =
  | {
      status: 'committed';
      /** The approval's commit, the tip of `branch`. */
      sha: string;
      /** `rollcall/<platform>-<approval id>`. */
      branch: string;
      /** The tracked branch's new tip: `sha` (fast-forward) or a merge commit of it; with `branchOnly`, the base's tip. */
      tip: string;
      /** `none`: `branchOnly`, the tracked branch did not move. */
      merge: 'fast-forward' | 'merge-commit' | 'none';
      /** The uid an onboarding allocated. */
      uid?: number;
    }
  /** This approval was committed before (its branch exists, or a commit carries its trailer): nothing done. */
  | { status: 'existing'; sha: string; branch: string }
  /** The request does not apply to the repository as it is (an existing empId, an unknown user…). */
  | { status: 'refused'; reason: string };

const ROLLCALL_IDENTITY = { name: 'Rollcall', email: 'rollcall@localhost' };
/** Attempts before giving up on a branch that keeps moving under us. */
const MAX_ATTEMPTS = 20;
const APPROVAL_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const KIND_TITLES: Record<Request['kind'], string> = { onboard: 'Onboard', offboard: 'Offboard', grant: 'Grant', revoke: 'Revoke' };

/** One chain of commits per repository in this process: the refs' compare-and-swap covers other processes. */
const queues = new Map<string, Promise<unknown>>();
/** The git directory of each repository committed to: where private index files go. */
const gitDirs = new Map<string, string>();
/** The top of each repository's work tree, '' for a bare one. */
const workTrees = new Map<string, string>();

/**
 * Commits one approved request into the repository at `repoDir`, exactly once per approval id:
 * when branch `rollcall/<platform>-<id>` exists or a commit of the tracked branch carries the
 * trailer `Approval: <platform>/<id>`, that commit is returned and nothing is written.
 *
 * Otherwise the change of `users/<empId>.yaml` is computed against the tracked branch's tip (uids
 * against every user file there), committed on `rollcall/<platform>-<id>` with the requester as
 * author and rollcall as committer, and merged into the tracked branch: both refs move in one
 * transaction that expects the tip read. A lost race recomputes against the new tip: the same file
 * content → a merge commit; a different one (a uid taken meanwhile) → the commit is made again.
 *
 * Objects and refs are written; a work tree that has the tracked branch checked out gets the changed
 * file in its index and work tree too, unless the person has edits of that file (kept, with a
 * warning to `logger`): the checkout does not look as if it reverted the approval. With
 * `branchOnly`, only the approval branch is created (the github provider's pull requests).
 *
 * @param desiredPath the desired-state folder inside the repository, e.g. `desired-state`
 */
export function commitApproval(
  repoDir: string,
  desiredPath: string,
  event: ApprovalEvent,
  request: Request,
  options: CommitApprovalOptions = {},
): Promise<CommitApprovalResult> {
  const key = path.resolve(repoDir);
  const run = (queues.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => commitNow(key, desiredPath, event, request, options));
  queues.set(key, run);
  void run.finally(() => {
    if (queues.get(key) === run) queues.delete(key);
  }).catch(() => undefined);
  return run;
}

/** `rollcall/<platform>-<approval id>`: the branch of one approval. */
export function approvalBranch(event: Pick<ApprovalEvent, 'platform' | 'approvalId'>): string {
  return `rollcall/${event.platform}-${event.approvalId}`;
}

/** The commit message: `<Request> <empId> (<login>)`, the form, then the trailers. */
export function approvalMessage(event: ApprovalEvent, request: Request, login: string): string {
  const subject = `${KIND_TITLES[request.kind]} ${request.empId} (${login})`;
  const form = Object.entries(event.form).map(([label, value]) => `${oneLine(label)}: ${oneLine(value)}`);
  const trailers = [
    `Approval: ${event.platform}/${event.approvalId}`,
    `Requested-by: ${person(event.platform, event.requester)}`,
    ...event.approvers.map((approver) => `Approved-by: ${person(event.platform, approver)}`),
    `Request: ${request.kind}`,
  ];
  return [subject, ...(form.length > 0 ? [form.join('\n')] : []), trailers.join('\n')].join('\n\n') + '\n';
}

async function commitNow(repoDir: string, desiredPath: string, event: ApprovalEvent, request: Request, options: CommitApprovalOptions): Promise<CommitApprovalResult> {
  if (!APPROVAL_ID.test(event.approvalId)) {
    throw new RollcallError('invalid-input', `approval id "${event.approvalId}" cannot name a branch: expected letters, digits, _ and - (up to 128)`);
  }
  const git = (args: readonly string[], more: Omit<GitOptions, 'env'> & { okExitCodes?: readonly number[] } = {}): Promise<GitResult> =>
    runGit(repoDir, args, { ...more, env: options.env ?? process.env });
  const branch = options.branch ?? (await git(['symbolic-ref', '--short', 'HEAD'])).text.trim();
  const trackedRef = options.branchOnly?.base ?? `refs/heads/${branch}`;
  const ownBranch = approvalBranch(event);
  const ownRef = `refs/heads/${ownBranch}`;
  const folder = desiredPath.replace(/^\.?\/+|\/+$/g, '').replace(/^\.$/, '');
  const file = `${folder ? `${folder}/` : ''}users/${request.empId}.yaml`;
  const gitDir = gitDirs.get(repoDir) ?? (await git(['rev-parse', '--absolute-git-dir'])).text.trim();
  gitDirs.set(repoDir, gitDir);
  const identity = commitIdentity(event, options.env ?? process.env);

  let previous: { commit: string; blob: string; base: string } | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const refs = await readRefs(git, [trackedRef, ownRef]);
    const existing = refs.get(ownRef) ?? (await findApprovalCommit(git, event, refs.get(trackedRef)));
    if (existing !== undefined) return { status: 'existing', sha: existing, branch: ownBranch };
    const tip = refs.get(trackedRef);
    if (tip === undefined) throw new RollcallError('invalid-input', `branch ${branch} does not exist in ${repoDir}: check the tracked branch`);

    const tree = await listTree(git, tip);
    const state = await readUsers(git, tree, tip, folder, file);
    const change = applyRequest(request, state.current, state.context);
    if (!change.ok) return { status: 'refused', reason: change.reason };
    const blob = (await git(['hash-object', '-w', '--no-filters', '--stdin'], { input: change.text })).text.trim();
    const message = approvalMessage(event, request, change.login);
    const newTree = await treeWith(git, gitDir, tree, file, blob);

    // After a lost race, the commit made last time still holds when the file would come out the same:
    // as it is when the tip did not move (a busy lock), merged into the tip when it did.
    const reuse = previous !== undefined && previous.blob === blob ? previous : undefined;
    const merging = reuse !== undefined && reuse.base !== tip && options.branchOnly === undefined;
    const commit = (reuse !== undefined && (reuse.base === tip || merging) ? reuse.commit : undefined) ?? (await git(['commit-tree', newTree, '-p', tip, '-F', '-'], { input: message, set: identity })).text.trim();
    const newTip = merging
      ? (await git(['commit-tree', newTree, '-p', tip, '-p', commit, '-F', '-'], { input: `Merge ${ownBranch}: ${message}`, set: identity })).text.trim()
      : commit;

    await options.beforeUpdate?.(attempt);
    const moved = await moveRefs(git, options.branchOnly ? [{ ref: ownRef, to: commit }] : [
      { ref: ownRef, to: commit },
      { ref: trackedRef, to: newTip, from: tip },
    ]);
    if (moved === true) {
      if (!options.branchOnly) {
        const before = tree.find((entry) => entry.path === file)?.oid;
        try {
          await syncWorkTree(git, (dir) => (args, more = {}) => runGit(dir, args, { ...more, env: options.env ?? process.env }), repoDir, gitDir, trackedRef, file, before, blob, change.text, options.logger);
        } catch (error) {
          // The commit stands (the refs moved); a checkout that could not follow (a git of its own held the index) is as after a push.
          options.logger?.warn({ err: error, file }, 'could not bring the checked-out work tree to the approval commit: git status shows the file as changed until it is checked out again');
        }
      }
      return {
        status: 'committed',
        sha: commit,
        branch: ownBranch,
        tip: options.branchOnly ? tip : newTip,
        merge: options.branchOnly ? 'none' : merging ? 'merge-commit' : 'fast-forward',
        ...(change.uid !== undefined ? { uid: change.uid } : {}),
      };
    }
    // Another writer won: the approval's own branch (read again above) or the tracked branch moved.
    if (reuse === undefined) previous = { commit, blob, base: tip };
    if (moved === 'busy') await sleep(5 + Math.floor(Math.random() * 20 * attempt));
  }
  throw new RollcallError('git', `could not commit approval ${event.platform}/${event.approvalId} to ${branch} of ${repoDir}: the branch kept moving (${MAX_ATTEMPTS} attempts); it is retried with the next delivery`);
}

/**
 * After the tracked branch moved: when this repository has a work tree with that branch checked out,
 * brings `file` in its index and work tree from `before` to `after` (text `text`; the only path that changed), so
 * the checkout does not look as if it reverted the approval. A person's uncommitted edit of that
 * same file (staged or not) is left alone, with a warning; other files are never touched.
 */
async function syncWorkTree(git: Git, gitIn: (dir: string) => Git, repoDir: string, gitDir: string, trackedRef: string, file: string, before: string | undefined, after: string, text: string, logger: Pick<Logger, 'warn'> | undefined): Promise<void> {
  let root = workTrees.get(repoDir);
  if (root === undefined) {
    const probe = await git(['rev-parse', '--is-bare-repository', '--show-toplevel'], { okExitCodes: [0, 128] });
    const [bare = '', top = ''] = probe.text.split('\n');
    root = probe.exitCode === 0 && bare.trim() === 'false' ? top.trim() : '';
    workTrees.set(repoDir, root);
  }
  if (root === '') return;
  // HEAD read from its file (this work tree's own git dir): a git process per commit saved on the hot path.
  const head = await readFile(path.join(gitDir, 'HEAD'), 'utf8').catch(() => '');
  if (head.trim() !== `ref: ${trackedRef}`) return;
  // From the top of the work tree, where the paths of the tree are the paths of files. One status
  // call says what the index holds at `file` (hI) and whether the work tree differs from it (Y):
  // HEAD is the new tip already, so a clean path shows as staged back to the old tip's version.
  const status = (await gitIn(root)(['status', '--porcelain=v2', '-z', '--untracked-files=all', '--ignored=no', '--', `:(literal)${file}`])).text;
  const entries = status.split('\0').filter(Boolean);
  const tracked = entries.find((entry) => entry.startsWith('1 '));
  if (tracked === undefined && entries.length === 0) return; // index and work tree hold the new version already
  const fields = tracked?.split(' ') ?? [];
  const indexOid = /^0+$/.test(fields[7] ?? '') ? undefined : fields[7];
  const indexClean = tracked !== undefined && indexOid === before && !entries.some((entry) => entry.startsWith('u '));
  const workTreeClean = indexClean && entries.length === 1 && fields[1]?.[1] === '.';
  if (workTreeClean) {
    // The file is the blob's text as is (user files have no checkout filters).
    const destination = path.join(root, file);
    await mkdir(path.dirname(destination), { recursive: true });
    await writeFile(destination, text);
  } else {
    logger?.warn({ file, workTree: root }, 'the checked-out work tree has uncommitted changes to the file an approval changed: left as they are; git diff shows them against the new commit');
  }
  // An index that held the old version takes the new one, so a person's unstaged edit shows against the new commit.
  if (indexClean) await gitIn(root)(['update-index', '--verbose', '--add', '--cacheinfo', `100644,${after},${file}`]);
}

type Git = (args: readonly string[], more?: Omit<GitOptions, 'env'> & { okExitCodes?: readonly number[] }) => Promise<GitResult>;

async function readRefs(git: Git, refs: readonly string[]): Promise<Map<string, string>> {
  const text = (await git(['for-each-ref', '--format=%(objectname) %(refname)', ...refs])).text;
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [sha = '', ref = ''] = line.split(' ');
    if (refs.includes(ref)) found.set(ref, sha);
  }
  return found;
}

/** The commit reachable from `tip` whose `Approval` trailer names this approval. */
async function findApprovalCommit(git: Git, event: ApprovalEvent, tip: string | undefined): Promise<string | undefined> {
  if (tip === undefined) return undefined;
  const wanted = `${event.platform}/${event.approvalId}`;
  // --no-merges: a merge commit repeats the trailers; the approval's own commit is the one to return.
  const grep = ['--no-merges', '--fixed-strings', `--grep=Approval: ${wanted}`];
  // The count first: it prints "0" on the common path, where a silent `git log` would cost 50 ms (see runGit).
  if ((await git(['rev-list', '--count', ...grep, tip, '--'])).text.trim() === '0') return undefined;
  const text = (await git(['log', ...grep, '--format=%H%x1f%(trailers:key=Approval,valueonly,separator=%x1f)%x1e', tip, '--'])).text;
  for (const record of text.split('\x1e')) {
    const [sha = '', ...values] = record.trim().split('\x1f');
    if (values.some((value) => value.trim() === wanted)) return sha;
  }
  return undefined;
}

/** One entry of `git ls-tree -r -z`, and the line it came from (what `update-index --index-info` reads back). */
interface TreeEntry {
  type: string;
  oid: string;
  path: string;
  line: string;
}

/** Every file of the tree of `tip`. */
async function listTree(git: Git, tip: string): Promise<TreeEntry[]> {
  const listing = (await git(['ls-tree', '-r', '-z', '--full-tree', tip])).text;
  return listing
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t');
      const [, type = '', oid = ''] = line.slice(0, tab).split(' ');
      return { type, oid, path: line.slice(tab + 1), line };
    });
}

/** The user file in `tree`, and the uids, logins and uid range of the whole users folder there. */
async function readUsers(git: Git, tree: readonly TreeEntry[], tip: string, folder: string, file: string): Promise<{ current: string | undefined; context: UserFileContext }> {
  const prefix = folder ? `${folder}/` : '';
  const fleetPath = `${prefix}fleet.yaml`;
  const entries = tree.filter((entry) => entry.type === 'blob' && (entry.path === fleetPath || (entry.path.startsWith(`${prefix}users/`) && entry.path.endsWith('.yaml'))));
  const contents = entries.length === 0 ? [] : readBatch((await git(['cat-file', '--batch'], { input: entries.map((entry) => entry.oid).join('\n') + '\n' })).stdout);
  const texts = new Map(entries.map((entry, index) => [entry.path, contents[index] ?? ''] as const));

  const fleetText = texts.get(fleetPath);
  const range = Policy.shape.uidRange.safeParse(safeParse(fleetText)?.policy?.uidRange);
  if (fleetText === undefined || !range.success) {
    throw new RollcallError('invalid-input', `${fleetPath} at ${tip} has no valid policy.uidRange: rollcall allocates uids from it; fix fleet.yaml`);
  }
  const usedUids = new Set<number>();
  const logins = new Map<string, string>();
  const platformIds = new Map<string, string>();
  for (const [name, text] of texts) {
    if (name === fleetPath) continue;
    const record = safeParse(text);
    const empId = String(record?.empId ?? path.basename(name, '.yaml'));
    if (Number.isInteger(record?.uid)) usedUids.add(record!.uid as number);
    if (typeof record?.login === 'string') logins.set(record.login, empId);
    const ids = record?.ids;
    if (typeof ids === 'object' && ids !== null) {
      for (const [platform, id] of Object.entries(ids)) if (typeof id === 'string' || typeof id === 'number') platformIds.set(`${platform}/${String(id)}`, empId);
    }
  }
  return { current: texts.get(file), context: { uidRange: range.data, usedUids, logins, platformIds } };
}

/** The tree `base` lists, with `blob` at `file`, built in a private index (never the repository's own). */
async function treeWith(git: Git, gitDir: string, base: readonly TreeEntry[], file: string, blob: string): Promise<string> {
  const index = { GIT_INDEX_FILE: path.join(gitDir, `rollcall-index-${randomUUID()}`) };
  const lines = [...base.filter((entry) => entry.path !== file).map((entry) => entry.line), `100644 blob ${blob}\t${file}`];
  try {
    // --verbose: simple-git waits 50 ms after a git that prints nothing (see runGit).
    await git(['update-index', '--verbose', '-z', '--index-info'], { input: lines.join('\0') + '\0', set: index });
    return (await git(['write-tree'], { set: index })).text.trim();
  } finally {
    await rm(index.GIT_INDEX_FILE, { force: true });
  }
}

/**
 * Moves refs in one transaction: each `from` is the value expected (absent: the ref must not exist
 * yet). true when all moved; 'lost' when a ref was not as expected; 'busy' when another git held a
 * ref's lock.
 */
async function moveRefs(git: Git, moves: readonly { ref: string; to: string; from?: string }[]): Promise<true | 'lost' | 'busy'> {
  const lines = ['start', ...moves.map((move) => (move.from === undefined ? `create ${move.ref} ${move.to}` : `update ${move.ref} ${move.to} ${move.from}`)), 'prepare', 'commit', ''];
  // Verbs of a transaction print "<verb>: ok", so simple-git does not wait after a silent git.
  const result = await git(['update-ref', '-m', 'rollcall: approval', '--stdin'], { input: lines.join('\n'), okExitCodes: [0, 128] });
  if (result.exitCode === 0) return true;
  if (/is at [0-9a-f]+ but expected|reference already exists|but expected|unable to resolve reference/.test(result.stderr)) return 'lost';
  if (/File exists|Unable to create .*\.lock/.test(result.stderr)) return 'busy';
  throw new RollcallError('git', `could not move ${moves.map((move) => move.ref).join(' and ')}: ${result.stderr.trim()}`);
}

/** `git cat-file --batch` output: `<oid> <type> <size>\n<content>\n` per object, in request order. */
function readBatch(output: Buffer): string[] {
  const contents: string[] = [];
  let offset = 0;
  while (offset < output.length) {
    const newline = output.indexOf(0x0a, offset);
    if (newline < 0) break;
    const size = Number(output.subarray(offset, newline).toString('utf8').split(' ')[2]);
    const start = newline + 1;
    contents.push(Number.isFinite(size) ? output.subarray(start, start + size).toString('utf8') : '');
    offset = start + (Number.isFinite(size) ? size : 0) + 1;
  }
  return contents;
}

/** A YAML mapping as a plain object, or undefined when the text is not one. */
function safeParse(text: string | undefined): Record<string, unknown> & { policy?: { uidRange?: unknown } } | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function commitIdentity(event: ApprovalEvent, env: NodeJS.ProcessEnv): Record<string, string> {
  const identity: Record<string, string> = {
    GIT_AUTHOR_NAME: oneLine(event.requester.name ?? event.requester.id).replace(/[<>]/g, '') || event.requester.id,
    GIT_AUTHOR_EMAIL: `${event.requester.id.replace(/[^A-Za-z0-9_.+-]/g, '_')}@${event.platform}`,
    GIT_COMMITTER_NAME: env.GIT_COMMITTER_NAME || ROLLCALL_IDENTITY.name,
    GIT_COMMITTER_EMAIL: env.GIT_COMMITTER_EMAIL || ROLLCALL_IDENTITY.email,
  };
  const finished = Date.parse(event.finishedAt);
  // The author date is when the approval finished: redeliveries make the same commit.
  if (Number.isFinite(finished)) identity.GIT_AUTHOR_DATE = `@${Math.floor(finished / 1000)} +0000`;
  if (env.GIT_COMMITTER_DATE) identity.GIT_COMMITTER_DATE = env.GIT_COMMITTER_DATE;
  return identity;
}

/** `Name <platform:id>`, as the Requested-by and Approved-by trailers write a person. */
function person(platform: string, who: PlatformPerson): string {
  const name = oneLine(who.name ?? '').replace(/[<>]/g, '');
  return `${name || oneLine(who.id)} <${platform}:${oneLine(who.id).replace(/[<>]/g, '')}>`;
}

/** Line breaks and control characters folded to spaces: a value that cannot break the message's layout. */
function oneLine(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}
