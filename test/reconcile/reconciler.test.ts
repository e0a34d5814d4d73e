import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import { createLogger } from '../../src/config/logger.js';
import type { ApplyOptions, ApplyResult, Executor, FleetInstance, InstanceList, InventoryResult } from '../../src/executors/types.js';
import type { PlanEvent } from '../../src/notify/events.js';
import type { ObservedInstance } from '../../src/plan/observed-state.js';
import type { Plan } from '../../src/plan/types.js';
import { Metrics, reconcilerMetrics } from '../../src/reconcile/metrics.js';
import { Outbox, type Notification } from '../../src/reconcile/outbox.js';
import { BREAK_GLASS_TRAILER } from '../../src/reconcile/break-glass.js';
import { Reconciler } from '../../src/reconcile/reconciler.js';
import { StateStore } from '../../src/reconcile/state-store.js';
import { StatusTracker, type ReconcilerStatus } from '../../src/reconcile/status.js';
import type { DesiredRepository, Revision } from '../../src/source/desired-repository.js';
import type { ResultNotes, ResultRecord } from '../../src/source/result-notes.js';

const EXAMPLE = path.resolve('desired-state');
const WEB = 'i-bp1web0000001';
const DB = 'i-bp1db0000001';
const TODAY = new Date('2026-03-01T04:00:00.000Z');

// ── fakes ──────────────────────────────────────────────────────────────────────────────────────

interface FakeCommit {
  revision: Revision;
  /** Files under desired-state/ this commit writes (text) or removes (null). */
  files: Record<string, string | null>;
}

/** The parts of DesiredRepository the reconciler uses, over commits kept in memory. */
class FakeRepository {
  readonly commits: FakeCommit[] = [];
  readonly exported: string[] = [];

  /** Adds a commit on top of the branch; returns its revision. */
  commit(subject: string, files: Record<string, string | null> = {}, trailers: Record<string, string[]> = {}): Revision {
    const index = this.commits.length;
    const sha = createHash('sha1').update(`${index}:${subject}`).digest('hex');
    const revision: Revision = { sha, committedAt: 1_772_000_000 + index * 60, subject, author: 'Test <test@example.com>', trailers };
    this.commits.push({ revision, files });
    return revision;
  }

  async head(): Promise<Revision> {
    const last = this.commits.at(-1);
    if (!last) throw new RollcallError('git', 'the fake repository has no commits');
    return last.revision;
  }

  async revision(sha: string): Promise<Revision> {
    const found = this.commits.find((commit) => commit.revision.sha === sha);
    if (!found) throw new RollcallError('invalid-input', `no commit ${sha}`);
    return found.revision;
  }

  async pendingRevisions(since: string | undefined, head: string): Promise<Revision[]> {
    const to = this.commits.findIndex((commit) => commit.revision.sha === head);
    const from = since === undefined ? -1 : this.commits.findIndex((commit) => commit.revision.sha === since);
    if (from === -1 || from > to) return [this.commits[to]!.revision];
    return this.commits.slice(from + 1, to + 1).map((commit) => commit.revision);
  }

  /** The example desired state with every commit's files up to `sha`, at `<destRoot>/<sha>/desired-state`. */
  async exportTree(sha: string, destRoot: string): Promise<string> {
    const dir = path.join(destRoot, sha, 'desired-state');
    this.exported.push(sha);
    if (existsSync(dir)) return dir;
    cpSync(EXAMPLE, dir, { recursive: true });
    const upTo = this.commits.findIndex((commit) => commit.revision.sha === sha);
    if (upTo === -1) throw new RollcallError('invalid-input', `no commit ${sha}`);
    for (const commit of this.commits.slice(0, upTo + 1)) {
      for (const [file, text] of Object.entries(commit.files)) {
        const target = path.join(dir, file);
        if (text === null) rmSync(target, { force: true });
        else {
          mkdirSync(path.dirname(target), { recursive: true });
          writeFileSync(target, text);
        }
      }
    }
    return dir;
  }
}

/** The git notes, in memory: records per commit, newest last, one per attempt. */
class FakeNotes {
  readonly byCommit = new Map<string, ResultRecord[]>();
  pushes = 0;

  constructor(private readonly repo: FakeRepository) {}

  async read(sha: string): Promise<ResultRecord[]> {
    return structuredClone(this.byCommit.get(sha) ?? []);
  }

  async append(sha: string, record: ResultRecord): Promise<boolean> {
    const records = this.byCommit.get(sha) ?? [];
    if (records.some((existing) => existing.attempt === record.attempt)) return false;
    this.byCommit.set(sha, [...records, structuredClone(record)]);
    return true;
  }

  async push(): Promise<boolean> {
    this.pushes++;
    return true;
  }

