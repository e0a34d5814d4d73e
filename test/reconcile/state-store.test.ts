import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import { STATE_SCHEMA_VERSION, STATE_STORE_FILE, StateStore } from '../../src/reconcile/state-store.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STORE_MODULE = pathToFileURL(path.join(REPO_ROOT, 'src/reconcile/state-store.ts')).href;
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

let dir: string;
const open: StateStore[] = [];

/** A clock the test moves by hand. */
function clock(start = 1_700_000_000_000) {
  const state = { now: start };
  return { now: () => state.now, set: (ms: number) => (state.now = ms), advance: (ms: number) => (state.now += ms) };
}

function openStore(options: Parameters<typeof StateStore.open>[1] = {}, where = dir): StateStore {
  const store = StateStore.open(where, options);
  open.push(store);
  return store;
}

function begin(store: StateStore, attempt: string, startedAt: number, revision = SHA_A): void {
  store.beginReconcile({ attempt, revision, trigger: 'revision', generation: 7, plan: `{"attempt":"${attempt}"}`, startedAt });
}

function thrown(run: () => unknown): RollcallError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RollcallError);
    return error as RollcallError;
  }
  throw new Error('expected a RollcallError, nothing was thrown');
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rollcall-state-'));
});

afterEach(() => {
  for (const store of open.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('opening', () => {
  it('creates the folder and the file, and says created only the first time', () => {
    const where = path.join(dir, 'nested', 'state');
    const first = openStore({}, where);
    expect(first.path).toBe(path.join(where, STATE_STORE_FILE));
    expect(first.created).toBe(true);
    expect(existsSync(first.path)).toBe(true);
    first.close();

    const second = openStore({}, where);
    expect(second.created).toBe(false);
  });

  it('treats an empty file as a new store', () => {
    writeFileSync(path.join(dir, STATE_STORE_FILE), '');
    expect(openStore().created).toBe(true);
  });

  it('writes the schema version and the WAL journal into the file', () => {
    openStore().close();
    const raw = new Database(path.join(dir, STATE_STORE_FILE), { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(STATE_SCHEMA_VERSION);
      expect(STATE_SCHEMA_VERSION).toBe(2);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('in memory: nothing on disk, created, and works', () => {
    const store = StateStore.inMemory();
    open.push(store);
    expect(store.path).toBe(':memory:');
    expect(store.created).toBe(true);
    store.setMeta('k', 'v');
    expect(store.getMeta('k')).toBe('v');
  });

  it('refuses a file of garbage bytes, naming the file and saying to delete it', () => {
    const file = path.join(dir, STATE_STORE_FILE);
    writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37 + 11) % 256)));
    const error = thrown(() => openStore());
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain(file);
    expect(error.message).toContain('is not a rollcall state store');
    expect(error.message).toContain('Delete it');
    expect(error.message).toContain('rebuilds it');
  });

  it('refuses a short text file too', () => {
    const file = path.join(dir, STATE_STORE_FILE);
    writeFileSync(file, 'hello, I am not a database\n');
    const error = thrown(() => openStore());
    expect(error.message).toContain(`${file} is not a rollcall state store`);
  });

  it("refuses another program's SQLite database and leaves it as it was", () => {
    const file = path.join(dir, STATE_STORE_FILE);
    const other = new Database(file);
    other.exec('CREATE TABLE songs (title TEXT)');
    other.close();

    const error = thrown(() => openStore());
    expect(error.message).toBe(
      `${file} is not a rollcall state store (a SQLite database of another program). Delete it, with any rollcall.sqlite-wal and -shm files beside it: rollcall rebuilds it from git and Cloud Assistant. Or point --state-dir (ROLLCALL_STATE_DIR) at another folder.`,
    );
    const again = new Database(file, { readonly: true });
    try {
      expect(again.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(again.pragma('user_version', { simple: true })).toBe(0);
    } finally {
      again.close();
    }
  });

  it('refuses a store written by a newer rollcall', () => {
    openStore().close();
    const raw = new Database(path.join(dir, STATE_STORE_FILE));
    raw.pragma(`user_version = ${STATE_SCHEMA_VERSION + 1}`);
    raw.close();
    const error = thrown(() => openStore());
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain('newer rollcall');
    expect(error.message).toContain('Upgrade rollcall');
  });
});

describe('durability', () => {
  it('reopening keeps everything that was written', () => {
    const time = clock();
    const store = openStore({ now: time.now });
    store.setMeta('lastApplied', SHA_A);
    begin(store, 'aaaa-1', 1_000);
    store.invocationStarting({ clientToken: 'tok-1', attempt: 'aaaa-1', revision: SHA_A, chunk: '0', instances: ['i-1', 'i-2'] });
    store.invocationStarted('tok-1', 't-invoke-1');
    begin(store, 'aaaa-2', 2_000);
    store.finishApply('aaaa-2', '{"ok":true}');
    expect(store.nextAttemptNumber(SHA_A)).toBe(1);
    expect(store.markSeen('evt-1', 'acs.ecs')).toBe(true);
    expect(store.enqueue({ key: 'n-1', channel: 'dingtalk', kind: 'applied', payload: '{"x":1}' })).toBe(true);
    store.saveStatus('{"ready":true}');
    store.close();

    const again = openStore({ now: time.now });
    expect(again.created).toBe(false);
    expect(again.getMeta('lastApplied')).toBe(SHA_A);
    expect(again.reconcile('aaaa-1')).toEqual({
      attempt: 'aaaa-1',
      revision: SHA_A,
      trigger: 'revision',
      generation: 7,
      plan: '{"attempt":"aaaa-1"}',
      phase: 'applying',
      startedAt: 1_000,
    });
    expect(again.reconcile('aaaa-2')).toMatchObject({ phase: 'applied', result: '{"ok":true}', finishedAt: time.now() });
    expect(again.inFlightInvocations()).toEqual([
      { clientToken: 'tok-1', attempt: 'aaaa-1', revision: SHA_A, chunk: '0', instances: ['i-1', 'i-2'], invokeId: 't-invoke-1', startedAt: time.now() },
    ]);
    expect(again.nextAttemptNumber(SHA_A)).toBe(2);
    expect(again.markSeen('evt-1', 'acs.ecs')).toBe(false);
    expect(again.enqueue({ key: 'n-1', channel: 'dingtalk', kind: 'applied', payload: '{"x":1}' })).toBe(false);
    expect(again.pendingCount()).toBe(1);
    expect(again.loadStatus()).toBe('{"ready":true}');
  });

  it('an intent is in the file as soon as the call returns, without close or flush', () => {
    const writer = openStore();
    begin(writer, 'aaaa-1', 1_000);
    // A second connection while the first is still open, as a restarted process would see the file.
    const reader = openStore();
    expect(reader.unfinishedReconciles().map((row) => row.attempt)).toEqual(['aaaa-1']);
  });

  it('an intent survives SIGKILL right after beginReconcile returns', () => {
    const script = `
      import { StateStore } from ${JSON.stringify(STORE_MODULE)};
      const store = StateStore.open(${JSON.stringify(dir)});
      store.beginReconcile({ attempt: 'killed-1', revision: ${JSON.stringify(SHA_A)}, trigger: 'drift', generation: 3, plan: '{"p":1}', startedAt: 42 });
      store.invocationStarting({ clientToken: 'tok-k', attempt: 'killed-1', revision: ${JSON.stringify(SHA_A)}, chunk: '0', instances: ['i-9'] });
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.signal, child.stderr).toBe('SIGKILL');

    const store = openStore();
    expect(store.created).toBe(false);
    expect(store.unfinishedReconciles()).toEqual([
      { attempt: 'killed-1', revision: SHA_A, trigger: 'drift', generation: 3, plan: '{"p":1}', phase: 'applying', startedAt: 42 },
    ]);
    expect(store.inFlightInvocations().map((row) => [row.clientToken, row.instances])).toEqual([['tok-k', ['i-9']]]);
  });
});

describe('reconciles', () => {
  it('beginReconcile twice keeps the first row', () => {
    const store = openStore();
    begin(store, 'aaaa-1', 1_000);
    store.beginReconcile({ attempt: 'aaaa-1', revision: SHA_B, trigger: 'drift', generation: 9, plan: '{"other":true}', startedAt: 5_000 });
    expect(store.reconcile('aaaa-1')).toMatchObject({ revision: SHA_A, trigger: 'revision', generation: 7, plan: '{"attempt":"aaaa-1"}', startedAt: 1_000 });
    expect(store.unfinishedReconciles()).toHaveLength(1);
  });

  it('stores the plan exactly as given', () => {
    const store = openStore();
    const plan = '{ "b": 1,  "a": "ünïcode \\u0000 and spaces" }\n';
    store.beginReconcile({ attempt: 'x-1', revision: SHA_A, trigger: 'revision', generation: 1, plan });
    expect(store.reconcile('x-1')?.plan).toBe(plan);
  });

  it('takes startedAt from the clock when not given', () => {
    const time = clock(123_456);
    const store = openStore({ now: time.now });
    store.beginReconcile({ attempt: 'x-1', revision: SHA_A, trigger: 'revision', generation: 1, plan: '{}' });
    expect(store.reconcile('x-1')?.startedAt).toBe(123_456);
  });

  it('moves applying → applied → recorded, and the unfinished and in-flight lists follow', () => {
    const time = clock(10_000);
    const store = openStore({ now: time.now });
    begin(store, 'aaaa-1', 10_000);
    expect(store.unfinishedReconciles().map((row) => [row.attempt, row.phase])).toEqual([['aaaa-1', 'applying']]);
    expect(store.inFlightInvocations()).toEqual([]);

    store.invocationStarting({ clientToken: 'tok-1', attempt: 'aaaa-1', revision: SHA_A, chunk: '0', instances: ['i-1'] });
    time.advance(5);
    store.invocationStarting({ clientToken: 'tok-2', attempt: 'aaaa-1', revision: SHA_A, chunk: '1', instances: ['i-2', 'i-3'] });
    expect(store.inFlightInvocations().map((row) => [row.clientToken, row.invokeId])).toEqual([
      ['tok-1', undefined],
      ['tok-2', undefined],
    ]);
    store.invocationStarted('tok-2', 't-2');
    expect(store.inFlightInvocations().map((row) => [row.clientToken, row.invokeId])).toEqual([
      ['tok-1', undefined],
      ['tok-2', 't-2'],
    ]);

    time.set(20_000);
    store.finishApply('aaaa-1', '{"instances":[]}');
    expect(store.reconcile('aaaa-1')).toMatchObject({ phase: 'applied', result: '{"instances":[]}', finishedAt: 20_000 });
    expect(store.unfinishedReconciles().map((row) => [row.attempt, row.phase])).toEqual([['aaaa-1', 'applied']]);
    expect(store.inFlightInvocations()).toHaveLength(2);

    time.set(30_000);
    store.markRecorded('aaaa-1');
    expect(store.reconcile('aaaa-1')).toMatchObject({ phase: 'recorded', result: '{"instances":[]}', finishedAt: 20_000 });
    expect(store.unfinishedReconciles()).toEqual([]);
    expect(store.inFlightInvocations()).toEqual([]);
  });

  it('a second finishApply does not overwrite the first result', () => {
    const store = openStore();
    begin(store, 'aaaa-1', 1_000);
    store.finishApply('aaaa-1', '"first"');
    store.finishApply('aaaa-1', '"second"');
    expect(store.reconcile('aaaa-1')?.result).toBe('"first"');
  });

  it('lists unfinished attempts and invocations oldest first', () => {
    const time = clock(1_000);
    const store = openStore({ now: time.now });
    begin(store, 'late', 3_000);
    begin(store, 'early', 1_000);
    begin(store, 'middle', 2_000);
    begin(store, 'done', 500);
    store.markRecorded('done');
    expect(store.unfinishedReconciles().map((row) => row.attempt)).toEqual(['early', 'middle', 'late']);

    time.set(9_000);
    store.invocationStarting({ clientToken: 'late-tok', attempt: 'late', revision: SHA_A, chunk: '0', instances: [] });
    time.set(8_000);
    store.invocationStarting({ clientToken: 'early-tok', attempt: 'early', revision: SHA_A, chunk: '0', instances: [] });
    expect(store.inFlightInvocations().map((row) => row.clientToken)).toEqual(['early-tok', 'late-tok']);
  });

  it('the same ClientToken twice keeps the first invocation row', () => {
    const store = openStore();
    begin(store, 'aaaa-1', 1_000);
    store.invocationStarting({ clientToken: 'tok-1', attempt: 'aaaa-1', revision: SHA_A, chunk: '0', instances: ['i-1'] });
    store.invocationStarting({ clientToken: 'tok-1', attempt: 'aaaa-1', revision: SHA_A, chunk: '0', instances: ['i-other'] });
    expect(store.inFlightInvocations().map((row) => row.instances)).toEqual([['i-1']]);
  });

  it('refuses writes about attempts and invocations it never saw', () => {
    const store = openStore();
    for (const run of [
      () => store.finishApply('nope', '{}'),
      () => store.markRecorded('nope'),
      () => store.invocationStarting({ clientToken: 't', attempt: 'nope', revision: SHA_A, chunk: '0', instances: [] }),
      () => store.invocationStarted('unknown-token', 'inv'),
    ]) {
      const error = thrown(run);
      expect(error.code).toBe('internal');
    }
    expect(store.reconcile('nope')).toBeUndefined();
  });

  it('counts attempts per revision, across reopening, and a seed sets the floor', () => {
    const store = openStore();
    expect([store.nextAttemptNumber(SHA_A), store.nextAttemptNumber(SHA_A), store.nextAttemptNumber(SHA_B)]).toEqual([1, 2, 1]);
    store.close();

    const again = openStore();
    expect(again.nextAttemptNumber(SHA_A)).toBe(3);
    again.seedAttemptNumber(SHA_B, 5);
    expect(again.nextAttemptNumber(SHA_B)).toBe(5);
    // A seed below the counter never takes numbers back.
    again.seedAttemptNumber(SHA_A, 2);
    expect(again.nextAttemptNumber(SHA_A)).toBe(4);
    // A seed on a revision never counted yet.
    const fresh = 'c'.repeat(40);
    again.seedAttemptNumber(fresh, 3);
    again.close();
    expect(openStore().nextAttemptNumber(fresh)).toBe(3);
  });

  it('prune keeps the newest N and never deletes unfinished attempts', () => {
    const store = openStore();
    for (let n = 1; n <= 6; n++) {
      begin(store, `r-${n}`, n * 1_000);
      store.finishApply(`r-${n}`, '{}');
      store.markRecorded(`r-${n}`);
    }
    begin(store, 'old-unfinished', 100);
    store.invocationStarting({ clientToken: 'old-tok', attempt: 'old-unfinished', revision: SHA_A, chunk: '0', instances: ['i-1'] });
    begin(store, 'old-applied', 200);
    store.finishApply('old-applied', '{}');

    expect(store.prune(3)).toBe(3);
    const left = ['r-1', 'r-2', 'r-3', 'r-4', 'r-5', 'r-6', 'old-unfinished', 'old-applied'].filter((attempt) => store.reconcile(attempt));
    expect(left).toEqual(['r-4', 'r-5', 'r-6', 'old-unfinished', 'old-applied']);
    expect(store.inFlightInvocations().map((row) => row.clientToken)).toEqual(['old-tok']);
    expect(store.prune(3)).toBe(0);

    expect(store.prune(0)).toBe(3);
    expect(store.unfinishedReconciles().map((row) => row.attempt)).toEqual(['old-unfinished', 'old-applied']);
    expect(store.prune()).toBe(0);
  });
});

describe('seen events', () => {
  it('is true the first time an id is seen from a source, false after, also after reopening', () => {
    const store = openStore();
    expect(store.markSeen('evt-1', 'acs.ecs')).toBe(true);
    expect(store.markSeen('evt-1', 'acs.ecs')).toBe(false);
    expect(store.markSeen('evt-2', 'acs.ecs')).toBe(true);
    // CloudEvents: an id is unique within its source.
    expect(store.markSeen('evt-1', 'dingtalk')).toBe(true);
    store.close();
    expect(openStore().markSeen('evt-2', 'acs.ecs')).toBe(false);
  });

  it('pruneSeen forgets ids older than the age given', () => {
    const time = clock(100_000);
    const store = openStore({ now: time.now });
    store.markSeen('old', 's');
    time.set(150_000);
    store.markSeen('new', 's');
    time.set(170_000);
    expect(store.pruneSeen(30_000)).toBe(1);
    expect(store.markSeen('new', 's')).toBe(false);
    expect(store.markSeen('old', 's')).toBe(true);
  });
});

describe('outbox', () => {
  const entry = (key: string) => ({ key, channel: 'dingtalk', kind: 'applied', payload: `{"key":"${key}"}` });

  it('pruneSent forgets sent notifications older than the age given, never unsent ones', () => {
    const time = clock(100_000);
    const store = openStore({ now: time.now });
    store.enqueue(entry('sent-long-ago'));
    store.enqueue(entry('unsent'));
    store.markSent(store.dueNotifications(100_000, 1)[0]!.id);
    time.set(200_000);
    store.enqueue(entry('sent-lately'));
    store.markSent(store.dueNotifications(200_000).find((row) => row.key === 'sent-lately')!.id);
    expect(store.pruneSent(50_000)).toBe(1);
    // Its key is free again; the recent one still dedupes; the unsent one is still due.
    expect(store.enqueue(entry('sent-long-ago'))).toBe(true);
    expect(store.enqueue(entry('sent-lately'))).toBe(false);
    expect(store.dueNotifications(200_000).map((row) => row.key)).toEqual(['unsent', 'sent-long-ago']);
  });

  it('keeps a sent reminder past the week the others are kept: it is found again every day until its day', () => {
    const time = clock(100_000);
    const store = openStore({ now: time.now });
    store.enqueue({ ...entry('reminder:E1:account:2026-12-01'), kind: 'reminder' });
    store.markSent(store.dueNotifications(100_000)[0]!.id);
    time.set(100_000 + 30 * 86_400_000);
    expect(store.pruneSent(7 * 86_400_000)).toBe(0);
    expect(store.enqueue({ ...entry('reminder:E1:account:2026-12-01'), kind: 'reminder' })).toBe(false);
    time.set(100_000 + 401 * 86_400_000);
    expect(store.pruneSent(7 * 86_400_000)).toBe(1);
  });

  it('is exactly once by key, sent or not', () => {
    const store = openStore();
    expect(store.enqueue(entry('k-1'))).toBe(true);
    expect(store.enqueue({ ...entry('k-1'), payload: '{"other":true}' })).toBe(false);
    expect(store.pendingCount()).toBe(1);
    const [due] = store.dueNotifications();
    expect(due?.payload).toBe('{"key":"k-1"}');
    store.markSent(due!.id);
    expect(store.enqueue(entry('k-1'))).toBe(false);
    expect(store.pendingCount()).toBe(0);
  });

  it('gives due entries oldest first, up to the limit', () => {
    const time = clock(1_000);
    const store = openStore({ now: time.now });
    store.enqueue(entry('first'));
    time.advance(10);
    store.enqueue(entry('second'));
    time.advance(10);
    store.enqueue(entry('third'));

    expect(store.dueNotifications().map((row) => row.key)).toEqual(['first', 'second', 'third']);
    expect(store.dueNotifications(time.now(), 2).map((row) => row.key)).toEqual(['first', 'second']);
    // Queued after `now`: not due yet.
    expect(store.dueNotifications(1_010).map((row) => row.key)).toEqual(['first', 'second']);
    expect(store.dueNotifications(999)).toEqual([]);
    expect(store.dueNotifications()[0]).toEqual({
      id: expect.any(Number),
      key: 'first',
      channel: 'dingtalk',
      kind: 'applied',
      payload: '{"key":"first"}',
      createdAt: 1_000,
      attempts: 0,
      notBefore: 1_000,
    });
  });

  it('markFailed counts, keeps the error and holds the entry until retryAt', () => {
    const time = clock(1_000);
    const store = openStore({ now: time.now });
    store.enqueue(entry('flaky'));
    store.enqueue(entry('fine'));
    const flaky = store.dueNotifications()[0]!;

    store.markFailed(flaky.id, 'HTTP 502 from the chat API', 61_000);
    expect(store.dueNotifications(60_999).map((row) => row.key)).toEqual(['fine']);
    expect(store.dueNotifications(61_000).map((row) => row.key)).toEqual(['flaky', 'fine']);
    expect(store.dueNotifications(61_000)[0]).toMatchObject({ attempts: 1, lastError: 'HTTP 502 from the chat API', notBefore: 61_000 });

    store.markFailed(flaky.id, 'timeout', 200_000);
    expect(store.dueNotifications(200_000)[0]).toMatchObject({ key: 'flaky', attempts: 2, lastError: 'timeout' });
    expect(store.pendingCount()).toBe(2);
  });

  it('markSent takes the entry out of the due list for good', () => {
    const store = openStore();
    store.enqueue(entry('a'));
    store.enqueue(entry('b'));
    const [a] = store.dueNotifications();
    store.markSent(a!.id);
    expect(store.dueNotifications().map((row) => row.key)).toEqual(['b']);
    // A late failure report for a sent entry does not bring it back.
    store.markFailed(a!.id, 'late', 0);
    expect(store.dueNotifications(Number.MAX_SAFE_INTEGER).map((row) => row.key)).toEqual(['b']);
    expect(store.pendingCount()).toBe(1);
    expect(thrown(() => store.markSent(9_999)).code).toBe('internal');
    expect(thrown(() => store.markFailed(9_999, 'x', 0)).code).toBe('internal');
  });
});

describe('inbox', () => {
  const notice = (key: string) => ({ key, notice: JSON.stringify({ kind: 'approval', key }) });

  it('stores a notice once per key, also after reopening, and keeps a done one as the record', () => {
    const store = openStore();
    expect(store.receiveNotice(notice('dingtalk/P-1'))).toBe(true);
    expect(store.receiveNotice({ key: 'dingtalk/P-1', notice: '{"via":"stream"}' })).toBe(false);
    store.close();
    const again = openStore();
    const [row] = again.openNotices();
    expect(row).toMatchObject({ key: 'dingtalk/P-1', attempts: 0, notice: JSON.stringify({ kind: 'approval', key: 'dingtalk/P-1' }) });
    again.finishNotice(row!.id, 'committed abc');
    expect(again.openNotices()).toEqual([]);
    expect(again.openNoticeCount()).toBe(0);
    expect(again.receiveNotice(notice('dingtalk/P-1'))).toBe(false);
    expect(again.noticeOutcome('dingtalk/P-1')).toEqual({ done: true, outcome: 'committed abc' });
    expect(again.noticeOutcome('dingtalk/unknown')).toBeUndefined();
  });

  it('holds a notice that failed until its retry time, counting attempts and keeping the error', () => {
    const time = clock(1_000);
    const store = openStore({ now: time.now });
    store.receiveNotice(notice('lark/A'));
    time.advance(1);
    store.receiveNotice(notice('lark/B'));
    const [first] = store.openNotices();
    store.retryNotice(first!.id, 'Lark said 99991400', 5_000);
    expect(store.openNotices(2_000).map((row) => row.key)).toEqual(['lark/B']);
    expect(store.nextNoticeDue()).toBe(1_001);
    const later = store.openNotices(5_000);
    expect(later.map((row) => row.key)).toEqual(['lark/A', 'lark/B']);
    expect(later[0]).toMatchObject({ attempts: 1, lastError: 'Lark said 99991400', notBefore: 5_000 });
    expect(store.openNoticeCount()).toBe(2);
  });

  it('a retry or a second finish does not reopen or overwrite a done notice', () => {
    const store = openStore();
    store.receiveNotice(notice('lark/A'));
    const id = store.openNotices()[0]!.id;
    store.finishNotice(id, 'refused: unknown role');
    store.retryNotice(id, 'late failure', 0);
    store.finishNotice(id, 'committed later');
    expect(store.noticeOutcome('lark/A')).toEqual({ done: true, outcome: 'refused: unknown role' });
    expect(store.nextNoticeDue()).toBeUndefined();
  });

  it('pruneNotices forgets done notices older than the age given, never open ones', () => {
    const time = clock(100_000);
    const store = openStore({ now: time.now });
    store.receiveNotice(notice('old'));
    store.receiveNotice(notice('open'));
    store.finishNotice(store.openNotices().find((row) => row.key === 'old')!.id, 'committed');
    time.set(200_000);
    expect(store.pruneNotices(50_000)).toBe(1);
    expect(store.receiveNotice(notice('old'))).toBe(true);
    expect(store.openNotices().map((row) => row.key)).toEqual(['open', 'old']);
  });

  it('opens a version 1 store and adds the inbox, keeping what it held', () => {
    const file = path.join(dir, STATE_STORE_FILE);
    openStore().close();
    const raw = new Database(file);
    raw.exec('DROP TABLE inbox');
    raw.pragma('user_version = 1');
    raw.prepare("INSERT INTO meta (key, value) VALUES ('lastAppliedRevision', 'abc')").run();
    raw.close();
    const store = openStore();
    expect(store.getMeta('lastAppliedRevision')).toBe('abc');
    expect(store.receiveNotice(notice('dingtalk/P-9'))).toBe(true);
  });
});

describe('meta and status', () => {
  it('overwrites meta values and reads back absent keys as undefined', () => {
    const store = openStore();
    expect(store.getMeta('lastApplied')).toBeUndefined();
    store.setMeta('lastApplied', SHA_A);
    store.setMeta('lastApplied', SHA_B);
    expect(store.getMeta('lastApplied')).toBe(SHA_B);
  });

  it('keeps the last status document', () => {
    const store = openStore();
    expect(store.loadStatus()).toBeUndefined();
    store.saveStatus('{"conditions":[]}');
    store.saveStatus('{"conditions":[{"type":"Ready"}]}');
    store.close();
    expect(openStore().loadStatus()).toBe('{"conditions":[{"type":"Ready"}]}');
  });
});
