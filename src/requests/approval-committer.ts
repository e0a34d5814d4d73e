import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import { readBlobs, runGit } from '../source/git.js';
import { applyRequest } from './apply-request.js';
import { approvalBranch, approvalIdentity, approvalKey, approvalMessage, checkApprovalId, committerIdent, type ApprovalIdentity } from './approval-message.js';
import { ApprovalTrailers } from './approval-trailers.js';
import type { CommitApprovalOptions, CommitApprovalResult } from './commit-request.js';
import { importCommits, type Git, type ImportCommit } from './fast-import.js';
import { moveRefs, readRefs } from './git-refs.js';
import { bringWorkTreeForward } from './sync-work-tree.js';
import { addToContext, describeUserFile, UserFiles, type UserFile } from './user-files.js';
import type { ApprovalEvent, Request } from './types.js';

/** One approval waiting for a round. */
export interface QueuedApproval {
  event: ApprovalEvent;
  request: Request;
}

/** What one round made of its approvals, in order, and the tracked branch's tip after it. */
export interface RoundResult {
  results: CommitApprovalResult[];
  /** The tracked branch's tip when the round ended (moved by it, or as it was read). */
  tip: string;
}

/** The most approvals one round commits; the rest wait for the next. */
export const MAX_ROUND = 500;
/** Attempts of one round before giving up on a branch that keeps moving under it. */
const MAX_ATTEMPTS = 20;

/** How a round reaches the repository: shared by every approval of the round. */
interface RoundSettings {
  folder: string;
  branch: string | undefined;
  env: NodeJS.ProcessEnv;
}

interface Pending {
  approvals: QueuedApproval[];
  /** The caller's own options (beforeUpdate, logger), one per approval. */
  options: CommitApprovalOptions;
  settings: RoundSettings;
  /** A group that is one round of its own (the local provider's push rounds); otherwise it joins others. */
  exclusive: boolean;
  resolve: (outcome: RoundResult) => void;
  reject: (error: unknown) => void;
}

/** One committer per repository in this process: rounds one after another; the refs' compare-and-swap covers other processes. */
const committers = new Map<string, ApprovalCommitter>();

/**
 * Joins `event` to the next round of the repository at `repoDir` (see {@link ApprovalCommitter})
 * and resolves with what became of it.
 */
export async function enqueueApproval(repoDir: string, desiredPath: string, event: ApprovalEvent, request: Request, options: CommitApprovalOptions = {}): Promise<CommitApprovalResult> {
  checkApprovalId(event);
  const outcome = await committerFor(repoDir).enqueue([{ event, request }], options, settingsOf(desiredPath, options), false);
  return outcome.results[0]!;
}

/**
 * Commits `approvals` in one round of their own (no other caller's approvals join it), for a caller
 * that acts on the round as a whole: the local provider pushes each round once. Every approval id
 * is checked before anything is written.
 */
export async function commitApprovals(repoDir: string, desiredPath: string, approvals: readonly QueuedApproval[], options: CommitApprovalOptions = {}): Promise<RoundResult> {
  for (const { event } of approvals) checkApprovalId(event);
  return await committerFor(repoDir).enqueue([...approvals], options, settingsOf(desiredPath, options), true);
}

function committerFor(repoDir: string): ApprovalCommitter {
  const key = path.resolve(repoDir);
  let committer = committers.get(key);
  if (committer === undefined) {
    committer = new ApprovalCommitter(key);
    committers.set(key, committer);
  }
  return committer;
}

function settingsOf(desiredPath: string, options: CommitApprovalOptions): RoundSettings {
  return { folder: desiredPath.replace(/^\.?\/+|\/+$/g, '').replace(/^\.$/, ''), branch: options.branch, env: options.env ?? process.env };
}

/**
 * Group commit, like a database's: approvals that arrive while a round is being committed wait,
 * and the next round takes all of them (up to {@link MAX_ROUND}) at once. A round costs a handful
 * of git processes whatever its size:
 * - one `for-each-ref` (the tracked tip and every `rollcall/*` branch) and the `Approval:` trailers
 *   from a per-repository index brought forward incrementally ({@link ApprovalTrailers}): exactly
 *   once per approval id costs no process per approval;
 * - the users folder: one `ls-tree` (none after a round of its own) and one `cat-file --batch` of
 *   the blobs not seen before, parsed once per blob ({@link UserFiles});
 * - each approval applied in order against the state the earlier ones left (uids and logins
 *   allocated within the round never collide; a refused one does not stop the others; the same
 *   approval twice → one commit, the second `existing`);
 * - one `git fast-import` writing every blob, tree and commit (each approval its own commit, the
 *   first on the tip, each next on the one before; author the requester, committer rollcall);
 * - one `update-ref --stdin` transaction creating each approval branch and moving the tracked
 *   branch from the tip read (compare-and-swap). A lost race redoes the round from the new tip;
 *   when every file comes out the same, the commits made stand and are merged into the new tip;
 * - with the tracked branch checked out, one `git status` and one `update-index` bring the changed
 *   files of the work tree forward ({@link bringWorkTreeForward}).
 */
