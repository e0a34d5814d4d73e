import { describe, expect, it } from 'vitest';
import { StatusTracker, type Condition, type ReconcilerStatus } from '../../src/reconcile/status.js';

const REPOSITORY = { repo: '/srv/desired', branch: 'main', path: 'desired-state' };
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

/** A clock the test moves by hand, as ISO strings are what the status keeps. */
function clock(start = Date.parse('2026-03-01T08:00:00.000Z')) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms), iso: () => new Date(now).toISOString() };
}

/** A tracker whose every onChange is kept. */
function tracker(saved?: ReconcilerStatus) {
  const time = clock();
  const changes: ReconcilerStatus[] = [];
  const status = new StatusTracker(REPOSITORY, (current) => changes.push(current), saved, time.now);
  return { status, changes, time };
}

function condition(status: ReconcilerStatus, type: Condition['type']): Condition {
  const found = status.conditions.find((entry) => entry.type === type);
  if (!found) throw new Error(`no ${type} condition in ${JSON.stringify(status.conditions)}`);
  return found;
}

/** The statuses of the three conditions, by type. */
function statuses(status: ReconcilerStatus): Record<Condition['type'], Condition['status']> {
  return { Ready: condition(status, 'Ready').status, Reconciling: condition(status, 'Reconciling').status, Stalled: condition(status, 'Stalled').status };
}

describe('StatusTracker transitions (Flux semantics)', () => {
  it('starts Reconciling/Starting with Ready Unknown', () => {
    const { status, time } = tracker();
    const current = status.get();
    expect(current.state).toBe('Reconciling');
    expect(current.reason).toBe('Starting');
    expect(current.repository).toEqual(REPOSITORY);
    expect(current.instances).toEqual({});
    expect(current.outboxPending).toBe(0);
    expect(current.lastAttemptedRevision).toBeUndefined();
    expect(current.lastAppliedRevision).toBeUndefined();
    expect(statuses(current)).toEqual({ Ready: 'Unknown', Reconciling: 'True', Stalled: 'False' });
    for (const entry of current.conditions) {
      expect(entry.reason).toBe('Starting');
      expect(entry.lastTransitionTime).toBe(time.iso());
    }
  });

  it('reconciling: Progressing, the attempted revision set, Ready Unknown', () => {
    const { status } = tracker();
    status.reconciling(SHA_A, 'applying aaaa');
    const current = status.get();
    expect(current).toMatchObject({ state: 'Reconciling', reason: 'Progressing', message: 'applying aaaa', lastAttemptedRevision: SHA_A });
    expect(current.lastAppliedRevision).toBeUndefined();
    expect(statuses(current)).toEqual({ Ready: 'Unknown', Reconciling: 'True', Stalled: 'False' });
    expect(condition(current, 'Ready')).toMatchObject({ reason: 'Progressing', message: 'applying aaaa' });
  });

  it('applied: Ready True, both revisions and lastHandledAt set', () => {
    const { status, time } = tracker();
    status.reconciling(SHA_A, 'applying');
    time.advance(5_000);
    status.applied(SHA_A, 'applied aaaa');
    const current = status.get();
    expect(current).toMatchObject({ state: 'Ready', reason: 'ReconciliationSucceeded', message: 'applied aaaa', lastAttemptedRevision: SHA_A, lastAppliedRevision: SHA_A, lastHandledAt: time.iso() });
    expect(statuses(current)).toEqual({ Ready: 'True', Reconciling: 'False', Stalled: 'False' });
  });

  it('stalled: Ready False, Stalled True, the reason kept; the applied revision stays', () => {
    const { status, time } = tracker();
    status.applied(SHA_A, 'applied');
    time.advance(1_000);
    status.stalled('ValidationFailed', 'users/E1.yaml:1:1: bad', SHA_B);
    const current = status.get();
    expect(current).toMatchObject({ state: 'Stalled', reason: 'ValidationFailed', message: 'users/E1.yaml:1:1: bad', lastAttemptedRevision: SHA_B, lastAppliedRevision: SHA_A, lastHandledAt: time.iso() });
    expect(statuses(current)).toEqual({ Ready: 'False', Reconciling: 'False', Stalled: 'True' });
    for (const entry of current.conditions) expect(entry.reason).toBe('ValidationFailed');
  });

  it('stalled without a revision leaves lastAttemptedRevision as it was', () => {
    const { status } = tracker();
    status.reconciling(SHA_A, 'applying');
    status.stalled('DriftDetected', 'drift');
    expect(status.get().lastAttemptedRevision).toBe(SHA_A);
  });

  it('ready: Ready True without touching the revisions', () => {
    const { status, time } = tracker();
    status.applied(SHA_A, 'applied');
    status.stalled('DriftDetected', 'drift', SHA_B);
    time.advance(2_000);
    status.ready('the fleet matches');
    const current = status.get();
    expect(current).toMatchObject({ state: 'Ready', reason: 'ReconciliationSucceeded', message: 'the fleet matches', lastAttemptedRevision: SHA_B, lastAppliedRevision: SHA_A, lastHandledAt: time.iso() });
    expect(statuses(current)).toEqual({ Ready: 'True', Reconciling: 'False', Stalled: 'False' });
  });
});