  async lastApplied(head: string): Promise<{ sha: string; record: ResultRecord } | undefined> {
    const tip = this.repo.commits.findIndex((commit) => commit.revision.sha === head);
    for (const commit of this.repo.commits.slice(0, tip + 1).reverse()) {
      const record = (this.byCommit.get(commit.revision.sha) ?? [])
        .filter((entry) => (entry.trigger === 'revision' || entry.trigger === 'break-glass') && (entry.outcome === 'applied' || entry.outcome === 'no-changes'))
        .at(-1);
      if (record) return { sha: commit.revision.sha, record };
    }
    return undefined;
  }
}

/** lisi as rollcall left her: managed, on every instance, so that a lock of her has something to lock. */
function observedInstance(tags: Record<string, string>): ObservedInstance {
  return {
    tags,
    users: [{ login: 'lisi', uid: 20002, gid: 20002, name: 'Li Si', home: '/home/lisi', shell: '/bin/bash', groups: ['devops', 'docker', 'oncall'], sshKeys: [], locked: false, expires: null, managed: true }],
    groups: [{ name: 'docker', gid: 999, members: [], managed: false }],
    sudoers: {},
  };
}

interface ApplyCall {
  plan: Plan;
  options: ApplyOptions;
}

/** An executor that records every call; what `apply` answers is up to the test. */
class FakeExecutor implements Executor {
  readonly calls: string[] = [];
  readonly applies: ApplyCall[] = [];
  readonly fleet: FleetInstance[] = [
    { id: DB, tags: {} },
    { id: WEB, tags: { app: 'web' } },
  ];

  constructor(private readonly answer: (call: ApplyCall, index: number) => Promise<ApplyResult> = async (call) => appliedEverywhere(call.plan)) {}

  async instances(): Promise<InstanceList> {
    this.calls.push('instances');
    return { instances: structuredClone(this.fleet), warnings: [], unreachable: [] };
  }

  async inventory(instances: readonly FleetInstance[]): Promise<InventoryResult> {
    this.calls.push('inventory');
    return { observed: { instances: Object.fromEntries(instances.map((instance) => [instance.id, observedInstance(instance.tags)])) }, failures: [] };
  }

  async apply(plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
    this.calls.push('apply');
    const call = { plan: structuredClone(plan), options };
    this.applies.push(call);
    return this.answer(call, this.applies.length - 1);
  }

  async quiesce(): Promise<number> {
    this.calls.push('quiesce');
    return 0;
  }
}

function appliedEverywhere(plan: Plan): ApplyResult {
  return { instances: Object.keys(plan.instances).map((instance) => ({ instance, status: 'applied' as const, results: [], exitCode: 0, durationMs: 12 })) };
}

/** The plan's entries as `action kind name` lines, per instance. */
function entriesOf(plan: Plan): Record<string, string[]> {
  return Object.fromEntries(Object.entries(plan.instances).map(([id, entries]) => [id, entries.map((entry) => `${entry.action} ${entry.kind} ${entry.name}`)]));
}

// ── harness ────────────────────────────────────────────────────────────────────────────────────

let exportRoot: string;
let repo: FakeRepository;
let notes: FakeNotes;
let store: StateStore;
const running: Reconciler[] = [];
const outboxes: Outbox[] = [];

beforeEach(() => {
  exportRoot = mkdtempSync(path.join(tmpdir(), 'rollcall-reconciler-'));
  repo = new FakeRepository();
  notes = new FakeNotes(repo);
  store = StateStore.inMemory();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((reconciler) => reconciler.stop()));
  await Promise.all(outboxes.splice(0).map((outbox) => outbox.stop()));
  store.close();
  rmSync(exportRoot, { recursive: true, force: true });
});

/** A Reconciler on the shared repo, notes and store, with a real StatusTracker, Outbox and Metrics. */
function reconcilerWith(executor: Executor, options: { retryBaseMs?: number; keepRunning?: boolean; driftIntervalMs?: number } = {}) {
  const statuses: ReconcilerStatus[] = [];
  const delivered: Notification[] = [];
  const status = new StatusTracker({ repo: '/srv/desired', branch: 'main', path: 'desired-state' }, (current) => statuses.push(current));
  const log = createLogger({ ROLLCALL_LOG_LEVEL: 'silent' });
  const outbox = new Outbox(store, { deliver: async (notification) => void delivered.push(notification) }, log);
  const registry = new Metrics();
  const metrics = reconcilerMetrics(registry);
  const regions: string[] = [];
  const reconciler = new Reconciler({
    repo: repo as unknown as DesiredRepository,
    notes: notes as unknown as ResultNotes,
    store,
    executorFor: async (region) => (regions.push(region), executor),
    status,
    outbox,
    metrics,
    log,
    exportRoot,
    now: () => TODAY,
    driftIntervalMs: options.driftIntervalMs ?? 3_600_000,
    retryBaseMs: options.retryBaseMs ?? 3_600_000,
  });
  // A reconciler whose apply never ends cannot be stopped: the test leaves it, as a crash would.
  if (options.keepRunning !== false) running.push(reconciler);
  outboxes.push(outbox);
  return { reconciler, status, statuses, delivered, outbox, metrics, regions };
}

