import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import { Policy } from '../desired/schema.js';
import { runGit, type GitOptions, type GitResult } from '../source/git.js';
import { applyRequest, type UserFileContext } from './apply-request.js';
import { enqueueApproval, moveRefs } from './approval-committer.js';
import { approvalBranch, approvalIdentity, approvalMessage, checkApprovalId, identityEnvironment } from './approval-message.js';
import type { ApprovalEvent, Request } from './types.js';

export { approvalBranch, approvalMessage } from './approval-message.js';

/** How {@link commitApproval} reaches the repository. */
export interface CommitApprovalOptions {
  /** The tracked branch. Default: the branch HEAD is on. */
  branch?: string;
  /**
   * The environment of git processes; GIT_COMMITTER_NAME / GIT_COMMITTER_EMAIL name rollcall
   * (GIT_COMMITTER_DATE dates its commits). Default `process.env`. Approvals join one round only
   * with calls that pass the same `env` object, `branch` and desired-state folder.
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Runs after the change is computed and before the refs move: where a test lets another writer
   * move the branch, to prove the compare-and-swap and the retry. In a round of several approvals,
   * each distinct hook runs once per attempt of the round.
   */
  beforeUpdate?: (attempt: number) => Promise<void>;
  /**
   * Create only the approval branch, on the tip of the ref `base` (e.g. `refs/remotes/origin/main`),
   * and leave the tracked branch alone: a pull request merges it (the github provider). The trailer
   * is looked for in `base`'s history.
   */
  branchOnly?: { base: string };
  /** Where the warning goes when a checked-out work tree keeps a person's edit of the changed file (or cannot follow). */
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
      /**
       * The tracked branch's new tip after the approval's round: `sha`, or a later approval's commit of
       * the same round (each on the one before, `sha` on its first-parent history), or a merge commit
       * of them; with `branchOnly`, the base's tip.
       */
      tip: string;
      /** `fast-forward`: the round's commits sit on the tip read; `none`: `branchOnly`, the tracked branch did not move. */
      merge: 'fast-forward' | 'merge-commit' | 'none';
      /** The uid an onboarding allocated. */
      uid?: number;
    }
  /** This approval was committed before (its branch exists, or a commit carries its trailer): nothing done. */
  | { status: 'existing'; sha: string; branch: string }
  /** The request does not apply to the repository as it is (an existing empId, an unknown user…). */
  | { status: 'refused'; reason: string };

/** Attempts before giving up on a base that keeps moving under us. */
const MAX_ATTEMPTS = 20;

/** One chain of approval-branch commits (`branchOnly`) per repository in this process: the refs' compare-and-swap covers other processes. */
const queues = new Map<string, Promise<unknown>>();
/** The git directory of each repository committed to: where private index files go. */
const gitDirs = new Map<string, string>();

