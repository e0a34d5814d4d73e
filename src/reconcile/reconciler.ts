import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { formatProblem, RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import { loadDesiredState } from '../desired/load-desired-state.js';
import type { DesiredState } from '../desired/types.js';
import type { ApplyResult, Executor } from '../executors/types.js';
import { plan as buildPlan } from '../plan/build-plan.js';
import { render as renderPlan } from '../plan/render-plan.js';
import { FLOW_TRAILER } from '../requests/approval-message.js';
import { flowCode } from '../requests/map-approval.js';
import type { Links } from '../notify/events.js';
import { appliedEvent, driftEvent, revisionRef } from '../notify/result-events.js';
import type { Plan, PlanPolicy } from '../plan/types.js';
import type { DesiredRepository, Revision } from '../source/desired-repository.js';
import type { ResultNotes, ResultRecord, ResultTrigger } from '../source/result-notes.js';
import type { reconcilerMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import { BREAK_GLASS_TRAILER, splitBreakGlass } from './break-glass.js';
import { changeLine, resultRecord } from './result-record.js';
import type { StateStore } from './state-store.js';
import type { StatusTracker } from './status.js';

export interface ReconcilerOptions {
  repo: DesiredRepository;
  notes: ResultNotes;
  store: StateStore;
  /** The executor for a region (the fleet's region comes from the revision's fleet.yaml). */
  executorFor(region: string): Promise<Executor>;
  status: StatusTracker;
  outbox: Outbox;
  metrics: ReturnType<typeof reconcilerMetrics>;
  log: Logger;
  /** Where revisions' desired-state trees are exported to be read. */
  exportRoot: string;
  now?: () => Date;
  /** Overrides fleet.yaml's `policy.interval` (ms). */
  driftIntervalMs?: number;
  /** The first wait before a failed apply is tried again; it doubles up to the drift interval. */
  retryBaseMs?: number;
  /** Where chat messages point people (the status page), when rollcall has a public address. */
  links?: Links;
  /** A revision came into force (at start, or once it was loaded and checked): reminders look at it. */
  onInForce?: () => void;
}

/** A revision loaded and checked, ready to plan against. */
interface GoodRevision {
  revision: Revision;
  desired: DesiredState;
  policy: PlanPolicy;
  generation: number;
}

/** What the intent row of an attempt holds, beyond its columns: enough to finish it after a crash. */
interface AttemptPayload {
  plan: Plan;
  region: string;
  /** Every instance the reconcile looked at (those without entries are recorded as unchanged). */
  instances: string[];
}

type Work =
  | { kind: 'revision'; revision: Revision }
  | { kind: 'drift' | 'retry'; good: GoodRevision }
  | { kind: 'new-instance'; good: GoodRevision; instances: string[] };

/** The trailer approval commits name their flow of approvals.yaml with: `Flow: <platform>/<code>`. */
const META_LAST_APPLIED = 'lastAppliedRevision';
/** The newest revision whose reconcile ended (applied, failed, invalid or refused): a restart queues the ones after it. */
const META_LAST_HANDLED = 'lastHandledRevision';
/** The first revision this store ever queued: where a restart begins when nothing was handled yet. */
const META_FIRST_REVISION = 'firstRevision';
/** The newest revision that loaded and validated: the one in force for drift checks and new instances. */
const META_LAST_GOOD = 'lastGoodRevision';
const META_GENERATION = 'generation';
const EXPORTS_KEPT = 4;

/**
 * The loop: on a new revision, a drift tick, a new instance or a retry, it loads and checks the
 * desired state, observes the fleet, plans, applies (or only reports drift in detect mode),
 * records the result as a git note, and notifies. One reconcile at a time; revisions in commit
 * order, none skipped, except that a break-glass revision goes first (it contains the ones
 * before it). Every attempt is written to the state store before it is applied, so a restart
 * finishes it with the same ClientTokens instead of running it again.
 */
export class Reconciler {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly queue: Revision[] = [];
  /** The newest revision queued in this process (the queue itself is not persisted: it is recomputed from git). */
  private lastQueued: string | undefined;
  private readonly newInstances = new Set<string>();
  private headMoved = true;
  private driftDue = false;
  private retryDue = false;
  private retries = 0;
  private good: GoodRevision | undefined;
  /** A revision whose reconcile failed before it was applied: the queue waits for its retry. */
  private held: Revision | undefined;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private busy = false;
  private recoveredFlag = false;
  /** A reconcile failed for want of the fleet (and the operators were told); the next that gets through ends it. */
  private fleetUnreachable = false;
  private idleWaiters: (() => void)[] = [];
  private driftTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly exports: string[] = [];

  constructor(private readonly options: ReconcilerOptions) {
    this.log = options.log;
    this.now = options.now ?? (() => new Date());
  }

  /** The tracked branch may have moved (watcher, poller, push hook). */
  revisionsChanged(): void {
    this.headMoved = true;
    this.poke();
  }

  /** Instances announced by Cloud Assistant's FirstHeartbeat: converge them at once. */
  instancesAppeared(ids: readonly string[]): void {
    for (const id of ids) this.newInstances.add(id);
    this.poke();
  }

  /** Checks for drift now rather than at the next tick. */
  checkDrift(): void {
    this.driftDue = true;
    this.poke();
  }

  /** Finishes what a crashed run started, then runs the loop until `stop`. */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  /** Lets the current step finish (a reconcile in progress completes and is recorded), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.driftTimer);
    clearTimeout(this.retryTimer);
    this.poke();
    await this.running;
  }

  /** Resolves when nothing is queued and no reconcile is running (tests and `rollcall dev`). */
  idle(): Promise<void> {
    if (!this.busy && !this.hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Whether what a previous run left has been finished and the loop is running. */
  get recovered(): boolean {
    return this.recoveredFlag;
  }

  private async run(): Promise<void> {
    try {
      await this.finishUnfinished();
    } catch (error) {
      this.log.error({ err: error }, 'could not read what a previous run left; going on');
      this.options.status.stalled('GitOperationFailed', `could not read the last applied revision: ${(error as Error).message}`);
    }
    this.recoveredFlag = true;
    // The revision in force is checked for drift from now on, even if no new commit comes.
    this.ensureDriftScheduled();
    while (!this.stopping) {
      let work: Work | undefined;
      try {
        work = await this.nextWork();
      } catch (error) {
        // The repository could not be read (a git failure): the loop lives on and reads it again later.
        this.readFailed(error);
      }
      if (!work) {
        this.busy = false;
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (this.stopping || this.hasWork()) this.poke();
        });
        continue;
      }
      this.busy = true;
      try {
        await this.reconcile(work);
        this.fleetUnreachable = false;
      } catch (error) {
        this.failed(work, error);
      }
      this.ensureDriftScheduled();
    }
    this.busy = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private hasWork(): boolean {
    return this.headMoved || (this.queue.length > 0 && !this.held) || (this.good !== undefined && (this.newInstances.size > 0 || this.driftDue || this.retryDue));
  }

  /** The next thing to do, in priority order; undefined when there is nothing. */
  private async nextWork(): Promise<Work | undefined> {
    if (this.headMoved) {
      this.headMoved = false;
      await this.queueNewRevisions();
    }
    if (this.held) return this.nextMaintenance();
    const breakGlass = this.queue.findLastIndex((revision) => (revision.trailers[BREAK_GLASS_TRAILER] ?? []).length > 0);
    if (breakGlass >= 0) {
      // It contains every revision queued before it: those are applied as part of it.
      const skipped = this.queue.splice(0, breakGlass);
      if (skipped.length > 0) this.log.info({ revisions: skipped.map((revision) => revision.sha) }, 'revisions included in a break-glass revision, applied with it');
      return { kind: 'revision', revision: this.queue.shift()! };
    }
    const revision = this.queue.shift();
    if (revision) return { kind: 'revision', revision };
    return this.nextMaintenance();
  }

  /** Work on the revision in force: new instances, a retry, a drift check. */
  private nextMaintenance(): Work | undefined {
    if (!this.good) return undefined;
    if (this.newInstances.size > 0) {
      const instances = [...this.newInstances];
      this.newInstances.clear();
      return { kind: 'new-instance', good: this.good, instances };
    }
    if (this.retryDue) {
      this.retryDue = false;
      return { kind: 'retry', good: this.good };
    }
    if (this.driftDue) {
      this.driftDue = false;
      return { kind: 'drift', good: this.good };
    }
    return undefined;
  }

  /** Queues the tracked branch's commits after the last one queued, oldest first. */
  private async queueNewRevisions(): Promise<void> {
    const head = await this.options.repo.head();
    let since = this.lastQueued ?? this.options.store.getMeta(META_LAST_HANDLED);
    if (since === undefined) {
      // Nothing handled yet: a first run starts at the tip, not at the beginning of history; a
      // restart before that first revision was handled starts at it again, so it is not skipped.
      const first = this.options.store.getMeta(META_FIRST_REVISION);
      if (first && (first === head.sha || (await this.options.repo.isAncestor(first, head.sha)))) {
        this.queue.push(await this.options.repo.revision(first));
        since = first;
      }
    }
    if (since !== head.sha) {
      const pending = await this.options.repo.pendingRevisions(since, head.sha);
      for (const revision of pending) if (revision.sha !== since) this.queue.push(revision);
    }
    if (!this.options.store.getMeta(META_FIRST_REVISION) && this.queue[0]) this.options.store.setMeta(META_FIRST_REVISION, this.queue[0].sha);
    this.lastQueued = head.sha;
  }

  /** After a crash: attempts written to the store but not recorded are finished first, with their own ClientTokens. */
  private async finishUnfinished(): Promise<void> {
    for (const row of this.options.store.unfinishedReconciles()) {
      const payload = JSON.parse(row.plan) as AttemptPayload;
      this.log.info({ attempt: row.attempt, revision: row.revision, phase: row.phase }, 'finishing an attempt a previous run started');
      try {
        const revision = await this.options.repo.revision(row.revision);
        await this.applyAndRecord({ ...row, trigger: row.trigger as ResultTrigger, payload, revision, result: row.result ? (JSON.parse(row.result) as ApplyResult) : undefined });
      } catch (error) {
        // Left in the store: the next start tries again, with the same ClientTokens.
        this.log.error({ err: error, attempt: row.attempt }, 'could not finish the attempt; it stays in the state store');
        this.options.status.stalled('FleetUnreachable', `could not finish attempt ${row.attempt}: ${(error as Error).message}`, row.revision);
      }
    }
    // The revision in force: the last good one, else the last applied one (from the notes when the store is new).
    const lastApplied = this.options.store.getMeta(META_LAST_APPLIED) ?? (await this.lastAppliedFromNotes());
    const inForce = this.options.store.getMeta(META_LAST_GOOD) ?? lastApplied;
    if (inForce) {
      const loaded = await this.load(await this.options.repo.revision(inForce), undefined);
      if (loaded.ok) this.putInForce(loaded.good);
      // It failed somewhere before the restart: try it again.
      if (inForce !== lastApplied) this.retryDue = true;
      // Applied before the restart: the status says so from the store and the notes (the saved
      // status may be older), until a new revision or a drift check says otherwise.
      else this.options.status.applied(inForce, `applied ${inForce.slice(0, 12)} before this start`);
    }
  }

  /** Rebuilds the store's pointers from the notes (the store was deleted or is new). */
  private async lastAppliedFromNotes(): Promise<string | undefined> {
    const head = await this.options.repo.head();
    const found = await this.options.notes.lastApplied(head.sha);
    if (!found) return undefined;
    const records = await this.options.notes.read(found.sha);
    this.options.store.seedAttemptNumber(found.sha, records.length + 1);
    const generation = Math.max(0, ...records.map((record) => record.generation));
    this.raiseGeneration(generation);
    this.options.store.setMeta(`${META_GENERATION}:${found.sha}`, String(generation));
    this.options.store.setMeta(META_LAST_APPLIED, found.sha);
    if (!this.options.store.getMeta(META_LAST_HANDLED)) this.options.store.setMeta(META_LAST_HANDLED, found.sha);
    this.log.info({ revision: found.sha }, 'state store rebuilt from the git notes');
    return found.sha;
  }

  private async reconcile(work: Work): Promise<void> {
    const startedAt = Date.now();
    if (work.kind === 'revision') {
      const revision = work.revision;
      const log = this.log.child({ revision: revision.sha.slice(0, 12) });
      // Recorded already (a crash came between the note and the store): the note is the truth.
      const records = await this.options.notes.read(revision.sha);
      const recorded = records.find((record) => (record.trigger === 'revision' || record.trigger === 'break-glass') && record.outcome !== 'failed');
      if (recorded) {
        log.info({ attempt: recorded.attempt }, 'revision already applied and recorded');
        const loaded = await this.load(revision, log);
        if (loaded.ok) {
          this.putInForce(loaded.good);
          this.options.store.setMeta(META_LAST_GOOD, revision.sha);
        }
        this.handled(revision.sha);
        this.options.store.setMeta(META_LAST_APPLIED, revision.sha);
        this.options.status.applied(revision.sha, `applied ${revision.sha.slice(0, 12)} (recorded at ${recorded.at})`);
        return;
      }
      this.options.status.reconciling(revision.sha, `applying ${revision.sha.slice(0, 12)} (${revision.subject})`);
      const loaded = await this.load(revision, log);
      if (!loaded.ok) {
        this.options.metrics.reconciles.inc({ trigger: 'revision', result: 'invalid' });
        const message = `revision ${revision.sha.slice(0, 12)} is invalid and was not applied${this.good ? `; ${this.good.revision.sha.slice(0, 12)} stays in force` : ''}:\n${loaded.problems.join('\n')}`;
        log.error({ problems: loaded.problems }, 'invalid revision: not applied');
        this.options.status.stalled('ValidationFailed', message, revision.sha);
        this.handled(revision.sha);
        this.notify(`stalled:${revision.sha}`, {
          kind: 'stalled',
          channel: 'ops',
          title: `Revision ${revision.sha.slice(0, 12)} not applied: invalid`,
          text: message,
          revision: revision.sha,
          event: { kind: 'stalled', reason: 'invalid-revision', revision: revisionRef(revision), message, problems: loaded.problems, links: this.links },
        });
        return;
      }
      this.putInForce(loaded.good);
      this.options.store.setMeta(META_LAST_GOOD, revision.sha);
      this.retries = 0;
      this.scheduleDrift();
      const breakGlass = revision.trailers[BREAK_GLASS_TRAILER] ?? [];
      await this.planAndApply(loaded.good, breakGlass.length > 0 ? 'break-glass' : 'revision', startedAt, log, { breakGlass, recordsInNote: records.length });
      return;
    }
    const log = this.log.child({ revision: work.good.revision.sha.slice(0, 12), trigger: work.kind });
    const trigger: ResultTrigger = work.kind === 'new-instance' ? 'new-instance' : work.kind === 'retry' ? 'revision' : 'drift';
    await this.planAndApply(work.good, trigger, startedAt, log, work.kind === 'new-instance' ? { only: new Set(work.instances) } : {});
    if (work.kind === 'drift') this.scheduleDrift();
    else this.ensureDriftScheduled();
  }

  private async planAndApply(good: GoodRevision, trigger: ResultTrigger, startedAt: number, log: Logger, scope: { only?: ReadonlySet<string>; breakGlass?: readonly string[]; recordsInNote?: number }): Promise<void> {
    const sha = good.revision.sha;
    const region = good.desired.fleet.region;
    const executor = await this.options.executorFor(region);
    const listed = await executor.instances(good.desired.fleet.hostgroups);
    const targets = scope.only ? listed.instances.filter((instance) => scope.only!.has(instance.id)) : listed.instances;
    if (scope.only && targets.length === 0) {
      log.info({ instances: [...scope.only] }, 'announced instances are in no hostgroup (or not reachable yet): nothing to converge');
      return;
    }
    const inventory = await executor.inventory(targets);
    for (const failure of [...listed.unreachable, ...inventory.failures]) {
      if (scope.only && !scope.only.has(failure.instance)) continue;
      this.options.status.instance(failure.instance, { state: 'Stalled', reason: 'FleetUnreachable', message: failure.message, attempted: sha });
    }
    if (!scope.only) this.options.status.keepInstances(new Set([...listed.instances.map((instance) => instance.id), ...listed.unreachable.map((failure) => failure.instance)]));
    const planned = buildPlan(good.desired, inventory.observed, good.policy, this.now());
    const refused = planned.errors.find((error) => error.instance === undefined);
    if (refused) {
      this.options.metrics.reconciles.inc({ trigger, result: 'refused' });
      const message = `revision ${sha.slice(0, 12)} was not applied: ${refused.message}`;
      log.error({ reason: refused.message }, 'plan refused');
      this.options.status.stalled('PlanRefused', message, sha);
      if (trigger === 'revision' || trigger === 'break-glass') this.handled(sha);
      this.notify(`refused:${sha}:${trigger}`, {
        kind: 'stalled',
        channel: 'ops',
        title: `Revision ${sha.slice(0, 12)} refused`,
        text: message,
        revision: sha,
        event: { kind: 'stalled', reason: 'deletion-guard', revision: revisionRef(good.revision), message, links: this.links },
      });
      return;
    }
    const entries = Object.values(planned.instances).reduce((sum, list) => sum + list.length, 0);
    if (trigger === 'drift') {
      this.options.metrics.driftFound.inc(undefined, entries);
      if (entries === 0) {
        this.options.metrics.reconciles.inc({ trigger, result: 'no-changes' });
        if (this.options.status.get().state !== 'Ready' && this.options.status.get().lastAppliedRevision === sha) this.options.status.ready(`the fleet matches ${sha.slice(0, 12)}`);
        return;
      }
      if (good.policy.drift === 'detect') {
        // An instance that holds nothing rollcall made is new, not drifted: it converges even in detect mode.
        const fresh = Object.keys(planned.instances).filter((id) => {
          const observed = inventory.observed.instances[id];
          return observed !== undefined && !observed.users.some((user) => user.managed) && !observed.groups.some((group) => group.managed);
        });
        if (fresh.length > 0) this.instancesAppeared(fresh);
        const drifted = { ...planned, instances: Object.fromEntries(Object.entries(planned.instances).filter(([id]) => !fresh.includes(id))) };
        if (Object.keys(drifted.instances).length === 0) return;
        this.options.metrics.reconciles.inc({ trigger, result: 'drift-detected' });
        const text = describeDrift(drifted);
        log.warn({ entries }, 'drift detected (policy.drift: detect): not corrected');
        this.options.status.stalled('DriftDetected', `drift from ${sha.slice(0, 12)} (policy.drift is detect, so it is not corrected):\n${text}`);
        this.notify(`drift:${sha}:${createHash('sha256').update(JSON.stringify(drifted.instances)).digest('hex').slice(0, 16)}`, {
          kind: 'drift-detected',
          channel: 'ops',
          title: `Drift from ${sha.slice(0, 12)}`,
          text,
          revision: sha,
          event: driftEvent(Object.fromEntries(Object.entries(drifted.instances).map(([id, entries]) => [id, entries.map(changeLine)])), revisionRef(good.revision), false, this.links),
        });
        return;
      }
    }
    if (entries === 0 && trigger !== 'revision' && trigger !== 'break-glass') {
      this.options.metrics.reconciles.inc({ trigger, result: 'no-changes' });
      return;
    }
    const instances = targets.map((instance) => instance.id).filter((id) => !inventory.failures.some((failure) => failure.instance === id));
    if ((trigger === 'revision' || trigger === 'break-glass') && entries > 0) {
      // What will change, where, before it does: the group that asked sees it even if the apply is slow.
      const changedOn = Object.values(planned.instances).filter((list) => list.length > 0).length;
      this.notify(`plan:${sha}`, {
        kind: 'plan',
        channel: this.channelOf(good.revision),
        title: `Plan for ${sha.slice(0, 12)}: ${entries} change${entries === 1 ? '' : 's'} on ${changedOn} of ${instances.length} instance(s)`,
        text: renderPlan(planned),
        revision: sha,
        event: { kind: 'plan', revision: revisionRef(good.revision), instances: instances.map((id) => ({ id, changes: (planned.instances[id] ?? []).map(changeLine) })), links: this.links },
      });
    }
    const parts = scope.breakGlass && scope.breakGlass.length > 0 ? splitBreakGlass(planned, scope.breakGlass) : [{ plan: planned, trigger }];
    // Attempt names continue after the ones the note has: with a lost store, the counter restarts from git.
    this.options.store.seedAttemptNumber(sha, (scope.recordsInNote ?? (await this.options.notes.read(sha)).length) + 1);
    for (const part of parts) {
      const attempt = `${sha.slice(0, 12)}-${this.options.store.nextAttemptNumber(sha)}`;
      const payload: AttemptPayload = { plan: part.plan, region, instances };
      // Intent first: after a crash from here on, the restart finishes this very attempt.
      this.options.store.beginReconcile({ attempt, revision: sha, trigger: part.trigger, generation: good.generation, plan: JSON.stringify(payload), startedAt });
      await this.applyAndRecord({ attempt, revision: good.revision, trigger: part.trigger, generation: good.generation, payload, startedAt, phase: 'applying', result: undefined });
    }
  }

  /** Applies an attempt (or reads its invocations again, after a crash), writes its note, then moves the status. */
  private async applyAndRecord(row: {
    attempt: string;
    revision: Revision;
    trigger: ResultTrigger;
    generation: number;
    payload: AttemptPayload;
    startedAt: number;
    phase: 'applying' | 'applied' | 'recorded';
    result: ApplyResult | undefined;
  }): Promise<void> {
    const { attempt, revision, payload } = row;
    const log = this.log.child({ revision: revision.sha.slice(0, 12), attempt, trigger: row.trigger });
    let result = row.result;
    if (row.phase === 'applying') {
      const executor = await this.options.executorFor(payload.region);
      const changes = Object.keys(payload.plan.instances).length > 0;
      result = changes
        ? await executor
            .apply(payload.plan, {
            generation: row.generation,
            attempt,
            journal: {
              starting: ({ clientToken, chunk, instances }) => this.options.store.invocationStarting({ clientToken, attempt, revision: revision.sha, chunk, instances: [...instances] }),
              started: ({ clientToken, invokeId }) => this.options.store.invocationStarted(clientToken, invokeId),
            },
            })
            // The attempt ends here either way: recorded as failed, it is never resumed with its
            // stale plan; the retry observes the fleet again and plans anew.
            .catch((error: unknown) => failedEverywhere(payload.plan, error))
        : { instances: [] };
      this.options.store.finishApply(attempt, JSON.stringify(result));
    }
    const finishedAt = Date.now();
    const record = resultRecord({ attempt, trigger: row.trigger, generation: row.generation, plan: payload.plan, result, startedAt: row.startedAt, finishedAt, instances: payload.instances });
    await this.options.notes.append(revision.sha, record);
    await this.options.notes.push().catch((error: unknown) => log.warn({ err: error }, 'the notes ref could not be pushed; it is pushed with the next note'));
    this.options.store.markRecorded(attempt);
    this.options.store.prune();
    this.afterRecord(revision, record, result, log);
  }

  private afterRecord(revision: Revision, record: ResultRecord, result: ApplyResult | undefined, log: Logger): void {
    const sha = revision.sha;
    if (record.trigger === 'revision' || record.trigger === 'break-glass') this.handled(sha);
    const seconds = record.durationMs / 1000;
    this.options.metrics.reconciles.inc({ trigger: record.trigger, result: record.outcome });
    this.options.metrics.reconcileSeconds.observe(seconds, { trigger: record.trigger });
    const changed = Object.values(record.instances).reduce((sum, instance) => sum + (instance.status === 'applied' ? instance.changes.length : 0), 0);
    if (record.trigger === 'drift') this.options.metrics.driftCorrected.inc(undefined, changed);
    for (const [id, instance] of Object.entries(record.instances)) {
      const ok = instance.status === 'applied' || instance.status === 'unchanged';
      this.options.status.instance(id, {
        state: ok ? 'Ready' : 'Stalled',
        reason: ok ? 'ReconciliationSucceeded' : 'ApplyFailed',
        message: ok ? `matches ${sha.slice(0, 12)}` : (instance.error ?? 'failed'),
        attempted: sha,
        ...(ok ? { applied: sha } : {}),
        changed: instance.status === 'applied' && instance.changes.length > 0,
      });
    }
    const summary = `${record.outcome}: ${changed} change${changed === 1 ? '' : 's'} on ${Object.values(record.instances).filter((instance) => instance.changes.length > 0).length} instance(s) in ${seconds.toFixed(1)} s`;
    if (record.outcome === 'failed') {
      const failures = Object.entries(record.instances).filter(([, instance]) => instance.status === 'failed' || instance.status === 'skipped');
      const text = failures.map(([id, instance]) => `${id}: ${instance.error ?? instance.status}`).join('\n');
      log.error({ failed: failures.length, stopped: result?.stopped }, 'apply failed on some instances');
      const wait = this.scheduleRetry();
      this.options.status.stalled('ApplyFailed', `${revision.sha.slice(0, 12)} failed on ${failures.length} instance(s); trying again in ${Math.round(wait / 1000)} s:\n${text}`, sha);
      this.notify(`result:${record.attempt}`, { kind: 'apply-failed', channel: this.channelOf(revision), title: `Apply of ${sha.slice(0, 12)} failed on ${failures.length} instance(s)`, text, revision: sha, event: appliedEvent(record, revisionRef(revision), this.links) });
      return;
    }
    log.info({ outcome: record.outcome, changes: changed, durationMs: record.durationMs }, 'reconciled');
    // A success makes an earlier failure's retry moot: the fleet matches what is in force now.
    this.retries = 0;
    this.retryDue = false;
    clearTimeout(this.retryTimer);
    if (record.trigger === 'revision' || record.trigger === 'break-glass' || this.options.status.get().lastAppliedRevision !== sha) {
      this.options.store.setMeta(META_LAST_APPLIED, sha);
      this.options.status.applied(sha, `applied ${sha.slice(0, 12)}: ${summary}`);
      this.options.metrics.lastAppliedTimestamp.set(Date.now() / 1000);
    } else {
      this.options.status.ready(`the fleet matches ${sha.slice(0, 12)} (${summary})`);
    }
    if (changed > 0 || record.trigger === 'revision') {
      const kind = record.trigger === 'drift' ? 'drift-corrected' : record.trigger === 'break-glass' ? 'break-glass' : 'applied';
      this.notify(`result:${record.attempt}`, { kind, channel: this.channelOf(revision), title: `${sha.slice(0, 12)} ${record.trigger === 'drift' ? 'restored' : 'applied'}: ${revision.subject ?? ''}`.trim(), text: describeRecord(record), revision: sha, event: appliedEvent(record, revisionRef(revision), this.links) });
    }
  }

  /**
   * What applying commit `sha` would do to the fleet as it is now, as plan text (a pull request's
   * body shows it to the reviewer). Reads the fleet; changes nothing, records nothing.
   */
  async planFor(sha: string): Promise<string> {
    const revision = await this.options.repo.revision(sha);
    const loaded = await this.load(revision, undefined);
    if (!loaded.ok) return `This change would not be applied: the desired state is not valid.\n${loaded.problems.join('\n')}`;
    const { desired, policy } = loaded.good;
    const executor = await this.options.executorFor(desired.fleet.region);
    const listed = await executor.instances(desired.fleet.hostgroups);
    const inventory = await executor.inventory(listed.instances);
    return renderPlan(buildPlan(desired, inventory.observed, policy, this.now()));
  }

  /** The revision's reconcile ended; a restart starts after it (unless it is older than the one marked). */
  private handled(sha: string): void {
    this.options.store.setMeta(META_LAST_HANDLED, sha);
  }

  /** Loads and checks a revision's desired state; its problems as `file:line:col: message` lines. */
  private async load(revision: Revision, log: Logger | undefined): Promise<{ ok: true; good: GoodRevision } | { ok: false; problems: string[] }> {
    const dir = await this.options.repo.exportTree(revision.sha, this.options.exportRoot);
    this.rememberExport(path.join(this.options.exportRoot, revision.sha));
    const loaded = await loadDesiredState(dir, { cwd: path.join(this.options.exportRoot, revision.sha) });
    if (!loaded.ok) return { ok: false, problems: loaded.problems.map(formatProblem) };
    const generation = this.generationOf(revision);
    log?.debug({ files: loaded.files.length, generation }, 'revision loaded');
    return {
      ok: true,
      good: {
        revision,
        desired: { ...loaded.desired, revision: revision.sha },
        policy: { ...loaded.desired.fleet.policy, ...(revision.allowDeletions !== undefined ? { allowDeletions: revision.allowDeletions } : {}) },
        generation,
      },
    };
  }

  /**
   * The apply generation of a revision: its commit time, raised to the highest generation used so
   * far when the clock went backwards, so that it only grows; fixed once chosen.
   */
  private generationOf(revision: Revision): number {
    const key = `${META_GENERATION}:${revision.sha}`;
    const known = this.options.store.getMeta(key);
    if (known) return Number(known);
    const generation = Math.max(revision.committedAt, Number(this.options.store.getMeta(META_GENERATION) ?? 0));
    this.options.store.setMeta(key, String(generation));
    this.raiseGeneration(generation);
    return generation;
  }

  private raiseGeneration(generation: number): void {
    if (generation > Number(this.options.store.getMeta(META_GENERATION) ?? 0)) this.options.store.setMeta(META_GENERATION, String(generation));
  }

  /** Keeps the newest exported trees; older ones are removed so the disk use stays flat. */
  private rememberExport(dir: string): void {
    if (this.exports.includes(dir)) return;
    this.exports.push(dir);
    while (this.exports.length > EXPORTS_KEPT) {
      const old = this.exports.shift()!;
      if (old !== path.join(this.options.exportRoot, this.good?.revision.sha ?? '')) void rm(old, { recursive: true, force: true });
    }
  }

  private failed(work: Work, error: unknown): void {
    const sha = work.kind === 'revision' ? work.revision.sha : work.good.revision.sha;
    const message = error instanceof Error ? error.message : String(error);
    const gitProblem = error instanceof RollcallError && error.code === 'git';
    this.log.error({ err: error, revision: sha }, 'reconcile failed');
    this.options.metrics.reconciles.inc({ trigger: work.kind, result: 'failed' });
    const wait = this.scheduleRetry();
    this.options.status.stalled(gitProblem ? 'GitOperationFailed' : 'FleetUnreachable', `${message}; trying again in ${Math.round(wait / 1000)} s`, sha);
    // Operators hear of it once when it begins, not at every retry; the status page has the rest.
    if (!gitProblem && !this.fleetUnreachable) {
      this.fleetUnreachable = true;
      const revision = work.kind === 'revision' ? work.revision : work.good.revision;
      this.notify(`unreachable:${sha}:${Date.now()}`, {
        kind: 'stalled',
        channel: 'ops',
        title: `Cloud Assistant unreachable: ${sha.slice(0, 12)} not applied`,
        text: message,
        revision: sha,
        event: { kind: 'stalled', reason: 'unreachable', revision: revisionRef(revision), message, links: this.links },
      });
    }
    // The revision is tried again from the start when the retry is due; later ones wait for it.
    if (work.kind === 'revision') this.held = work.revision;
  }

  private readFailed(error: unknown): void {
    const wait = Math.min(this.driftIntervalMs(), this.options.retryBaseMs ?? 30_000);
    this.log.error({ err: error }, 'could not read the repository');
    this.options.status.stalled('GitOperationFailed', `could not read the repository: ${(error as Error).message}; trying again in ${Math.round(wait / 1000)} s`);
    if (!this.stopping) setTimeout(() => this.revisionsChanged(), wait).unref();
  }

  private driftIntervalMs(): number {
    if (this.options.driftIntervalMs !== undefined) return this.options.driftIntervalMs;
    const interval = this.good?.desired.fleet.policy.interval ?? '10m';
    const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[interval.slice(-1) as 's' | 'm' | 'h'];
    return Number(interval.slice(0, -1)) * unit;
  }

  /** The next drift check, with ±10 % jitter so that many rollcalls do not call the API in step. */
  private scheduleDrift(): void {
    clearTimeout(this.driftTimer);
    if (this.stopping) return;
    const interval = this.driftIntervalMs();
    this.driftTimer = setTimeout(() => {
      this.driftTimer = undefined;
      this.checkDrift();
    }, interval * (0.9 + Math.random() * 0.2)).unref();
  }

  /** Drift checks go on whatever happened: after a restart, a failure, a retry. */
  private ensureDriftScheduled(): void {
    if (!this.driftTimer && !this.driftDue && this.good) this.scheduleDrift();
  }

  /** A retry after a failure: exponential with jitter, at most the drift interval. Returns the wait. */
  private scheduleRetry(): number {
    clearTimeout(this.retryTimer);
    const base = this.options.retryBaseMs ?? 30_000;
    const wait = Math.min(this.driftIntervalMs(), base * 2 ** Math.min(this.retries++, 10)) * (0.8 + Math.random() * 0.4);
    if (!this.stopping) {
      this.retryTimer = setTimeout(() => {
        if (this.held) {
          this.queue.unshift(this.held);
          this.held = undefined;
        } else {
          this.retryDue = true;
        }
        this.poke();
      }, wait).unref();
    }
    return wait;
  }

  /**
   * Where a revision's results go: the group of the flow that made it (its `Flow:` trailer, a flow
   * of approvals.yaml in force with a `notify` channel), else the operators' channel.
   */
  private channelOf(revision: Revision): string {
    return this.channelOfFlow(revision.trailers[FLOW_TRAILER]?.[0]);
  }

  /** The `notify` channel of flow `<platform>/<code>` in the state in force; `ops` when there is none. */
  channelOfFlow(named: string | undefined): string {
    const slash = named?.indexOf('/') ?? -1;
    if (!named || slash < 0) return 'ops';
    const [platform, code] = [named.slice(0, slash), named.slice(slash + 1)];
    const flow = this.good?.desired.approvals.flows.find((candidate) => candidate.platform === platform && flowCode(candidate) === code);
    return flow?.notify ?? 'ops';
  }

  private putInForce(good: GoodRevision): void {
    const changed = this.good?.revision.sha !== good.revision.sha;
    this.good = good;
    if (changed) this.options.onInForce?.();
  }

  private get links(): Links {
    return this.options.links ?? {};
  }

  /** The revision in force (the last good one) and its desired state; undefined before there is one. */
  inForce(): { sha: string; desired: DesiredState } | undefined {
    return this.good ? { sha: this.good.revision.sha, desired: this.good.desired } : undefined;
  }

  private notify(key: string, notification: Parameters<Outbox['enqueue']>[1]): void {
    this.options.outbox.enqueue(key, notification);
  }
}

/** The result of an apply that could not run at all: every instance of the plan failed, with why. */
function failedEverywhere(plan: Plan, error: unknown): ApplyResult {
  const message = `not applied: ${error instanceof Error ? error.message : String(error)}`;
  return { instances: Object.keys(plan.instances).sort().map((instance) => ({ instance, status: 'failed', results: [], message })), stopped: message };
}

function describeDrift(plan: Plan): string {
  return Object.entries(plan.instances)
    .map(([id, entries]) => `${id}: ${entries.map((entry) => `${entry.action} ${entry.kind} ${entry.name}`).join(', ')}`)
    .join('\n');
}

function describeRecord(record: ResultRecord): string {
  return Object.entries(record.instances)
    .filter(([, instance]) => instance.changes.length > 0 || instance.status !== 'unchanged')
    .map(([id, instance]) => `${id} ${instance.status}: ${instance.changes.map((change) => `${change.action} ${change.kind} ${change.name}`).join(', ') || 'no changes'}${instance.error ? ` (${instance.error})` : ''}`)
    .join('\n');
}