/** Starts it and waits until nothing is queued and nothing runs. */
async function startIdle(reconciler: Reconciler): Promise<void> {
  void reconciler.start();
  await reconciler.idle();
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function example(file: string): string {
  return readFileSync(path.join(EXAMPLE, file), 'utf8');
}

const ZHANGSAN_SH = { 'users/E1001.yaml': `${example('users/E1001.yaml')}shell: /bin/sh\n` };
const SUNQI_RENAMED = { 'users/E1005.yaml': example('users/E1005.yaml').replace('name: Sun Qi', 'name: Sun Qi (web)') };
const LISI_ABSENT = { 'users/E1002.yaml': `${example('users/E1002.yaml')}state: absent\n` };
const BROKEN_YAML = { 'users/E1001.yaml': 'empId: E1001\nlogin: [zhangsan\n' };

// ── tests ──────────────────────────────────────────────────────────────────────────────────────

describe('Reconciler: revisions', () => {
  it('applies the tip on a first start, then each new revision once, in commit order', async () => {
    const executor = new FakeExecutor();
    const { reconciler, status, regions } = reconcilerWith(executor);
    const first = repo.commit('Initial desired state');
    await startIdle(reconciler);
    expect(executor.applies.map((call) => call.plan.revision)).toEqual([first.sha]);
    expect(regions).toContain('cn-hangzhou');

    const second = repo.commit('Give zhangsan /bin/sh', ZHANGSAN_SH);
    const third = repo.commit('Rename sunqi', SUNQI_RENAMED);
    reconciler.revisionsChanged();
    await reconciler.idle();

    expect(executor.applies.map((call) => call.plan.revision)).toEqual([first.sha, second.sha, third.sha]);
    expect(executor.applies.map((call) => call.options.attempt)).toEqual([`${first.sha.slice(0, 12)}-1`, `${second.sha.slice(0, 12)}-1`, `${third.sha.slice(0, 12)}-1`]);
    // Generations only grow, one per revision (its commit time).
    expect(executor.applies.map((call) => call.options.generation)).toEqual([first.committedAt, second.committedAt, third.committedAt]);
    // Each plan is of its own revision: the second creates zhangsan with the shell it gave him.
    const zhangsan = (call: (typeof executor.applies)[number]) => call.plan.instances[WEB]?.find((entry) => entry.kind === 'user' && entry.name === 'zhangsan');
    expect(zhangsan(executor.applies[0]!)).toMatchObject({ action: 'create', after: { shell: '/bin/bash' } });
    expect(zhangsan(executor.applies[1]!)).toMatchObject({ action: 'create', after: { shell: '/bin/sh' } });
    for (const revision of [first, second, third]) {
      const records = await notes.read(revision.sha);
      expect(records.map((record) => [record.trigger, record.outcome])).toEqual([['revision', 'applied']]);
    }
    expect(status.get()).toMatchObject({ state: 'Ready', reason: 'ReconciliationSucceeded', lastAppliedRevision: third.sha, lastAttemptedRevision: third.sha });
    expect(status.get().instances[WEB]).toMatchObject({ state: 'Ready', lastAppliedRevision: third.sha });

    // Nothing new: waking it up applies nothing again.
    reconciler.revisionsChanged();
    await reconciler.idle();
    expect(executor.applies).toHaveLength(3);
  });

  it('writes the intent before the apply and marks the attempt recorded after the note', async () => {
    const seen: string[] = [];
    const executor = new FakeExecutor(async (call) => {
      const attempt = call.options.attempt!;
      seen.push(store.reconcile(attempt)?.phase ?? 'missing');
      return appliedEverywhere(call.plan);
    });
    const { reconciler } = reconcilerWith(executor);
    const first = repo.commit('Initial desired state');
    await startIdle(reconciler);
    expect(seen).toEqual(['applying']);
    const row = store.reconcile(`${first.sha.slice(0, 12)}-1`);
    expect(row).toMatchObject({ phase: 'recorded', revision: first.sha, trigger: 'revision', generation: first.committedAt });
    expect(JSON.parse(row!.plan)).toMatchObject({ region: 'cn-hangzhou', instances: [DB, WEB] });
    expect(store.unfinishedReconciles()).toEqual([]);
    expect(notes.pushes).toBe(1);
  });

  it('an invalid revision is Stalled ValidationFailed, not applied, and the next good one is', async () => {
    const executor = new FakeExecutor();
    const { reconciler, status, statuses, delivered, outbox, metrics } = reconcilerWith(executor);
    const good = repo.commit('Initial desired state');
    await startIdle(reconciler);

    const bad = repo.commit('A typo', BROKEN_YAML);
    reconciler.revisionsChanged();
    await reconciler.idle();
    expect(executor.applies).toHaveLength(1);
    const stalled = status.get();
    expect(stalled).toMatchObject({ state: 'Stalled', reason: 'ValidationFailed', lastAttemptedRevision: bad.sha, lastAppliedRevision: good.sha });
    expect(stalled.message).toContain(`revision ${bad.sha.slice(0, 12)} is invalid and was not applied; ${good.sha.slice(0, 12)} stays in force`);
    expect(stalled.message).toContain('desired-state/users/E1001.yaml:');
    expect(stalled.conditions.find((condition) => condition.type === 'Stalled')?.status).toBe('True');
    expect(metrics.reconciles.value({ trigger: 'revision', result: 'invalid' })).toBe(1);
    expect(await notes.read(bad.sha)).toEqual([]);
    await outbox.kick();
    expect(delivered).toContainEqual(expect.objectContaining({ kind: 'stalled', channel: 'ops', revision: bad.sha }));
    // The same as data, for the chat renderers: the problems with their file:line:col.
    expect(delivered.find((notification) => notification.kind === 'stalled')?.event).toMatchObject({
      kind: 'stalled',
      reason: 'invalid-revision',
      revision: { sha: bad.sha },
      problems: [expect.stringMatching(/^desired-state\/users\/E1001\.yaml:\d+:\d+: /)],
    });

    const fixed = repo.commit('Fix the typo', { 'users/E1001.yaml': example('users/E1001.yaml') });
    reconciler.revisionsChanged();
    await reconciler.idle();
    expect(executor.applies.map((call) => call.plan.revision)).toEqual([good.sha, fixed.sha]);
    expect(status.get()).toMatchObject({ state: 'Ready', lastAppliedRevision: fixed.sha });
    // The status went Reconciling → Stalled → Reconciling → Ready over the two revisions.
    const states = statuses.map((entry) => `${entry.state}/${entry.reason}`);
    expect(states.indexOf('Stalled/ValidationFailed')).toBeGreaterThan(-1);
    expect(states.lastIndexOf('Ready/ReconciliationSucceeded')).toBeGreaterThan(states.indexOf('Stalled/ValidationFailed'));
  });

  it('a break-glass revision queued behind others goes first, its lock before the rest of its plan', async () => {
    const executor = new FakeExecutor();
    const { reconciler, delivered, outbox } = reconcilerWith(executor);
    const first = repo.commit('Initial desired state');
    await startIdle(reconciler);

    const before = repo.commit('Give zhangsan /bin/sh', ZHANGSAN_SH);
    const breakGlass = repo.commit('Lock E1002 (lisi) now', LISI_ABSENT, { Request: ['lock'], [BREAK_GLASS_TRAILER]: ['lisi'] });
    const after = repo.commit('Rename sunqi', SUNQI_RENAMED);
    reconciler.revisionsChanged();
    await reconciler.idle();

    expect(executor.applies.map((call) => call.plan.revision)).toEqual([first.sha, breakGlass.sha, breakGlass.sha, after.sha]);
    // First: only the lock of lisi, on every instance that has her.
    expect(entriesOf(executor.applies[1]!.plan)).toEqual({ [DB]: ['lock user lisi'], [WEB]: ['lock user lisi'] });
    expect(executor.applies[1]!.plan.summary).toEqual({ create: 0, update: 0, lock: 2, delete: 0 });
    // Then everything else of that revision, zhangsan's change from the revision before it included.
    const rest = entriesOf(executor.applies[2]!.plan);
    expect(Object.values(rest).flat()).not.toContain('lock user lisi');
    expect(rest[WEB]).toContain('create user zhangsan');
    expect(executor.applies.map((call) => call.options.attempt)).toEqual([
      `${first.sha.slice(0, 12)}-1`,
      `${breakGlass.sha.slice(0, 12)}-1`,
      `${breakGlass.sha.slice(0, 12)}-2`,
      `${after.sha.slice(0, 12)}-1`,
    ]);
    expect((await notes.read(breakGlass.sha)).map((record) => record.trigger)).toEqual(['break-glass', 'revision']);
    // The revision before it was not applied on its own.
    expect(await notes.read(before.sha)).toEqual([]);
    await outbox.kick();
    expect(delivered.map((notification) => notification.kind)).toContain('break-glass');
    expect(delivered.find((notification) => notification.kind === 'break-glass')?.event).toMatchObject({ kind: 'applied', trigger: 'break-glass', accounts: { locked: ['lisi'] } });
  });

  it('a revision already recorded in the notes is not applied again', async () => {
    const executor = new FakeExecutor();
    const { reconciler, status } = reconcilerWith(executor);
    const first = repo.commit('Initial desired state');
    await startIdle(reconciler);

    // The note was written, then the process died before the store said so.
    const second = repo.commit('Give zhangsan /bin/sh', ZHANGSAN_SH);
    const recorded: ResultRecord = { attempt: `${second.sha.slice(0, 12)}-1`, at: '2026-03-01T04:00:00.000Z', trigger: 'revision', generation: second.committedAt, outcome: 'applied', durationMs: 900, instances: {} };
    await notes.append(second.sha, recorded);
    reconciler.revisionsChanged();
    await reconciler.idle();

    expect(executor.applies).toHaveLength(1);
    expect(await notes.read(second.sha)).toEqual([recorded]);
    expect(status.get()).toMatchObject({ state: 'Ready', lastAppliedRevision: second.sha });
    expect(status.get().message).toContain('recorded at 2026-03-01T04:00:00.000Z');
  });

  it('with a new store, the last applied revision comes from the notes and is not applied again', async () => {
    const first = repo.commit('Initial desired state');
    await notes.append(first.sha, { attempt: `${first.sha.slice(0, 12)}-1`, at: '2026-03-01T04:00:00.000Z', trigger: 'revision', generation: first.committedAt, outcome: 'applied', durationMs: 900, instances: {} });
    const executor = new FakeExecutor();
    const { reconciler } = reconcilerWith(executor);
    await startIdle(reconciler);
    expect(executor.applies).toEqual([]);
    expect(store.getMeta('lastAppliedRevision')).toBe(first.sha);

    // The attempt counter continues after the note's attempts.
    reconciler.checkDrift();
    await reconciler.idle();
    expect(executor.applies.map((call) => call.options.attempt)).toEqual([`${first.sha.slice(0, 12)}-2`]);
  });
});

describe('Reconciler: where results go', () => {
  it("an approval's commit reports to its flow's group; a commit made by hand, to ops", async () => {
    const executor = new FakeExecutor();
    const { reconciler, delivered, outbox } = reconcilerWith(executor);
    repo.commit('Initial desired state');
    await startIdle(reconciler);
    repo.commit('Give zhangsan /bin/sh', ZHANGSAN_SH, { Approval: ['dingtalk/PI-9'], Request: ['grant'], Flow: ['dingtalk/PROC-ONBOARD'] });
    reconciler.revisionsChanged();
    await reconciler.idle();
    repo.commit('Rename sunqi', SUNQI_RENAMED, { Flow: ['lark/NO-SUCH-FLOW'] });
    reconciler.revisionsChanged();
    await reconciler.idle();
    await outbox.kick();
    expect(delivered.filter((notification) => notification.kind === 'applied').map((notification) => [notification.title.split(': ')[1], notification.channel])).toEqual([
      ['Initial desired state', 'ops'],
      ['Give zhangsan /bin/sh', 'ops-dingtalk'],
      ['Rename sunqi', 'ops'],
    ]);
    // The group hears the plan first, then the result; both name the approval.
    expect(delivered.filter((notification) => notification.channel === 'ops-dingtalk').map((notification) => notification.event)).toMatchObject([
      { kind: 'plan', revision: { approval: 'dingtalk/PI-9' } },
      { kind: 'applied', revision: { approval: 'dingtalk/PI-9' } },
    ]);
    const plan = delivered.find((notification) => notification.event?.kind === 'plan' && notification.channel === 'ops-dingtalk')!.event as PlanEvent;
    expect(plan.instances.flatMap((instance) => instance.changes).some((change) => change.kind === 'user' && change.name === 'zhangsan')).toBe(true);
  });

  it('plans once per revision, before applying it, and not for a retry or a drift correction', async () => {
    const executor = new FakeExecutor();
    const { reconciler, delivered, outbox } = reconcilerWith(executor);
    repo.commit('Initial desired state');
    await startIdle(reconciler);
    reconciler.checkDrift();
    await reconciler.idle();
    await outbox.kick();
    expect(delivered.filter((notification) => notification.kind === 'plan').map((notification) => notification.title)).toEqual([expect.stringMatching(/^Plan for [0-9a-f]{12}: \d+ changes on \d+ of \d+ instance\(s\)$/)]);
    expect(delivered.map((notification) => notification.kind).indexOf('plan')).toBeLessThan(delivered.map((notification) => notification.kind).indexOf('applied'));
  });
});

describe('Reconciler: the plan of a proposed change', () => {
  it('renders what a commit would do to the fleet as it is, applying nothing', async () => {
    const executor = new FakeExecutor();
    const { reconciler } = reconcilerWith(executor);
    repo.commit('Initial desired state');
    const proposed = repo.commit('Give zhangsan /bin/sh', ZHANGSAN_SH);
    const text = await reconciler.planFor(proposed.sha);
    expect(text).toContain('zhangsan');
    expect(text).toMatch(/\/bin\/sh/);
    expect(executor.applies).toHaveLength(0);
    const broken = repo.commit('Break E1001', BROKEN_YAML);
    const refusal = await reconciler.planFor(broken.sha);
    expect(refusal).toMatch(/^This change would not be applied: the desired state is not valid\./);
    expect(refusal).toContain("desired-state/users/E1001.yaml:3:1: YAML:");
  });
});

describe('Reconciler: after a crash', () => {
  it('a new Reconciler on the same store finishes the attempt with the same name, without planning again', async () => {
    const first = repo.commit('Initial desired state');
    // The first process dies during the apply: its invocation started, its apply never returns.
    const crashed = new FakeExecutor(async (call) => {
      await call.options.journal!.starting({ clientToken: 'token-1', chunk: '1/1', instances: [DB, WEB] });
      await call.options.journal!.started({ clientToken: 'token-1', invokeId: 't-0001' });
      return new Promise<ApplyResult>(() => {});
    });
    const before = reconcilerWith(crashed, { keepRunning: false });
    void before.reconciler.start();
    await waitFor('the first apply', () => crashed.applies.length === 1);
    const attempt = `${first.sha.slice(0, 12)}-1`;
    expect(crashed.applies[0]!.options.attempt).toBe(attempt);
    expect(store.unfinishedReconciles().map((row) => [row.attempt, row.phase])).toEqual([[attempt, 'applying']]);
    expect(store.inFlightInvocations()).toEqual([expect.objectContaining({ clientToken: 'token-1', attempt, revision: first.sha, chunk: '1/1', instances: [DB, WEB], invokeId: 't-0001' })]);

    const resumed = new FakeExecutor();
    const after = reconcilerWith(resumed);
    await startIdle(after.reconciler);

    expect(resumed.applies).toHaveLength(1);
    expect(resumed.applies[0]!.options.attempt).toBe(attempt);
    expect(resumed.applies[0]!.options.generation).toBe(crashed.applies[0]!.options.generation);
    expect(resumed.applies[0]!.plan).toEqual(crashed.applies[0]!.plan);
    // Not planned again: the fleet was neither listed nor read.
    expect(resumed.calls).toEqual(['apply']);
    expect((await notes.read(first.sha)).map((record) => record.attempt)).toEqual([attempt]);
    expect(store.reconcile(attempt)?.phase).toBe('recorded');
    expect(store.inFlightInvocations()).toEqual([]);
    expect(after.status.get()).toMatchObject({ state: 'Ready', lastAppliedRevision: first.sha });
  });

  it('an attempt already applied (phase applied) is only recorded', async () => {
    const first = repo.commit('Initial desired state');
    const attempt = `${first.sha.slice(0, 12)}-1`;
    const plan: Plan = {
      revision: first.sha,
      summary: { create: 1, update: 0, lock: 0, delete: 0 },
      instances: { [WEB]: [{ action: 'create', kind: 'group', name: 'devops', after: { gid: 3001 } }] },
      errors: [],
      warnings: [],
    };
    store.beginReconcile({ attempt, revision: first.sha, trigger: 'revision', generation: 42, plan: JSON.stringify({ plan, region: 'cn-hangzhou', instances: [DB, WEB] }), startedAt: Date.now() - 1_000 });
    store.finishApply(attempt, JSON.stringify({ instances: [{ instance: WEB, status: 'applied', results: [], exitCode: 0, durationMs: 77 }] } satisfies ApplyResult));

    const executor = new FakeExecutor();
    const { reconciler, status } = reconcilerWith(executor);
    await startIdle(reconciler);

    expect(executor.calls).not.toContain('apply');
    const records = await notes.read(first.sha);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      attempt,
      trigger: 'revision',
      generation: 42,
      outcome: 'applied',
      instances: {
        [WEB]: { status: 'applied', changes: [{ action: 'create', kind: 'group', name: 'devops' }], exitCode: 0, durationMs: 77 },
        [DB]: { status: 'unchanged', changes: [] },
      },
    });
    expect(store.reconcile(attempt)?.phase).toBe('recorded');
    expect(status.get()).toMatchObject({ state: 'Ready', lastAppliedRevision: first.sha });
  });
});

