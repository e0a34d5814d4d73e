import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import { runGit, type GitOptions, type GitResult } from '../source/git.js';
import { approvalBranch, commitApproval, type CommitApprovalResult } from './commit-request.js';
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

/** One submit at a time per repository in this process: a push cycle reads and resets the branches. */
const queues = new Map<string, Promise<unknown>>();

/**
 * The default provider: commits the approval on `rollcall/<platform>-<id>` and merges it into the
 * tracked branch at once (fast-forward or merge commit, see {@link commitApproval}). With a remote,
 * pushes both branches in one atomic push; a rejected push (someone else pushed first) fetches,
 * finds the approval on the remote if another delivery landed it (its branch, or its trailer on
 * the tracked branch: exactly once), and otherwise recomputes on the new tip (uids too) and pushes
 * again, with backoff. Local refs end as they were pushed: a rejected attempt is undone.
 */
export class LocalProvider implements RequestProvider {
  readonly name = 'local';

  constructor(private readonly options: LocalProviderOptions) {}

  submit(event: ApprovalEvent, request: Request): Promise<CommitApprovalResult> {
    const { repoDir, remote } = this.options;
    if (remote === undefined) return commitApproval(repoDir, this.options.desiredPath, event, request, this.commitOptions());
    const key = path.resolve(repoDir);
    const run = (queues.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => this.submitAndPush(remote, event, request));
    queues.set(key, run);
    void run.finally(() => {
      if (queues.get(key) === run) queues.delete(key);
    }).catch(() => undefined);
    return run;
  }

  private commitOptions() {
    const { branch, env, logger } = this.options;
    return { ...(branch !== undefined ? { branch } : {}), ...(env !== undefined ? { env } : {}), ...(logger !== undefined ? { logger } : {}) };
  }

  private async submitAndPush(remote: string, event: ApprovalEvent, request: Request): Promise<CommitApprovalResult> {
    const { repoDir, branch, maxPushAttempts = 8, backoffMs = 100 } = this.options;
    if (branch === undefined) throw new RollcallError('internal', 'the local provider needs the tracked branch when it pushes to a remote');
    const git = (args: readonly string[], more: Omit<GitOptions, 'env'> & { okExitCodes?: readonly number[] } = {}): Promise<GitResult> =>
      runGit(repoDir, args, { ...more, env: this.options.env ?? process.env });
    const own = approvalBranch(event);
    const refs = {
      tracked: `refs/heads/${branch}`,
      own: `refs/heads/${own}`,
      remoteTracked: `refs/remotes/${remote}/${branch}`,
      remoteOwn: `refs/remotes/${remote}/${own}`,
    };

    for (let attempt = 1; attempt <= maxPushAttempts; attempt += 1) {
      // The approval's branch by a pattern, so that a remote without it is no error.
      await git(['fetch', '--verbose', '--no-tags', '--prune', remote, `+refs/heads/${branch}:${refs.remoteTracked}`, `+refs/heads/${own}*:refs/remotes/${remote}/${own}*`], { timeoutMs: NETWORK_TIMEOUT_MS }).catch((error: unknown) => {
        throw new RollcallError('git', `could not fetch ${branch} from ${remote}: ${message(error)}`, { cause: error });
      });
      const known = await readRefs(git, Object.values(refs));
      const remoteTip = known.get(refs.remoteTracked);
      if (remoteTip === undefined) throw new RollcallError('invalid-input', `branch ${branch} does not exist on ${remote}: push it, or configure an existing branch`);
      // The remote is the record: local branches follow it, and a local approval branch it lacks (a push that never happened) goes.
      await git(['update-ref', refs.tracked, remoteTip]);
      const remoteOwn = known.get(refs.remoteOwn);
      if (remoteOwn !== undefined) {
        await git(['update-ref', refs.own, remoteOwn]);
        return { status: 'existing', sha: remoteOwn, branch: own };
      }
      if (known.has(refs.own)) await git(['update-ref', '-d', refs.own]);

      const result = await commitApproval(repoDir, this.options.desiredPath, event, request, this.commitOptions());
      if (result.status !== 'committed') return result;

      await this.options.beforePush?.(attempt);
      const pushed = await git(['push', '--porcelain', '--atomic', remote, `${result.sha}:${refs.own}`, `${result.tip}:${refs.tracked}`], { okExitCodes: [0, 1, 128], timeoutMs: NETWORK_TIMEOUT_MS });
      const lines = pushed.text.split('\n').filter((line) => /^[ +\-*=!]\t/.test(line));
      if (pushed.exitCode === 0 && lines.every((line) => !line.startsWith('!'))) {
        await git(['update-ref', refs.remoteTracked, result.tip]);
        await git(['update-ref', refs.remoteOwn, result.sha]);
        // "Up to date": another delivery made the very same commit (same tip, same second) and pushed it first.
        const ownLine = lines.find((line) => line.includes(`:${refs.own}\t`));
        if (ownLine?.startsWith('=')) return { status: 'existing', sha: result.sha, branch: own };
        return result;
      }
      // Nothing half-applied: the refs this attempt moved go back to what the remote has.
      await git(['update-ref', '-d', refs.own, result.sha], { okExitCodes: [0, 1, 128] });
      await git(['update-ref', refs.tracked, remoteTip, result.tip], { okExitCodes: [0, 1, 128] });
      // Someone else pushed first (rejected), or their push moved or locked a ref while the remote applied ours
      // (an atomic transaction that failed as a whole): the next fetch tells which.
      const rejected = lines.some((line) => line.startsWith('!') && /non-fast-forward|fetch first|already exists|stale info|cannot lock ref|failed to lock|failed to update ref|incorrect old value|atomic transaction failed/.test(line));
      if (!rejected) {
        const why = lines.filter((line) => line.startsWith('!')).map((line) => line.split('\t')[2]).join('; ') || pushed.stderr.trim();
        throw new RollcallError('git', `could not push approval ${event.platform}/${event.approvalId} to ${branch} of ${remote}: ${why}; check the remote's URL, credentials and branch protection`);
      }
      this.options.logger?.warn({ approval: `${event.platform}/${event.approvalId}`, attempt }, 'the remote moved while rollcall pushed an approval: fetching and trying again');
      await sleep(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
    }
    throw new RollcallError('git', `could not push approval ${event.platform}/${event.approvalId} to ${branch} of ${remote}: the branch kept moving (${maxPushAttempts} attempts); it is retried with the next delivery`);
  }
}

async function readRefs(git: (args: readonly string[]) => Promise<GitResult>, refs: readonly string[]): Promise<Map<string, string>> {
  const text = (await git(['for-each-ref', '--format=%(objectname) %(refname)', ...refs])).text;
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [sha = '', ref = ''] = line.split(' ');
    if (refs.includes(ref)) found.set(ref, sha);
  }
  return found;
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/^git \S+ failed in \S+: /, '');
}
