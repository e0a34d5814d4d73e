import type { Logger } from '../config/logger.js';
import type { ApprovalsFile } from '../desired/schema.js';
import type { ConfirmedApproval } from '../ingress/confirm-approval.js';
import type { ApprovalNotice, IngressNotice, NoticeSink, UserLeftNotice } from '../ingress/ingress-notice.js';
import type { ApprovalRef } from '../notify/events.js';
import { leaverSubmissions } from '../requests/leavers.js';
import { flowCode, requestFromApproval } from '../requests/map-approval.js';
import type { RequestProvider, SubmitResult } from '../requests/provider.js';
import type { ApprovalEvent, Request } from '../requests/types.js';
import type { ReconcilerMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import type { RequestContext } from './request-context.js';
import type { StateStore } from './state-store.js';

export interface ApprovalIntakeOptions {
  store: StateStore;
  /** Fetches the approval instance from the platform: only a finished, approved one is acted on. */
  confirm(notice: ApprovalNotice): Promise<ConfirmedApproval>;
  /** approvals.yaml, the users and the role names at the tracked branch's tip. */
  context(): Promise<RequestContext>;
  provider: RequestProvider;
  outbox: Outbox;
  log: Logger;
  metrics?: Pick<ReconcilerMetrics, 'approvalNotices' | 'approvalsHandled' | 'approvalInboxOpen'>;
  /** A change was committed, merged or proposed: the tracked branch may have moved. */
  onSubmitted?(result: SubmitResult): void;
  /** How many notices are open, each time that may have changed (for the status). */
  onOpen?(count: number): void;
  /** Notices handled at once (confirmation is network-bound; commits from many join one round, see requests/approval-committer.ts). Default 32. */
  concurrency?: number;
  /** The first retry's delay; it doubles up to 5 minutes. Default 1000. */
  retryBaseMs?: number;
}

/** What came of one notice, kept in the inbox as its outcome. */
export type IntakeOutcome =
  | { status: 'submitted'; results: SubmitResult[] }
  | { status: 'refused'; reason: string }
  | { status: 'ignored'; reason: string };

const MAX_RETRY_MS = 5 * 60_000;
/** The channel of approvals.yaml that hears about problems no flow's group should (broken config, a flow without `notify`). */
const OPS_CHANNEL = 'ops';

/**
 * The approvals inbox: ingress hands verified notices to {@link sink}, which stores them (the
 * delivery is acknowledged only after that) and returns at once; the intake then works through
 * the stored notices. For an approval: confirm it with the platform's API, map its form through
 * approvals.yaml at the tracked branch's tip, and submit the change through the provider; for
 * people who left: offboard each record carrying their platform id. Refusals go to the flow's
 * group. A failure that may pass (the platform's API, git, a broken approvals.yaml) leaves the
 * notice in the inbox to be tried again with back-off; a restart picks up whatever was left.
 *
 * Exactly once: the inbox is keyed by approval (`<platform>/<instance id>`), so redeliveries and
 * the same approval through two paths are one row; the provider's branch/trailer check makes a
 * notice handled again after a crash find its commit instead of making another.
 */
export class ApprovalIntake {
  readonly sink: NoticeSink = (notice) => this.#receive(notice);

  readonly #options: ApprovalIntakeOptions;
  readonly #busy = new Set<number>();
  readonly #idleWaiters: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ApprovalIntakeOptions) {
    this.#options = options;
  }

  /** Starts on what the inbox holds (a restart's leftovers). */
  start(): void {
    this.#kick();
  }

  /** Stops taking new work; waits for the notices in hand (what is left stays in the inbox). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.idle();
  }

  /** Resolves when no notice is being handled (those waiting for a retry do not count). */
  idle(): Promise<void> {
    if (this.#busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Open notices, handled or waiting for a retry. */
  pending(): number {
    return this.#options.store.openNoticeCount();
  }

  #receive(notice: IngressNotice): boolean {
    const stored = this.#options.store.receiveNotice({ key: inboxKey(notice), notice: JSON.stringify(notice) });
    this.#options.metrics?.approvalNotices.inc({ platform: notice.platform, via: notice.via, result: stored ? 'stored' : 'duplicate' });
    if (stored) this.#kick();
    else this.#options.log.info({ platform: notice.platform, eventId: notice.eventId, via: notice.via, key: inboxKey(notice) }, 'notice already received: acknowledged, ignored');
    return stored;
  }

  /** Takes due notices up to the concurrency; called whenever one arrives or one is done. Synchronous, so never re-entered. */
  #kick(): void {
    clearTimeout(this.#timer);
    if (!this.#stopped) {
      const concurrency = this.#options.concurrency ?? 32;
      const free = concurrency - this.#busy.size;
      const rows = free <= 0 ? [] : this.#options.store.openNotices(Date.now(), concurrency + this.#busy.size).filter((row) => !this.#busy.has(row.id)).slice(0, free);
      for (const row of rows) {
        this.#busy.add(row.id);
        void this.#handle(row.id, row.key, row.notice, row.attempts).finally(() => {
          this.#busy.delete(row.id);
          this.#kick();
        });
      }
      // Wake up when the next notice waiting for a retry is due.
      const due = this.#options.store.nextNoticeDue();
      if (due !== undefined && this.#busy.size < concurrency) this.#timer = setTimeout(() => this.#kick(), Math.max(10, due - Date.now())).unref();
    }
    const open = this.#options.store.openNoticeCount();
    this.#options.metrics?.approvalInboxOpen.set(open);
    this.#options.onOpen?.(open);
    if (this.#busy.size === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #handle(id: number, key: string, text: string, attempts: number): Promise<void> {
    const { store, log } = this.#options;
    const notice = JSON.parse(text) as IngressNotice;
    const started = performance.now();
    try {
      const outcome = notice.kind === 'approval' ? await this.#approval(notice) : await this.#leaver(notice);
      store.finishNotice(id, describe(outcome));
      this.#options.metrics?.approvalsHandled.inc({ outcome: outcome.status });
      log.info({ key, via: notice.via, outcome: outcome.status, ms: Math.round(performance.now() - started), ...(outcome.status === 'submitted' ? { commits: outcome.results.map(summary) } : { reason: outcome.reason }) }, 'approval handled');
    } catch (error) {
      const delay = Math.min(MAX_RETRY_MS, (this.#options.retryBaseMs ?? 1_000) * 2 ** Math.min(attempts, 20));
      const message = error instanceof Error ? error.message : String(error);
      store.retryNotice(id, message, Date.now() + delay);
      this.#options.metrics?.approvalsHandled.inc({ outcome: 'retry' });
      log.warn({ key, attempt: attempts + 1, retryInMs: delay, err: error }, 'could not handle an approval yet; it stays in the inbox and is tried again');
      if (attempts === 4) {
        this.#options.outbox.enqueue(`intake-stuck:${key}`, {
          kind: 'request-refused',
          channel: OPS_CHANNEL,
          title: `Approval ${key} is stuck`,
          text: `rollcall has tried ${attempts + 1} times to turn approval ${key} into a commit and keeps failing: ${message}\nIt keeps trying (every ${Math.round(MAX_RETRY_MS / 60_000)} minutes at most).`,
        });
      }
    }
  }

  async #approval(notice: ApprovalNotice): Promise<IntakeOutcome> {
    if (notice.processCode !== undefined) {
      const { approvals } = await this.#options.context();
      if (!approvals.flows.some((flow) => flow.platform === notice.platform && flowCode(flow) === notice.processCode)) {
        return { status: 'ignored', reason: `no flow in approvals.yaml has ${notice.platform} code ${notice.processCode}` };
      }
    }
    const confirmed = await this.#options.confirm(notice);
    if (!confirmed.ok) return { status: 'ignored', reason: confirmed.reason };
    const context = await this.#options.context();
    const mapped = requestFromApproval(confirmed.event, context.approvals, context.users, context.roleNames);
    if (!mapped.ok) {
      if (mapped.code === 'unknown-flow') return { status: 'ignored', reason: mapped.reason };
      this.#refused(confirmed.event, mapped.reason, context.approvals);
      return { status: 'refused', reason: mapped.reason };
    }
    return this.#submit([{ event: confirmed.event, request: mapped.request }], context.approvals);
  }

  async #leaver(notice: UserLeftNotice): Promise<IntakeOutcome> {
    const context = await this.#options.context();
    const submissions = leaverSubmissions({ platform: notice.platform, eventId: notice.eventId, userIds: notice.userIds, occurredAt: notice.at }, context.users);
    if (submissions.length === 0) return { status: 'ignored', reason: `no present user record carries ${notice.platform} id ${notice.userIds.join(' or ')}` };
    return this.#submit(submissions, context.approvals);
  }

  async #submit(submissions: readonly { event: ApprovalEvent; request: Request }[], approvals: ApprovalsFile): Promise<IntakeOutcome> {
    const results: SubmitResult[] = [];
    for (const { event, request } of submissions) {
      const result = await this.#options.provider.submit(event, request);
      if (result.status === 'refused') {
        this.#refused(event, result.reason, approvals);
        if (submissions.length === 1) return { status: 'refused', reason: result.reason };
        continue;
      }
      results.push(result);
      if (result.status === 'committed' || (result.status === 'pull-request' && !result.existing)) {
        this.#options.onSubmitted?.(result);
        this.#options.outbox.enqueue(`submitted:${event.platform}/${event.approvalId}`, {
          kind: 'request-submitted',
          channel: channelOf(event, approvals),
          title: `${request.kind} ${request.empId}: ${result.status === 'pull-request' ? `pull request #${result.number}` : 'committed'}`,
          text: result.status === 'pull-request' ? `${result.url}\nbranch ${result.branch}` : `commit ${result.sha.slice(0, 12)} on ${result.branch}; rollcall applies it to the fleet next`,
          revision: result.sha,
          event: {
            kind: 'request-received',
            approval: approvalRef(event),
            request: {
              kind: request.kind,
              empId: request.empId,
              ...(request.login !== undefined ? { login: request.login } : {}),
              ...(request.role !== undefined ? { role: request.role } : {}),
              ...(request.until !== undefined ? { until: request.until } : {}),
            },
            branch: result.branch,
            sha: result.sha,
            links: result.status === 'pull-request' ? { pullRequest: result.url } : {},
          },
        });
      }
    }
    return { status: 'submitted', results };
  }

  /** A request that cannot be made: its requester's group hears why, once per approval. */
  #refused(event: ApprovalEvent, reason: string, approvals: ApprovalsFile): void {
    this.#options.outbox.enqueue(`refused:${event.platform}/${event.approvalId}`, {
      kind: 'request-refused',
      channel: channelOf(event, approvals),
      title: `Request refused: approval ${event.platform}/${event.approvalId}`,
      text: `${reason}\nRequested by ${event.requester.name ?? event.requester.id}. Nothing was changed.`,
      event: { kind: 'request-refused', approval: approvalRef(event), reason },
    });
  }
}

/** The inbox key: what the notice is about, not how it came (see {@link ApprovalIntake}). */
export function inboxKey(notice: IngressNotice): string {
  if (notice.kind === 'approval') return `${notice.platform}/${notice.instanceId}`;
  return `${notice.platform}/left/${[...notice.userIds].sort().join(',')}`;
}

function approvalRef(event: ApprovalEvent): ApprovalRef {
  return { platform: event.platform, id: event.approvalId, requester: event.requester, approvers: event.approvers };
}

/** The group a flow's results go to (`notify`), else the operators'. */
function channelOf(event: ApprovalEvent, approvals: ApprovalsFile): string {
  const flow = approvals.flows.find((candidate) => candidate.platform === event.platform && flowCode(candidate) === event.processCode);
  return flow?.notify ?? OPS_CHANNEL;
}

function summary(result: SubmitResult): string {
  return result.status === 'refused' ? `refused: ${result.reason}` : `${result.status} ${result.sha.slice(0, 12)} ${result.branch}`;
}

function describe(outcome: IntakeOutcome): string {
  return outcome.status === 'submitted' ? outcome.results.map(summary).join('; ') || 'submitted' : `${outcome.status}: ${outcome.reason}`;
}