describe('Reconciler: drift', () => {
  it('in detect mode, reports drift without applying it', async () => {
    const executor = new FakeExecutor();
    const { reconciler, status, delivered, outbox, metrics } = reconcilerWith(executor);
    const first = repo.commit('Detect drift only', { 'fleet.yaml': example('fleet.yaml').replace('drift: correct', 'drift: detect') });
    await startIdle(reconciler);
    expect(executor.applies).toHaveLength(1);

    // The fake fleet never changes, so it still differs from the desired state: drift.
    reconciler.checkDrift();
    await reconciler.idle();
    expect(executor.applies).toHaveLength(1);
    expect(status.get()).toMatchObject({ state: 'Stalled', reason: 'DriftDetected', lastAppliedRevision: first.sha });
    expect(status.get().message).toContain('policy.drift is detect, so it is not corrected');
    expect(status.get().message).toContain(`${WEB}: create group devops`);
    expect(metrics.reconciles.value({ trigger: 'drift', result: 'drift-detected' })).toBe(1);
    expect(metrics.driftFound.value()).toBeGreaterThan(0);
    await outbox.kick();
    expect(delivered).toContainEqual(expect.objectContaining({ kind: 'drift-detected', revision: first.sha }));
    expect(delivered.find((notification) => notification.kind === 'drift-detected')?.event).toMatchObject({ kind: 'drift', corrected: false, revision: { sha: first.sha } });
    expect((await notes.read(first.sha)).map((record) => record.trigger)).toEqual(['revision']);
  });

  it('in correct mode, applies the drift correction as a new attempt of the revision in force', async () => {
    const executor = new FakeExecutor();
    const { reconciler, status } = reconcilerWith(executor);
    const first = repo.commit('Initial desired state');
    await startIdle(reconciler);
    reconciler.checkDrift();
    await reconciler.idle();
    expect(executor.applies.map((call) => call.options.attempt)).toEqual([`${first.sha.slice(0, 12)}-1`, `${first.sha.slice(0, 12)}-2`]);
    expect((await notes.read(first.sha)).map((record) => record.trigger)).toEqual(['revision', 'drift']);
    expect(status.get()).toMatchObject({ state: 'Ready', lastAppliedRevision: first.sha });
  });
});

