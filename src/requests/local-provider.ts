import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import { runGit, type GitOptions, type GitResult } from '../source/git.js';
import { commitApprovals, MAX_ROUND, type QueuedApproval } from './approval-committer.js';
import { approvalBranch, approvalKey, checkApprovalId } from './approval-message.js';
import { commitApproval, type CommitApprovalResult } from './commit-request.js';
import { readRefs } from './git-refs.js';
import type { RequestProvider } from './provider.js';
import type { ApprovalEvent, Request } from './types.js';

/** How the {@link LocalProvider} reaches the repository. */
export interface LocalProviderOptions {
  /** The repository: a work tree, a bare repository, or rollcall's own clone of a remote. */
  repoDir: string;
  /** The desired-state folder inside the repository, e.g. `desired-state`. */
  desiredPath: string;
  /** The tracked branch. Default: the branch HEAD is on (required with `remote`). */
  branch?: string;
  /**
   * Push each approval to this remote (`origin` for rollcall's clone of a remote repository). The
   * repository's branches then follow the remote's: this is for rollcall's own clone, not for a
   * checkout where people keep unpushed commits.
   */
  remote?: string;
  /** The environment of git (credentials, committer). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  logger?: Pick<Logger, 'warn'>;
  /** Pushes before giving up on a remote that keeps moving. Default 8. */
  maxPushAttempts?: number;
  /** The first backoff after a rejected push, doubled each time (with jitter). Default 100 ms. */
  backoffMs?: number;
  /** Runs before each push: where a test lets a second writer push first. */
  beforePush?: (attempt: number) => Promise<void>;
}

const NETWORK_TIMEOUT_MS = 120_000;

/** An approval waiting for the next push round. */
interface Submission {
  provider: LocalProvider;
  remote: string;
  event: ApprovalEvent;
  request: Request;
  resolve: (result: CommitApprovalResult) => void;
  reject: (error: unknown) => void;
}

/** Approvals waiting for a push round, per repository in this process: a round reads and resets the branches. */
const waiting = new Map<string, { queue: Submission[]; running: boolean }>();

/**
 * The default provider: commits the approval on `rollcall/<platform>-<id>` and moves the tracked
 * branch to it at once (see {@link commitApproval}: approvals that arrive together are committed
 * together, in rounds).
 *
 * With a remote, rounds too: approvals that arrive while a round is being pushed wait for the
 * next, which fetches once, commits all of them (one commit each) and pushes every approval
 * branch and the tracked branch in one atomic push. A rejected push (someone else pushed first)
 * undoes the round's local refs, fetches, finds the approvals on the remote that another delivery
 * landed (their branch, or their trailer on the tracked branch: exactly once), recomputes the rest
 * on the new tip (uids too) and pushes again, with backoff. Local refs end as they were pushed.
 */
export class LocalProvider implements RequestProvider {
  readonly name = 'local';

  constructor(private readonly options: LocalProviderOptions) {}

  submit(event: ApprovalEvent, request: Request): Promise<CommitApprovalResult> {
    const { repoDir, remote } = this.options;
    if (remote === undefined) return commitApproval(repoDir, this.options.desiredPath, event, request, this.commitOptions());
    try {
      checkApprovalId(event);
    } catch (error) {
      return Promise.reject(error);
    }
    const key = path.resolve(repoDir);
    const state = waiting.get(key) ?? { queue: [], running: false };
    waiting.set(key, state);
    return new Promise<CommitApprovalResult>((resolve, reject) => {
      state.queue.push({ provider: this, remote, event, request, resolve, reject });
      if (state.running) return;
      state.running = true;
      // The first round starts on the next turn of the event loop: a burst that arrives together is one round.
      setImmediate(() => void drain(key, state));
    });
  }

  private commitOptions() {
    const { branch, env, logger } = this.options;
    return { ...(branch !== undefined ? { branch } : {}), ...(env !== undefined ? { env } : {}), ...(logger !== undefined ? { logger } : {}) };
  }