/**
 * Commits one approved request into the repository at `repoDir`, exactly once per approval id:
 * when branch `rollcall/<platform>-<id>` exists or a commit of the tracked branch carries the
 * trailer `Approval: <platform>/<id>`, that commit is returned and nothing is written.
 *
 * Otherwise the change of `users/<empId>.yaml` is computed against the tracked branch's tip (uids
 * against every user file there), committed on `rollcall/<platform>-<id>` with the requester as
 * author and rollcall as committer, and the tracked branch moves to it: all refs move in one
 * transaction that expects the tip read. A lost race recomputes against the new tip: the same file
 * content → a merge commit; a different one (a uid taken meanwhile) → the commit is made again.
 *
 * Approvals are committed in rounds (group commit, see {@link ApprovalCommitter}): calls that
 * arrive while a round is being committed join the next one, where each approval is applied after
 * the ones before it and gets a commit of its own, chained on the one before; the tracked branch
 * moves once per round, to the last of them (`tip`). A round costs a few git processes whatever
 * its size, so a burst of approvals commits about as fast as plain `git commit`s would.
 *
 * Objects and refs are written; a work tree that has the tracked branch checked out gets the changed
 * files in its index and work tree too, unless the person has edits of a file (kept, with a
 * warning to `logger`): the checkout does not look as if it reverted the approval. With
 * `branchOnly`, only the approval branch is created (the github provider's pull requests), one
 * approval at a time.
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
  if (options.branchOnly === undefined) return enqueueApproval(repoDir, desiredPath, event, request, options);
  const key = path.resolve(repoDir);
  const run = (queues.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => commitBranchOnly(key, desiredPath, event, request, options, options.branchOnly!));
  queues.set(key, run);
  void run.finally(() => {
    if (queues.get(key) === run) queues.delete(key);
  }).catch(() => undefined);
  return run;
}

/** One approval's commit on its own branch, on the tip of `branchOnly.base`; no other ref moves. */
async function commitBranchOnly(repoDir: string, desiredPath: string, event: ApprovalEvent, request: Request, options: CommitApprovalOptions, branchOnly: { base: string }): Promise<CommitApprovalResult> {
  checkApprovalId(event);
  const env = options.env ?? process.env;
  const git = (args: readonly string[], more: Omit<GitOptions, 'env'> & { okExitCodes?: readonly number[] } = {}): Promise<GitResult> => runGit(repoDir, args, { ...more, env });
  const trackedRef = branchOnly.base;
  const ownBranch = approvalBranch(event);
  const ownRef = `refs/heads/${ownBranch}`;
  const folder = desiredPath.replace(/^\.?\/+|\/+$/g, '').replace(/^\.$/, '');
  const file = `${folder ? `${folder}/` : ''}users/${request.empId}.yaml`;
  const gitDir = gitDirs.get(repoDir) ?? (await git(['rev-parse', '--absolute-git-dir'])).text.trim();
  gitDirs.set(repoDir, gitDir);
  const identity = identityEnvironment(approvalIdentity(event, env));

  let previous: { commit: string; blob: string; base: string } | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const refs = await readRefs(git, [trackedRef, ownRef]);
    const existing = refs.get(ownRef) ?? (await findApprovalCommit(git, event, refs.get(trackedRef)));
    if (existing !== undefined) return { status: 'existing', sha: existing, branch: ownBranch };
    const tip = refs.get(trackedRef);
    if (tip === undefined) throw new RollcallError('invalid-input', `${trackedRef} does not exist in ${repoDir}: check the tracked branch`);

    const tree = await listTree(git, tip);
    const state = await readUsers(git, tree, tip, folder, file);
    const change = applyRequest(request, state.current, state.context);
    if (!change.ok) return { status: 'refused', reason: change.reason };
    const blob = (await git(['hash-object', '-w', '--no-filters', '--stdin'], { input: change.text })).text.trim();
    const message = approvalMessage(event, request, change.login);
    // After a lost race on the approval's branch lock, the commit made last time still holds when nothing moved.
    const reuse = previous !== undefined && previous.blob === blob && previous.base === tip ? previous.commit : undefined;
    const commit = reuse ?? (await git(['commit-tree', await treeWith(git, gitDir, tree, file, blob), '-p', tip, '-F', '-'], { input: message, set: identity })).text.trim();

    await options.beforeUpdate?.(attempt);
    const moved = await moveRefs(git, [{ ref: ownRef, to: commit }]);
    if (moved === true) return { status: 'committed', sha: commit, branch: ownBranch, tip, merge: 'none', ...(change.uid !== undefined ? { uid: change.uid } : {}) };
    previous = { commit, blob, base: tip };
    if (moved === 'busy') await sleep(5 + Math.floor(Math.random() * 20 * attempt));
  }
  throw new RollcallError('git', `could not commit approval ${event.platform}/${event.approvalId} on ${trackedRef} of ${repoDir}: the branch kept moving (${MAX_ATTEMPTS} attempts); it is retried with the next delivery`);
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