describe('Reconciler: failures', () => {
  it('a failed apply is Stalled ApplyFailed, then tried again as a new attempt, and succeeds', async () => {
    const executor = new FakeExecutor(async (call, index) => {
      if (index > 0) return appliedEverywhere(call.plan);
      return {
        instances: [
          { instance: DB, status: 'applied', results: [], exitCode: 0 },
          { instance: WEB, status: 'failed', results: [{ op: 'user-create', kind: 'user', name: 'zhangsan', status: 'failed', error: 'useradd: uid 20001 is not unique' }], exitCode: 1 },
        ],
      };
    });
    const { reconciler, status, statuses, delivered, outbox } = reconcilerWith(executor, { retryBaseMs: 20 });
    const first = repo.commit('Initial desired state');
    await startIdle(reconciler);
    await waitFor('the retry', () => executor.applies.length === 2);
    await reconciler.idle();

    const failed = statuses.find((entry) => entry.reason === 'ApplyFailed');
    expect(failed).toMatchObject({ state: 'Stalled', lastAttemptedRevision: first.sha });
    expect(failed?.message).toContain(`${WEB}: user-create user zhangsan: useradd: uid 20001 is not unique`);
    expect(executor.applies.map((call) => call.options.attempt)).toEqual([`${first.sha.slice(0, 12)}-1`, `${first.sha.slice(0, 12)}-2`]);
    expect((await notes.read(first.sha)).map((record) => [record.trigger, record.outcome])).toEqual([
      ['revision', 'failed'],
      ['revision', 'applied'],
    ]);
    expect(status.get()).toMatchObject({ state: 'Ready', lastAppliedRevision: first.sha });
    expect(status.get().instances[WEB]).toMatchObject({ state: 'Ready', lastAppliedRevision: first.sha });
    await outbox.kick();
    expect(delivered.map((notification) => notification.kind)).toEqual(['plan', 'apply-failed', 'applied']);
  });

  it('tells the operators once when Cloud Assistant cannot be reached, not at every retry', async () => {
    class Unreachable extends FakeExecutor {
      failures = 3;
      override async instances(): Promise<InstanceList> {
        if (this.failures-- > 0) throw new RollcallError('cloud-api', 'connect ECONNREFUSED ecs.cn-hangzhou.aliyuncs.com:443');
        return super.instances();
      }
    }
    const executor = new Unreachable();
    const { reconciler, delivered, outbox } = reconcilerWith(executor, { retryBaseMs: 20 });
    repo.commit('Initial desired state');
    void reconciler.start();
    await waitFor('the fleet reachable again and the revision applied', () => store.getMeta('lastAppliedRevision') !== undefined);
    await outbox.kick();
    const stalls = delivered.filter((notification) => notification.event?.kind === 'stalled');
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toMatchObject({ channel: 'ops', event: { reason: 'unreachable', message: expect.stringContaining('ECONNREFUSED') } });
    expect(delivered.some((notification) => notification.kind === 'applied')).toBe(true);
  });

  it('an apply that throws is recorded as failed and tried again as a new attempt', async () => {
    const executor = new FakeExecutor(async (call, index) => {
      if (index === 0) throw new RollcallError('cloud-api', 'DescribeInvocations: connection reset');
      return appliedEverywhere(call.plan);
    });
    const { reconciler, status, statuses } = reconcilerWith(executor, { retryBaseMs: 20 });
    const first = repo.commit('Initial desired state');
    await startIdle(reconciler);
    expect(statuses.find((entry) => entry.reason === 'ApplyFailed')?.message).toContain('DescribeInvocations: connection reset');
    const second = repo.commit('Give zhangsan /bin/sh', ZHANGSAN_SH);
    reconciler.revisionsChanged();
    await waitFor('the second revision', () => executor.applies.some((call) => call.plan.revision === second.sha));
    await reconciler.idle();
    // Either the retry of the first came before the second, or the second made it moot.
    const revisions = executor.applies.map((call) => call.plan.revision);
    expect([[first.sha, first.sha, second.sha], [first.sha, second.sha]]).toContainEqual(revisions);
    expect(status.get()).toMatchObject({ state: 'Ready', lastAppliedRevision: second.sha });
  });
});