describe('lastTransitionTime', () => {
  it('is kept while a condition keeps its status and moves when the status changes', () => {
    const { status, time } = tracker();
    const started = time.iso();
    time.advance(1_000);
    status.reconciling(SHA_A, 'applying');
    // Reconciling stays True, Ready stays Unknown, Stalled stays False: no transition.
    let current = status.get();
    expect(condition(current, 'Reconciling').lastTransitionTime).toBe(started);
    expect(condition(current, 'Ready').lastTransitionTime).toBe(started);
    expect(condition(current, 'Stalled').lastTransitionTime).toBe(started);

    time.advance(1_000);
    const appliedAt = time.iso();
    status.applied(SHA_A, 'applied');
    current = status.get();
    expect(condition(current, 'Ready').lastTransitionTime).toBe(appliedAt);
    expect(condition(current, 'Reconciling').lastTransitionTime).toBe(appliedAt);
    expect(condition(current, 'Stalled').lastTransitionTime).toBe(started);

    time.advance(1_000);
    status.ready('still fine');
    current = status.get();
    expect(condition(current, 'Ready').lastTransitionTime).toBe(appliedAt);
    expect(condition(current, 'Ready').message).toBe('still fine');

    time.advance(1_000);
    const stalledAt = time.iso();
    status.stalled('ApplyFailed', 'failed', SHA_B);
    current = status.get();
    expect(condition(current, 'Ready').lastTransitionTime).toBe(stalledAt);
    expect(condition(current, 'Stalled').lastTransitionTime).toBe(stalledAt);
    expect(condition(current, 'Reconciling').lastTransitionTime).toBe(appliedAt);
  });
});

describe('instances', () => {
  it('an update keeps the revisions it does not name, and lastChangedAt unless changed', () => {
    const { status, time } = tracker();
    status.instance('i-web1', { state: 'Ready', reason: 'ReconciliationSucceeded', message: 'matches', attempted: SHA_A, applied: SHA_A, changed: true });
    const changedAt = time.iso();
    expect(status.get().instances['i-web1']).toEqual({ state: 'Ready', reason: 'ReconciliationSucceeded', message: 'matches', lastAttemptedRevision: SHA_A, lastAppliedRevision: SHA_A, lastChangedAt: changedAt });

    time.advance(60_000);
    status.instance('i-web1', { state: 'Stalled', reason: 'FleetUnreachable', message: 'offline', attempted: SHA_B });
    expect(status.get().instances['i-web1']).toEqual({ state: 'Stalled', reason: 'FleetUnreachable', message: 'offline', lastAttemptedRevision: SHA_B, lastAppliedRevision: SHA_A, lastChangedAt: changedAt });

    status.instance('i-web1', { state: 'Ready', reason: 'ReconciliationSucceeded', message: 'matches', applied: SHA_B, changed: true });
    expect(status.get().instances['i-web1']).toEqual({ state: 'Ready', reason: 'ReconciliationSucceeded', message: 'matches', lastAttemptedRevision: SHA_B, lastAppliedRevision: SHA_B, lastChangedAt: time.iso() });
  });

  it('an instance seen for the first time has no revisions it was not given', () => {
    const { status } = tracker();
    status.instance('i-new', { state: 'Stalled', reason: 'FleetUnreachable', message: 'offline' });
    expect(status.get().instances['i-new']).toEqual({ state: 'Stalled', reason: 'FleetUnreachable', message: 'offline' });
  });

  it('keepInstances drops the others', () => {
    const { status } = tracker();
    for (const id of ['i-a', 'i-b', 'i-c']) status.instance(id, { state: 'Ready', reason: 'ReconciliationSucceeded', message: 'ok' });
    status.keepInstances(new Set(['i-b', 'i-z']));
    expect(Object.keys(status.get().instances)).toEqual(['i-b']);
  });

  it('outboxPending changes the count and reports only a change', () => {
    const { status, changes } = tracker();
    status.outboxPending(3);
    status.outboxPending(3);
    expect(status.get().outboxPending).toBe(3);
    expect(changes.map((change) => change.outboxPending)).toEqual([3]);
  });

  it('robots lists the chat robots, reports only a change, and an empty list removes the field', () => {
    const { status, changes } = tracker();
    const robot = { channel: 'ops-dingtalk', target: 'https://oapi.dingtalk.com/robot/send?access_token=***', lastFailure: { code: 310000, message: 'sign not match', fix: 'check ROLLCALL_DINGTALK_SECRET' } };
    status.robots([robot]);
    status.robots([{ ...robot }]);
    expect(status.get().robots).toEqual([robot]);
    status.robots([]);
    expect(status.get().robots).toBeUndefined();
    expect(changes).toHaveLength(2);
  });

  it('approvalsPending changes the count and reports only a change', () => {
    const { status, changes } = tracker();
    status.approvalsPending(0);
    status.approvalsPending(4);
    status.approvalsPending(4);
    expect(status.get().approvalsPending).toBe(4);
    expect(changes.map((change) => change.approvalsPending)).toEqual([4]);
  });
});