  /** One push round (the provider's queue runs them): what became of each approval, in order. @internal */
  async pushRound(remote: string, approvals: readonly QueuedApproval[]): Promise<CommitApprovalResult[]> {
    const { repoDir, branch, maxPushAttempts = 8, backoffMs = 100 } = this.options;
    if (branch === undefined) throw new RollcallError('internal', 'the local provider needs the tracked branch when it pushes to a remote');
    const git = (args: readonly string[], more: Omit<GitOptions, 'env'> & { okExitCodes?: readonly number[] } = {}): Promise<GitResult> =>
      runGit(repoDir, args, { ...more, env: this.options.env ?? process.env });
    const tracked = `refs/heads/${branch}`;
    const remoteTracked = `refs/remotes/${remote}/${branch}`;
    const owns = approvals.map(({ event }) => approvalBranch(event));
    const described = approvals.length === 1 ? `approval ${approvalKey(approvals[0]!.event)}` : `${approvals.length} approvals`;

    for (let attempt = 1; attempt <= maxPushAttempts; attempt += 1) {
      // The approvals' branches by patterns, so that a remote without them is no error.
      const patterns = [...new Set(owns)].map((own) => `+refs/heads/${own}*:refs/remotes/${remote}/${own}*`);
      await git(['fetch', '--verbose', '--no-tags', '--prune', remote, `+refs/heads/${branch}:${remoteTracked}`, ...patterns], { timeoutMs: NETWORK_TIMEOUT_MS }).catch((error: unknown) => {
        throw new RollcallError('git', `could not fetch ${branch} from ${remote}: ${message(error)}`, { cause: error });
      });
      const known = await readRefs(git, [tracked, remoteTracked, 'refs/heads/rollcall/', `refs/remotes/${remote}/rollcall/`]);
      const remoteTip = known.get(remoteTracked);
      if (remoteTip === undefined) throw new RollcallError('invalid-input', `branch ${branch} does not exist on ${remote}: push it, or configure an existing branch`);
      // The remote is the record: local branches follow it, and a local approval branch it lacks (a push that never happened) goes.
      const follow = [`update ${tracked} ${remoteTip}`];
      for (const own of new Set(owns)) {
        const remoteOwn = known.get(`refs/remotes/${remote}/${own}`);
        if (remoteOwn !== undefined) follow.push(`update refs/heads/${own} ${remoteOwn}`);
        else if (known.has(`refs/heads/${own}`)) follow.push(`delete refs/heads/${own}`);
      }
      await git(['update-ref', '--stdin'], { input: ['start', ...follow, 'prepare', 'commit', ''].join('\n') });

      const results: (CommitApprovalResult | undefined)[] = owns.map((own) => {
        const remoteOwn = known.get(`refs/remotes/${remote}/${own}`);
        return remoteOwn !== undefined ? { status: 'existing', sha: remoteOwn, branch: own } : undefined;
      });
      const rest = approvals.filter((_, index) => results[index] === undefined);
      const round = rest.length > 0 ? await commitApprovals(repoDir, this.options.desiredPath, rest, this.commitOptions()) : { results: [], tip: remoteTip };
      let next = 0;
      const merged = results.map((result) => result ?? round.results[next++]!);
      const committed = merged.filter((result): result is Extract<CommitApprovalResult, { status: 'committed' }> => result.status === 'committed');
      if (committed.length === 0) return merged;

      await this.options.beforePush?.(attempt);
      const pushed = await git(['push', '--porcelain', '--atomic', remote, ...committed.map((result) => `${result.sha}:refs/heads/${result.branch}`), `${round.tip}:${tracked}`], { okExitCodes: [0, 1, 128], timeoutMs: NETWORK_TIMEOUT_MS });
      const lines = pushed.text.split('\n').filter((line) => /^[ +\-*=!]\t/.test(line));
      if (pushed.exitCode === 0 && lines.every((line) => !line.startsWith('!'))) {
        await git(['update-ref', '--stdin'], { input: ['start', `update ${remoteTracked} ${round.tip}`, ...committed.map((result) => `update refs/remotes/${remote}/${result.branch} ${result.sha}`), 'prepare', 'commit', ''].join('\n') });
        // "Up to date": another delivery made the very same commit (same tip, same second) and pushed it first.
        return merged.map((result) => {
          if (result.status !== 'committed') return result;
          const line = lines.find((entry) => entry.includes(`:refs/heads/${result.branch}\t`));
          return line?.startsWith('=') ? { status: 'existing', sha: result.sha, branch: result.branch } : result;
        });
      }
      // Nothing half-applied: the refs this attempt moved go back to what the remote has.
      await undo(git, [...committed.map((result) => ({ ref: `refs/heads/${result.branch}`, from: result.sha })), { ref: tracked, to: remoteTip, from: round.tip }]);
      // Someone else pushed first (rejected), or their push moved or locked a ref while the remote applied ours
      // (an atomic transaction that failed as a whole): the next fetch tells which.
      const rejected = lines.some((line) => line.startsWith('!') && /non-fast-forward|fetch first|already exists|stale info|cannot lock ref|failed to lock|failed to update ref|incorrect old value|atomic transaction failed/.test(line));
      if (!rejected) {
        const why = [...new Set(lines.filter((line) => line.startsWith('!')).map((line) => line.split('\t')[2]))].join('; ') || pushed.stderr.trim();
        throw new RollcallError('git', `could not push ${described} to ${branch} of ${remote}: ${why}; check the remote's URL, credentials and branch protection`);
      }
      this.options.logger?.warn({ approvals: approvals.map(({ event }) => approvalKey(event)).slice(0, 10), count: approvals.length, attempt }, 'the remote moved while rollcall pushed approvals: fetching and trying again');
      await sleep(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
    }
    throw new RollcallError('git', `could not push ${described} to ${branch} of ${remote}: the branch kept moving (${maxPushAttempts} attempts); it is retried with the next delivery`);
  }
}

/** Push rounds one after another, each taking the waiting approvals of one provider (up to a commit round's worth). */
async function drain(key: string, state: { queue: Submission[]; running: boolean }): Promise<void> {
  try {
    while (state.queue.length > 0) {
      const provider = state.queue[0]!.provider;
      const round: Submission[] = [];
      state.queue = state.queue.filter((submission) => {
        const joins = submission.provider === provider && round.length < MAX_ROUND;
        if (joins) round.push(submission);
        return !joins;
      });
      try {
        const results = await provider.pushRound(round[0]!.remote, round);
        round.forEach((submission, index) => submission.resolve(results[index]!));
      } catch (error) {
        for (const submission of round) submission.reject(error);
      }
    }
  } finally {
    state.running = false;
    if (waiting.get(key) === state && state.queue.length === 0) waiting.delete(key);
  }
}

/** Moves refs back (each expected at `from`; no `to`: deleted), all at once, else one by one: a ref someone moved since stays theirs. */
async function undo(git: (args: readonly string[], more?: { input?: string; okExitCodes?: readonly number[] }) => Promise<GitResult>, moves: readonly { ref: string; to?: string; from: string }[]): Promise<void> {
  const line = (move: { ref: string; to?: string; from: string }) => (move.to === undefined ? `delete ${move.ref} ${move.from}` : `update ${move.ref} ${move.to} ${move.from}`);
  const all = await git(['update-ref', '--stdin'], { input: ['start', ...moves.map(line), 'prepare', 'commit', ''].join('\n'), okExitCodes: [0, 128] });
  if (all.exitCode === 0) return;
  for (const move of moves) await git(['update-ref', '--stdin'], { input: ['start', line(move), 'prepare', 'commit', ''].join('\n'), okExitCodes: [0, 128] });
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/^git \S+ failed in \S+: /, '');
}