describe('Reconciler: an attempt whose apply threw', () => {
  it('is not applied again by the next start once a later attempt was recorded', async () => {
    const executor = new FakeExecutor(async (call, index) => {
      if (index === 0) throw new RollcallError('cloud-api', 'DescribeInvocations: connection reset');
      return appliedEverywhere(call.plan);
    });
    const before = reconcilerWith(executor, { retryBaseMs: 20 });
    const first = repo.commit('Initial desired state');
    await startIdle(before.reconciler);
    await waitFor('the retry', () => executor.applies.length === 2);
    const second = repo.commit('Give zhangsan /bin/sh', ZHANGSAN_SH);
    before.reconciler.revisionsChanged();
    await waitFor('the second revision', () => executor.applies.length === 3);
    await before.reconciler.idle();
    await before.reconciler.stop();
    expect(executor.applies.map((call) => call.options.attempt)).toEqual([`${first.sha.slice(0, 12)}-1`, `${first.sha.slice(0, 12)}-2`, `${second.sha.slice(0, 12)}-1`]);

    const restarted = new FakeExecutor();
    const after = reconcilerWith(restarted);
    await startIdle(after.reconciler);
    expect(restarted.applies.map((call) => call.options.attempt)).toEqual([]);
    expect(after.statuses.map((status) => status.lastAppliedRevision).filter((sha) => sha === first.sha)).toEqual([]);
  });
});