describe('onChange', () => {
  it('is called on every change with a copy the tracker does not share', () => {
    const { status, changes } = tracker();
    status.reconciling(SHA_A, 'applying');
    status.instance('i-web1', { state: 'Ready', reason: 'ReconciliationSucceeded', message: 'ok' });
    status.instance('i-web2', { state: 'Ready', reason: 'ReconciliationSucceeded', message: 'ok' });
    // Nothing dropped: no change, so nothing to save.
    status.keepInstances(new Set(['i-web1', 'i-web2']));
    status.keepInstances(new Set(['i-web1']));
    status.applied(SHA_A, 'applied');
    expect(changes.map((change) => change.state)).toEqual(['Reconciling', 'Reconciling', 'Reconciling', 'Reconciling', 'Ready']);
    expect(Object.keys(changes[3]!.instances)).toEqual(['i-web1']);

    const first = changes[0]!;
    first.state = 'Stalled';
    first.conditions[0]!.status = 'False';
    first.instances['i-hacked'] = { state: 'Ready', reason: 'ReconciliationSucceeded', message: '' };
    changes[1]!.instances['i-web1']!.message = 'changed by a listener';
    const current = status.get();
    expect(current.state).toBe('Ready');
    expect(current.instances).toEqual({ 'i-web1': { state: 'Ready', reason: 'ReconciliationSucceeded', message: 'ok' } });
    expect(condition(current, 'Ready').status).toBe('True');
    // Each call got its own snapshot, not one object changed afterwards.
    expect(changes[0]).not.toBe(changes[4]);
    expect(changes[4]!.lastAppliedRevision).toBe(SHA_A);
    expect(changes[0]!.lastAppliedRevision).toBeUndefined();
  });

  it('get() returns a copy too', () => {
    const { status } = tracker();
    const copy = status.get();
    copy.message = 'edited';
    copy.conditions.splice(0);
    expect(status.get().message).not.toBe('edited');
    expect(status.get().conditions).toHaveLength(3);
  });
});

describe('a saved status', () => {
  it('restores revisions, instances and the outbox count, but starts Reconciling again', () => {
    const first = tracker();
    first.status.applied(SHA_A, 'applied aaaa');
    first.status.instance('i-web1', { state: 'Ready', reason: 'ReconciliationSucceeded', message: 'matches', attempted: SHA_A, applied: SHA_A, changed: true });
    first.status.stalled('ApplyFailed', 'failed on i-db1', SHA_B);
    first.status.outboxPending(2);
    // Saved the way the daemon saves it: JSON in the state store.
    const saved = JSON.parse(JSON.stringify(first.status.get())) as ReconcilerStatus;

    const second = tracker(saved);
    const current = second.status.get();
    expect(current.state).toBe('Reconciling');
    expect(current.reason).toBe('Starting');
    expect(current.lastAttemptedRevision).toBe(SHA_B);
    expect(current.lastAppliedRevision).toBe(SHA_A);
    expect(current.lastHandledAt).toBe(saved.lastHandledAt);
    expect(current.outboxPending).toBe(2);
    expect(current.instances).toEqual(saved.instances);
    expect(statuses(current)).toEqual({ Ready: 'Unknown', Reconciling: 'True', Stalled: 'False' });
  });

  it('keeps a saved condition time when its status is the same after the restart', () => {
    const first = tracker();
    first.status.stalled('ApplyFailed', 'failed', SHA_A);
    const saved = first.status.get();

    const time = clock(Date.parse('2026-03-02T00:00:00.000Z'));
    const restored = new StatusTracker(REPOSITORY, () => {}, saved, time.now).get();
    // Ready False → Unknown and Stalled True → False are transitions; Reconciling False → True too.
    expect(condition(restored, 'Ready').lastTransitionTime).toBe(time.iso());
    expect(condition(restored, 'Stalled').lastTransitionTime).toBe(time.iso());
    expect(condition(restored, 'Reconciling').lastTransitionTime).toBe(time.iso());

    // A saved Reconciling status restored is no transition of any condition.
    const reconciling = tracker();
    reconciling.status.reconciling(SHA_A, 'applying');
    const savedReconciling = reconciling.status.get();
    const again = new StatusTracker(REPOSITORY, () => {}, savedReconciling, time.now).get();
    expect(again.conditions.map((entry) => entry.lastTransitionTime)).toEqual(savedReconciling.conditions.map((entry) => entry.lastTransitionTime));
  });
});
