import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import { readBlobs, runGit } from '../source/git.js';
import { applyRequest } from './apply-request.js';
import { enqueueApproval } from './approval-committer.js';
import { approvalBranch, approvalIdentity, approvalKey, approvalMessage, checkApprovalId } from './approval-message.js';
import { ApprovalTrailers } from './approval-trailers.js';
import { importCommits, type Git } from './fast-import.js';
import { moveRefs, readRefs } from './git-refs.js';
import type { ApprovalEvent, Request } from './types.js';
import { UserFiles } from './user-files.js';

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
interface BranchOnlyRepository {
  users: UserFiles;
  /** Base ref → the trailers of its history. */
  trailers: Map<string, ApprovalTrailers>;
}
/** What `branchOnly` commits keep of each repository between approvals. */
const repositories = new Map<string, Promise<BranchOnlyRepository>>();

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
  const git: Git = (args, more = {}) => runGit(repoDir, args, { ...more, env });
  const trackedRef = branchOnly.base;
  const ownBranch = approvalBranch(event);
  const ownRef = `refs/heads/${ownBranch}`;
  const folder = desiredPath.replace(/^\.?\/+|\/+$/g, '').replace(/^\.$/, '');
  const file = `${folder ? `${folder}/` : ''}users/${request.empId}.yaml`;
  const repository = await (repositories.get(repoDir) ?? probe(repoDir, git));
  let trailerIndex = repository.trailers.get(trackedRef);
  if (trailerIndex === undefined) repository.trailers.set(trackedRef, (trailerIndex = new ApprovalTrailers()));
  const identity = approvalIdentity(event, env);

  let previous: { commit: string; blob: string; base: string } | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const refs = await readRefs(git, [trackedRef, ownRef]);
    const tip = refs.get(trackedRef);
    const existing = refs.get(ownRef) ?? (tip === undefined ? undefined : (await trailerIndex.at(git, tip)).get(approvalKey(event)));
    if (existing !== undefined) return { status: 'existing', sha: existing, branch: ownBranch };
    if (tip === undefined) throw new RollcallError('invalid-input', `${trackedRef} does not exist in ${repoDir}: check the tracked branch`);

    const users = await repository.users.at(git, (oids) => readBlobs(repoDir, oids, { env }), tip, folder);
    const change = applyRequest(request, users.file(file)?.text, users.context());
    if (!change.ok) return { status: 'refused', reason: change.reason };
    const blob = repository.users.blobOid(change.text);
    // After a lost race on the approval's branch lock, the commit made last time still holds when nothing moved.
    const reuse = previous !== undefined && previous.blob === blob && previous.base === tip ? previous.commit : undefined;
    const [commit = ''] = reuse !== undefined ? [reuse] : await importCommits(git, [{ ...identity, message: approvalMessage(event, request, change.login), parents: [tip], files: [{ path: file, text: change.text }] }]);

    await options.beforeUpdate?.(attempt);
    const moved = await moveRefs(git, [{ ref: ownRef, to: commit }]);
    if (moved === true) return { status: 'committed', sha: commit, branch: ownBranch, tip, merge: 'none', ...(change.uid !== undefined ? { uid: change.uid } : {}) };
    previous = { commit, blob, base: tip };
    if (moved === 'busy') await sleep(5 + Math.floor(Math.random() * 20 * attempt));
  }
  throw new RollcallError('git', `could not commit approval ${approvalKey(event)} on ${trackedRef} of ${repoDir}: the branch kept moving (${MAX_ATTEMPTS} attempts); it is retried with the next delivery`);
}

/** The users folder (parsed once per blob) and the base refs' `Approval:` trailers of one repository, kept across approvals. */
function probe(repoDir: string, git: Git): Promise<BranchOnlyRepository> {
  const repository = git(['rev-parse', '--show-object-format']).then(({ text }) => ({
    users: new UserFiles(text.trim() === 'sha256' ? 'sha256' : 'sha1'),
    trailers: new Map<string, ApprovalTrailers>(),
  }));
  repositories.set(repoDir, repository);
  // A failed probe is tried again by the next approval.
  repository.catch(() => repositories.delete(repoDir));
  return repository;
}