describe('Reconciler: a repository that cannot be read', () => {
  it('stalls with GitOperationFailed, keeps the loop alive, and reads it again later', async () => {
    const executor = new FakeExecutor();
    const { reconciler, statuses, status } = reconcilerWith(executor, { retryBaseMs: 20 });
    // No commit yet: reading the branch fails.
    void reconciler.start();
    await waitFor('the failure reported', () => statuses.some((entry) => entry.reason === 'GitOperationFailed'));
    const first = repo.commit('Initial desired state');
    await waitFor('applied once the repository reads again', () => status.get().lastAppliedRevision === first.sha);
    expect(executor.applies).toHaveLength(1);
  });
});

describe('Reconciler: a restart with nothing new', () => {
  it('is Ready at the revision applied before it, without waiting for a drift check', async () => {
    const before = reconcilerWith(new FakeExecutor());
    const first = repo.commit('Initial desired state');
    await startIdle(before.reconciler);
    await before.reconciler.stop();

    const executor = new FakeExecutor();
    const after = reconcilerWith(executor);
    await startIdle(after.reconciler);
    expect(after.status.get()).toMatchObject({ state: 'Ready', lastAppliedRevision: first.sha });
    expect(executor.applies).toEqual([]);
  });
});

describe('Reconciler: drift checks', () => {
  it('go on after a restart that finds no new commit', async () => {
    const before = reconcilerWith(new FakeExecutor());
    repo.commit('Initial desired state');
    await startIdle(before.reconciler);
    await before.reconciler.stop();

    const executor = new FakeExecutor();
    const after = reconcilerWith(executor, { driftIntervalMs: 30 });
    await startIdle(after.reconciler);
    // No commit came: only the drift timer makes it look at the fleet, again and again.
    await waitFor('two drift checks', () => executor.calls.filter((call) => call === 'inventory').length >= 2);
  });
});

describe('Reconciler: idle and stop', () => {
  it('idle() resolves once the queue is empty, and at once when nothing is left to do', async () => {
    const executor = new FakeExecutor();
    const { reconciler } = reconcilerWith(executor);
    repo.commit('Initial desired state');
    await startIdle(reconciler);
    expect(reconciler.recovered).toBe(true);
    await expect(reconciler.idle()).resolves.toBeUndefined();
    await reconciler.stop();
    await expect(reconciler.idle()).resolves.toBeUndefined();
  });
});