export class ApprovalCommitter {
  #queue: Pending[] = [];
  #running = false;
  #repository: Promise<{ gitDir: string; objectFormat: 'sha1' | 'sha256' }> | undefined;
  /** The top of the work tree, '' for a bare repository. */
  #workTree: string | undefined;
  #trailers = new Map<string, ApprovalTrailers>();
  #users: UserFiles | undefined;

  constructor(private readonly repoDir: string) {}

  enqueue(approvals: QueuedApproval[], options: CommitApprovalOptions, settings: RoundSettings, exclusive: boolean): Promise<RoundResult> {
    return new Promise<RoundResult>((resolve, reject) => {
      this.#queue.push({ approvals, options, settings, exclusive, resolve, reject });
      if (this.#running) return;
      this.#running = true;
      // The first round starts on the next turn of the event loop: a burst that arrives together is one round.
      setImmediate(() => void this.#drain());
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const round = this.#take();
        try {
          const outcome = await this.#round(round.flatMap((pending) => pending.approvals.map((approval) => ({ ...approval, options: pending.options }))), round[0]!.settings);
          let offset = 0;
          for (const pending of round) {
            pending.resolve({ results: outcome.results.slice(offset, offset + pending.approvals.length), tip: outcome.tip });
            offset += pending.approvals.length;
          }
        } catch (error) {
          for (const pending of round) pending.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** The next round: an exclusive group alone, or the queued single approvals that share the first one's settings. */
  #take(): Pending[] {
    const first = this.#queue[0]!;
    if (first.exclusive) return [this.#queue.shift()!];
    const round: Pending[] = [];
    let size = 0;
    this.#queue = this.#queue.filter((pending) => {
      const joins = !pending.exclusive && size < MAX_ROUND && sameSettings(pending.settings, first.settings);
      if (joins) {
        round.push(pending);
        size += pending.approvals.length;
      }
      return !joins;
    });
    return round;
  }

  async #round(approvals: readonly (QueuedApproval & { options: CommitApprovalOptions })[], settings: RoundSettings): Promise<RoundResult> {
    const { env, folder } = settings;
    const git: Git = (args, more = {}) => runGit(this.repoDir, args, { ...more, env });
    const read = (oids: readonly string[]) => readBlobs(this.repoDir, oids, { env });
    const { gitDir, objectFormat } = await (this.#repository ??= this.#probe(git));
    const users = (this.#users ??= new UserFiles(objectFormat));
    const prefix = folder ? `${folder}/` : '';
    const now = new Date();
    const identities = approvals.map(({ event }) => approvalIdentity(event, env, now));

    let previous: { base: string; chainTip: string; signature: string; shas: string[] } | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const branch = settings.branch ?? (await this.#headBranch(git, gitDir));
      const trackedRef = `refs/heads/${branch}`;
      // The tracked branch's tip and every approval branch, from one `for-each-ref`.
      const refs = await readRefs(git, [trackedRef, 'refs/heads/rollcall/']);
      const tip = refs.get(trackedRef);
      if (tip === undefined) throw new RollcallError('invalid-input', `branch ${branch} does not exist in ${this.repoDir}: check the tracked branch`);
      let trailerIndex = this.#trailers.get(trackedRef);
      if (trailerIndex === undefined) this.#trailers.set(trackedRef, (trailerIndex = new ApprovalTrailers()));
      const trailers = await trailerIndex.at(git, tip);
      const at = await users.at(git, read, tip, folder);
      const { usedUids, logins, platformIds, uidRange } = at.context();

      // Each approval against the state the earlier ones of this round left.
      const written = new Map<string, { oid: string; file: UserFile }>();
      const commits: { index: number; key: string; own: string; file: string; oid: string; text: string; message: string; uid?: number }[] = [];
      const inRound = new Map<string, number>();
      const outcomes: (CommitApprovalResult | { duplicateOf: number })[] = approvals.map(({ event, request }, index) => {
        const key = approvalKey(event);
        const own = approvalBranch(event);
        const done = refs.get(`refs/heads/${own}`) ?? trailers.get(key);
        if (done !== undefined) return { status: 'existing', sha: done, branch: own };
        const earlier = inRound.get(key);
        if (earlier !== undefined) return { duplicateOf: earlier };
        const file = `${prefix}users/${request.empId}.yaml`;
        const current = written.has(file) ? written.get(file)!.file.text : at.file(file)?.text;
        const change = applyRequest(request, current, { uidRange, usedUids, logins, platformIds });
        if (!change.ok) return { status: 'refused', reason: change.reason };
        const described = describeUserFile(file, change.text);
        addToContext(described, usedUids, logins, platformIds);
        const oid = users.blobOid(change.text);
        written.set(file, { oid, file: described });
        inRound.set(key, commits.length);
        commits.push({ index, key, own, file, oid, text: change.text, message: approvalMessage(event, request, change.login), ...(change.uid !== undefined ? { uid: change.uid } : {}) });
        return { duplicateOf: -1 };
      });
      if (commits.length === 0) return { results: outcomes as CommitApprovalResult[], tip };

      // After a lost race, the commits made last time still hold when every file would come out the
      // same: as they are when the tip did not move (a busy lock), merged into the tip when it did.
      const signature = commits.map((commit) => `${commit.key} ${commit.oid}`).join('\n');
      const reuse = previous?.signature === signature ? previous : undefined;
      let shas: string[];
      let newTip: string;
      let merge: 'fast-forward' | 'merge-commit' = 'fast-forward';
      if (reuse !== undefined && reuse.base === tip) {
        shas = reuse.shas;
        newTip = reuse.chainTip;
      } else if (reuse !== undefined) {
        shas = reuse.shas;
        merge = 'merge-commit';
        [newTip = ''] = await importCommits(git, [mergeCommit(commits, identities, [tip, reuse.chainTip], written, env, now)]);
      } else {
        shas = await importCommits(
          git,
          commits.map((commit, position) => ({
            author: identities[commit.index]!.author,
            committer: identities[commit.index]!.committer,
            message: commit.message,
            parents: [position === 0 ? tip : position - 1],
            files: [{ path: commit.file, text: commit.text }],
          })),
        );
        newTip = shas.at(-1)!;
      }

      for (const hook of new Set(approvals.map(({ options }) => options.beforeUpdate))) await hook?.(attempt);
      const moved = await moveRefs(git, [...commits.map((commit, position) => ({ ref: `refs/heads/${commit.own}`, to: shas[position]! })), { ref: trackedRef, to: newTip, from: tip }]);
      if (moved === true) {
        trailerIndex.record(tip, newTip, commits.map((commit, position) => [commit.key, shas[position]!] as const));
        users.advance(tip, newTip, written);
        await this.#followWorkTree(git, env, gitDir, trackedRef, approvals, [...written].map(([file, { oid, file: described }]) => ({ path: file, before: at.entries.get(file), after: oid, text: described.text })));
        const results = outcomes.map((outcome, index): CommitApprovalResult => {
          if ('status' in outcome) return outcome;
          const position = outcome.duplicateOf >= 0 ? outcome.duplicateOf : inRound.get(approvalKey(approvals[index]!.event))!;
          const commit = commits[position]!;
          if (outcome.duplicateOf >= 0) return { status: 'existing', sha: shas[position]!, branch: commit.own };
          return { status: 'committed', sha: shas[position]!, branch: commit.own, tip: newTip, merge, ...(commit.uid !== undefined ? { uid: commit.uid } : {}) };
        });
        return { results, tip: newTip };
      }
      // Another writer won: an approval's own branch (read again above) or the tracked branch moved.
      if (reuse === undefined) previous = { base: tip, chainTip: newTip, signature, shas };
      if (moved === 'busy') await sleep(5 + Math.floor(Math.random() * 20 * attempt));
    }
    throw new RollcallError('git', `could not commit ${approvals.length} approval(s) (${approvals.slice(0, 3).map(({ event }) => approvalKey(event)).join(', ')}${approvals.length > 3 ? ', …' : ''}) to ${settings.branch ?? 'HEAD'} of ${this.repoDir}: the branch kept moving (${MAX_ATTEMPTS} attempts); they are retried with the next delivery`);
  }

  /** The git directory (private to a linked work tree) and the object format, once per repository. */
  async #probe(git: Git): Promise<{ gitDir: string; objectFormat: 'sha1' | 'sha256' }> {
    const [gitDir = '', format = ''] = (await git(['rev-parse', '--absolute-git-dir', '--show-object-format'])).text.trim().split('\n');
    return { gitDir, objectFormat: format.trim() === 'sha256' ? 'sha256' : 'sha1' };
  }

  /** The branch HEAD is on, read from its file (no process); a detached HEAD gets git's own error. */
  async #headBranch(git: Git, gitDir: string): Promise<string> {
    const head = (await readFile(path.join(gitDir, 'HEAD'), 'utf8').catch(() => '')).trim();
    if (head.startsWith('ref: refs/heads/')) return head.slice('ref: refs/heads/'.length);
    return (await git(['symbolic-ref', '--short', 'HEAD'])).text.trim();
  }

  /**
   * When this repository's work tree has the tracked branch checked out, its changed files follow
   * the new tip; a person's edits of them stay, with a warning to the loggers of the approvals
   * that changed them. A failure leaves the commits standing (the refs moved) and is a warning too.
   */
  async #followWorkTree(git: Git, env: NodeJS.ProcessEnv, gitDir: string, trackedRef: string, approvals: readonly (QueuedApproval & { options: CommitApprovalOptions })[], files: Parameters<typeof bringWorkTreeForward>[2]): Promise<void> {
    const loggersOf = (file: string | undefined) =>
      new Set(approvals.filter(({ request }) => file === undefined || file.endsWith(`users/${request.empId}.yaml`)).map(({ options }) => options.logger).filter((logger): logger is Pick<Logger, 'warn'> => logger !== undefined));
    try {
      if (this.#workTree === undefined) {
        const probe = await git(['rev-parse', '--is-bare-repository', '--show-toplevel'], { okExitCodes: [0, 128] });
        const [bare = '', top = ''] = probe.text.split('\n');
        this.#workTree = probe.exitCode === 0 && bare.trim() === 'false' ? top.trim() : '';
      }
      const root = this.#workTree;
      if (root === '') return;
      // HEAD read from its file (this work tree's own git dir): no process per round for it.
      const head = await readFile(path.join(gitDir, 'HEAD'), 'utf8').catch(() => '');
      if (head.trim() !== `ref: ${trackedRef}`) return;
      const atRoot: Git = (args, more = {}) => runGit(root, args, { ...more, env });
      const kept = await bringWorkTreeForward(atRoot, root, files);
      for (const file of kept) {
        for (const logger of loggersOf(file)) {
          logger.warn({ file, workTree: root }, 'the checked-out work tree has uncommitted changes to the file an approval changed: left as they are; git diff shows them against the new commit');
        }
      }
    } catch (error) {
      for (const logger of loggersOf(undefined)) {
        logger.warn({ err: error, files: files.map((file) => file.path) }, 'could not bring the checked-out work tree to the approval commits: git status shows the files as changed until they are checked out again');
      }
    }
  }
}

function sameSettings(a: RoundSettings, b: RoundSettings): boolean {
  return a.folder === b.folder && a.branch === b.branch && a.env === b.env;
}

/**
 * The commit that merges a round's commits (made on an earlier tip) into the new tip: the new
 * tip's tree with the round's files. One approval: `Merge <branch>: <its message>` by its
 * requester; several: `Merge <n> approvals`, each one's subject, all their trailers, by rollcall.
 */
function mergeCommit(commits: readonly { index: number; own: string; message: string }[], identities: readonly ApprovalIdentity[], parents: readonly string[], written: ReadonlyMap<string, { file: UserFile }>, env: NodeJS.ProcessEnv, now: Date): ImportCommit {
  const files = [...written].map(([file, { file: described }]) => ({ path: file, text: described.text }));
  if (commits.length === 1) {
    const [only] = commits;
    return { ...identities[only!.index]!, message: `Merge ${only!.own}: ${only!.message}`, parents, files };
  }
  const paragraphs = commits.map((commit) => commit.message.split('\n\n'));
  const message = [
    `Merge ${commits.length} approvals`,
    commits.map((commit, position) => `${commit.own}: ${paragraphs[position]![0]}`).join('\n'),
    paragraphs.map((parts) => parts.at(-1)!.trimEnd()).join('\n'),
  ].join('\n\n');
  const rollcall = committerIdent(env, now);
  return { author: rollcall, committer: rollcall, message: `${message}\n`, parents, files };
}
