/**
 * The reconciler's state store: what makes the loop exactly-once and restartable (attempts written
 * before they are applied, the invocations they started, seen event ids, the notification outbox,
 * the status document). It is a cache of truth that lives in git and in Cloud Assistant: if the file
 * is deleted, rollcall rebuilds what it needs, so nothing here is the only copy of anything.
 *
 * The only place rollcall uses better-sqlite3.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { RollcallError } from '../config/errors.js';

/** Where an attempt is: written before the apply, applied, then recorded in the git notes. */
export type ReconcilePhase = 'applying' | 'applied' | 'recorded';

/** One reconcile attempt, written before anything is applied. */
export interface ReconcileRow {
  /** Unique name of this attempt. */
  attempt: string;
  /** Full commit sha. */
  revision: string;
  /** 'revision' | 'drift' | 'new-instance' | 'break-glass' | … */
  trigger: string;
  generation: number;
  /** The Plan as JSON text, exactly as given. */
  plan: string;
  phase: ReconcilePhase;
  /** The apply result as JSON text, once applied. */
  result?: string;
  /** ms since 1970. */
  startedAt: number;
  /** ms since 1970, when the apply finished (or, for an attempt recorded unapplied, when recorded). */
  finishedAt?: number;
}

/** A Cloud Assistant invocation, written before it is started and named once it is. */
export interface InvocationRow {
  clientToken: string;
  attempt: string;
  revision: string;
  chunk: string;
  instances: string[];
  /** Cloud Assistant's InvokeId, once it answered. */
  invokeId?: string;
  startedAt: number;
}

/** A notification, stored before it is sent. */
export interface OutboxRow {
  id: number;
  /** What makes it exactly once: a second entry with this key is refused. */
  key: string;
  channel: string;
  kind: string;
  payload: string;
  createdAt: number;
  /** Sends tried so far. */
  attempts: number;
  lastError?: string;
  /** Not sent before this time (ms since 1970). */
  notBefore: number;
}

/** A notice in the inbox, not done yet. */
export interface InboxRow {
  id: number;
  key: string;
  /** The notice, JSON. */
  notice: string;
  receivedAt: number;
  attempts: number;
  lastError?: string;
  notBefore: number;
}

/** How a store is opened. */
export interface StateStoreOptions {
  /** The clock, ms since 1970, for every timestamp the caller does not give. Default `Date.now`. */
  now?: () => number;
}

/** The file in the state folder. */
export const STATE_STORE_FILE = 'rollcall.sqlite';

/**
 * The schema, one entry per version: entry `i` moves a file from version `i` to `i + 1`. A file's
 * version is its `PRAGMA user_version`; add an entry to change the schema, never edit one.
 */
const MIGRATIONS: readonly string[] = [
  // 1: the first schema. `seq` gives rows a stable insertion order behind equal timestamps.
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  CREATE TABLE reconciles (
    seq INTEGER PRIMARY KEY,
    attempt TEXT NOT NULL UNIQUE,
    revision TEXT NOT NULL,
    triggered_by TEXT NOT NULL,
    generation INTEGER NOT NULL,
    plan TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('applying', 'applied', 'recorded')),
    result TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER
  ) STRICT;
  CREATE INDEX reconciles_by_phase ON reconciles (phase, started_at, seq);

  CREATE TABLE invocations (
    seq INTEGER PRIMARY KEY,
    client_token TEXT NOT NULL UNIQUE,
    attempt TEXT NOT NULL REFERENCES reconciles (attempt) ON DELETE CASCADE,
    revision TEXT NOT NULL,
    chunk TEXT NOT NULL,
    instances TEXT NOT NULL,
    invoke_id TEXT,
    started_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX invocations_by_attempt ON invocations (attempt);

  CREATE TABLE attempt_counters (
    revision TEXT PRIMARY KEY,
    last INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE seen (
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (source, id)
  ) STRICT;
  CREATE INDEX seen_by_age ON seen (seen_at);

  -- AUTOINCREMENT: an id handed to a sender never names another entry later.
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    not_before INTEGER NOT NULL,
    sent_at INTEGER
  ) STRICT;
  CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

  CREATE TABLE status (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    json TEXT NOT NULL,
    saved_at INTEGER NOT NULL
  ) STRICT;
  `,
  // 2: the inbox of approvals and leavers, written before a delivery is acknowledged. `key` names
  // the approval (not the delivery), so the same approval through two ingress paths is one row.
  `
  CREATE TABLE inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    notice TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    not_before INTEGER NOT NULL,
    done_at INTEGER,
    outcome TEXT
  ) STRICT;
  CREATE INDEX inbox_open ON inbox (not_before, id) WHERE done_at IS NULL;
  `,
];

/** The schema version this rollcall writes. */
export const STATE_SCHEMA_VERSION = MIGRATIONS.length;

/** `PRAGMA application_id` of a rollcall store ("RCLL"): tells it from other SQLite files. */
const APPLICATION_ID = 0x52434c4c;

/** How long a write waits for another connection's lock before it fails. */
const BUSY_TIMEOUT_MS = 5_000;

const DEFAULT_KEEP = 1_000;
const DEFAULT_DUE_LIMIT = 100;

const Instances = z.array(z.string());

interface ReconcileRecord {
  attempt: string;
  revision: string;
  triggered_by: string;
  generation: number;
  plan: string;
  phase: ReconcilePhase;
  result: string | null;
  started_at: number;
  finished_at: number | null;
}

interface InvocationRecord {
  client_token: string;
  attempt: string;
  revision: string;
  chunk: string;
  instances: string;
  invoke_id: string | null;
  started_at: number;
}

interface OutboxRecord {
  id: number;
  key: string;
  channel: string;
  kind: string;
  payload: string;
  created_at: number;
  attempts: number;
  last_error: string | null;
  not_before: number;
}

const RECONCILE_COLUMNS = 'attempt, revision, triggered_by, generation, plan, phase, result, started_at, finished_at';
const OUTBOX_COLUMNS = 'id, key, channel, kind, payload, created_at, attempts, last_error, not_before';

/** Every statement the store runs, prepared once when it opens. */
function prepareStatements(db: Database.Database) {
  return {
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare<{ key: string; value: string }>(
      'INSERT INTO meta (key, value) VALUES (@key, @value) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),

    insertReconcile: db.prepare<{ attempt: string; revision: string; trigger: string; generation: number; plan: string; startedAt: number }>(
      `INSERT INTO reconciles (attempt, revision, triggered_by, generation, plan, phase, started_at)
       VALUES (@attempt, @revision, @trigger, @generation, @plan, 'applying', @startedAt)
       ON CONFLICT (attempt) DO NOTHING`,
    ),
    reconcile: db.prepare<[string], ReconcileRecord>(`SELECT ${RECONCILE_COLUMNS} FROM reconciles WHERE attempt = ?`),
    unfinished: db.prepare<[], ReconcileRecord>(
      `SELECT ${RECONCILE_COLUMNS} FROM reconciles WHERE phase IN ('applying', 'applied') ORDER BY started_at, seq`,
    ),
    finishApply: db.prepare<{ attempt: string; result: string; now: number }>(
      `UPDATE reconciles SET phase = 'applied', result = @result, finished_at = @now
       WHERE attempt = @attempt AND phase = 'applying'`,
    ),
    markRecorded: db.prepare<{ attempt: string; now: number }>(
      `UPDATE reconciles SET phase = 'recorded', finished_at = coalesce(finished_at, @now)
       WHERE attempt = @attempt AND phase <> 'recorded'`,
    ),
    deleteInvocationsOf: db.prepare<[string]>('DELETE FROM invocations WHERE attempt = ?'),
    // The newest `keep` attempts stay whatever their phase; older ones go once recorded.
    prune: db.prepare<{ keep: number }>(
      `DELETE FROM reconciles WHERE phase = 'recorded'
       AND seq NOT IN (SELECT seq FROM reconciles ORDER BY started_at DESC, seq DESC LIMIT @keep)`,
    ),

    insertInvocation: db.prepare<{ clientToken: string; attempt: string; revision: string; chunk: string; instances: string; now: number }>(
      `INSERT INTO invocations (client_token, attempt, revision, chunk, instances, started_at)
       VALUES (@clientToken, @attempt, @revision, @chunk, @instances, @now)
       ON CONFLICT (client_token) DO NOTHING`,
    ),
    invocationStarted: db.prepare<{ clientToken: string; invokeId: string }>(
      'UPDATE invocations SET invoke_id = @invokeId WHERE client_token = @clientToken',
    ),
    inFlight: db.prepare<[], InvocationRecord>(
      `SELECT i.client_token, i.attempt, i.revision, i.chunk, i.instances, i.invoke_id, i.started_at
       FROM invocations i JOIN reconciles r ON r.attempt = i.attempt
       WHERE r.phase <> 'recorded' ORDER BY i.started_at, i.seq`,
    ),

    nextAttempt: db.prepare<[string], { last: number }>(
      `INSERT INTO attempt_counters (revision, last) VALUES (?, 1)
       ON CONFLICT (revision) DO UPDATE SET last = last + 1 RETURNING last`,
    ),
    seedAttempt: db.prepare<{ revision: string; last: number }>(
      `INSERT INTO attempt_counters (revision, last) VALUES (@revision, @last)
       ON CONFLICT (revision) DO UPDATE SET last = max(last, excluded.last)`,
    ),

    markSeen: db.prepare<{ id: string; source: string; now: number }>(
      'INSERT INTO seen (source, id, seen_at) VALUES (@source, @id, @now) ON CONFLICT (source, id) DO NOTHING',
    ),
    pruneSeen: db.prepare<[number]>('DELETE FROM seen WHERE seen_at < ?'),
    forgetSeen: db.prepare<{ id: string; source: string }>('DELETE FROM seen WHERE source = @source AND id = @id'),
    // A reminder is found again every day of its window (up to policy.remindBefore, at most 365
    // days): its key must outlive the window, or it would be sent again.
    pruneSent: db.prepare<[number, number]>("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ? AND (kind != 'reminder' OR sent_at < ?)"),

    receive: db.prepare<{ key: string; notice: string; now: number }>(
      'INSERT INTO inbox (key, notice, received_at, not_before) VALUES (@key, @notice, @now, @now) ON CONFLICT (key) DO NOTHING',
    ),
    openNotices: db.prepare<{ now: number; limit: number }, InboxRecord>(
      `SELECT id, key, notice, received_at, attempts, last_error, not_before FROM inbox
       WHERE done_at IS NULL AND not_before <= @now ORDER BY id LIMIT @limit`,
    ),
    nextNoticeDue: db.prepare<[], { due: number | null }>('SELECT min(not_before) AS due FROM inbox WHERE done_at IS NULL'),
    openNoticeCount: db.prepare<[], { count: number }>('SELECT count(*) AS count FROM inbox WHERE done_at IS NULL'),
    finishNotice: db.prepare<{ id: number; outcome: string; now: number }>(
      'UPDATE inbox SET done_at = @now, outcome = @outcome WHERE id = @id AND done_at IS NULL',
    ),
    retryNotice: db.prepare<{ id: number; error: string; retryAt: number }>(
      'UPDATE inbox SET attempts = attempts + 1, last_error = @error, not_before = @retryAt WHERE id = @id AND done_at IS NULL',
    ),
    noticeByKey: db.prepare<[string], { outcome: string | null; done_at: number | null }>('SELECT outcome, done_at FROM inbox WHERE key = ?'),
    pruneNotices: db.prepare<[number]>('DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?'),

    enqueue: db.prepare<{ key: string; channel: string; kind: string; payload: string; now: number }>(
      `INSERT INTO outbox (key, channel, kind, payload, created_at, not_before)
       VALUES (@key, @channel, @kind, @payload, @now, @now)
       ON CONFLICT (key) DO NOTHING`,
    ),
    due: db.prepare<{ now: number; limit: number }, OutboxRecord>(
      `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE sent_at IS NULL AND not_before <= @now ORDER BY id LIMIT @limit`,
    ),
    markSent: db.prepare<{ id: number; now: number }>(
      'UPDATE outbox SET sent_at = @now, attempts = attempts + 1 WHERE id = @id AND sent_at IS NULL',
    ),
    markFailed: db.prepare<{ id: number; error: string; retryAt: number }>(
      `UPDATE outbox SET attempts = attempts + 1, last_error = @error, not_before = @retryAt
       WHERE id = @id AND sent_at IS NULL`,
    ),
    outboxEntry: db.prepare<[number], { sent: number }>('SELECT sent_at IS NOT NULL AS sent FROM outbox WHERE id = ?'),
    pending: db.prepare<[], { count: number }>('SELECT count(*) AS count FROM outbox WHERE sent_at IS NULL'),

    saveStatus: db.prepare<{ json: string; now: number }>(
      `INSERT INTO status (only, json, saved_at) VALUES (1, @json, @now)
       ON CONFLICT (only) DO UPDATE SET json = excluded.json, saved_at = excluded.saved_at`,
    ),
    loadStatus: db.prepare<[], { json: string }>('SELECT json FROM status WHERE only = 1'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

interface InboxRecord {
  id: number;
  key: string;
  notice: string;
  received_at: number;
  attempts: number;
  last_error: string | null;
  not_before: number;
}

/** Longer than the longest reminder window (policy.remindBefore ≤ 365 days). */
const REMINDER_RETENTION_MS = 400 * 86_400_000;

/**
 * The reconciler's SQLite state store (WAL, `synchronous = FULL`). Every method is synchronous and
 * every write is committed before it returns: a kill -9 right after a call loses nothing it wrote.
 */
export class StateStore {
  /** The file, or ':memory:'. */
  readonly path: string;
  /**
   * True when the store held nothing before this open: the file did not exist (or was empty, or a
   * first open died before writing the schema). The caller then rebuilds from git and the cloud.
   */
  readonly created: boolean;

  private readonly db: Database.Database;
  private readonly sql: Statements;
  private readonly now: () => number;
  /** markRecorded's two writes, committed together. */
  private readonly recordAttempt: (attempt: string, now: number) => void;

  private constructor(db: Database.Database, file: string, created: boolean, now: () => number) {
    this.db = db;
    this.path = file;
    this.created = created;
    this.now = now;
    this.sql = prepareStatements(db);
    this.recordAttempt = db.transaction((attempt: string, at: number) => {
      this.sql.markRecorded.run({ attempt, now: at });
      this.sql.deleteInvocationsOf.run(attempt);
    });
  }

  /** Opens (creating the folder and file if needed) `<dir>/rollcall.sqlite`. */
  static open(dir: string, options: StateStoreOptions = {}): StateStore {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new RollcallError(
        'invalid-input',
        `cannot create the state folder ${dir}: ${(error as Error).message}. Point --state-dir (ROLLCALL_STATE_DIR) at a folder rollcall can write.`,
        { cause: error },
      );
    }
    return StateStore.connect(path.join(dir, STATE_STORE_FILE), options);
  }

  /** For tests and `--state-dir :memory:`-like use: nothing outlives `close()`. */
  static inMemory(options: StateStoreOptions = {}): StateStore {
    return StateStore.connect(':memory:', options);
  }

  private static connect(file: string, options: StateStoreOptions): StateStore {
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
      const created = migrate(db, file);
      return new StateStore(db, file, created, options.now ?? Date.now);
    } catch (error) {
      db?.close();
      throw openError(file, error);
    }
  }

  /** Closes the file; calling it twice is harmless. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  getMeta(key: string): string | undefined {
    return this.guard('read a meta value', () => this.sql.getMeta.get(key)?.value);
  }

  setMeta(key: string, value: string): void {
    this.guard('write a meta value', () => this.sql.setMeta.run({ key, value }));
  }

  /**
   * Intent first: the attempt is written (phase 'applying') before anything is applied. Same attempt
   * twice: the existing row is kept, not an error (a restart may write its intent again).
   */
  beginReconcile(row: { attempt: string; revision: string; trigger: string; generation: number; plan: string; startedAt?: number }): void {
    const { attempt, revision, trigger, generation, plan } = row;
    const startedAt = row.startedAt ?? this.now();
    this.guard(`record the start of attempt ${attempt}`, () =>
      this.sql.insertReconcile.run({ attempt, revision, trigger, generation, plan, startedAt }),
    );
  }

  /** Before an invocation is started (write-ahead). The same ClientToken twice keeps the first row. */
  invocationStarting(row: { clientToken: string; attempt: string; revision: string; chunk: string; instances: string[] }): void {
    const { clientToken, attempt, revision, chunk } = row;
    this.requireAttempt(attempt, `invocation ${clientToken}`);
    this.guard(`record invocation ${clientToken}`, () =>
      this.sql.insertInvocation.run({ clientToken, attempt, revision, chunk, instances: JSON.stringify(row.instances), now: this.now() }),
    );
  }

  /** After Cloud Assistant named the invocation `invocationStarting` wrote. */
  invocationStarted(clientToken: string, invokeId: string): void {
    const { changes } = this.guard(`record the InvokeId of ${clientToken}`, () =>
      this.sql.invocationStarted.run({ clientToken, invokeId }),
    );
    if (changes === 0) {
      throw new RollcallError('internal', `state store ${this.path}: no invocation with ClientToken ${clientToken}; call invocationStarting first`);
    }
  }

  /** Invocations of attempts not yet 'recorded', oldest first: what a restart reads back from Cloud Assistant. */
  inFlightInvocations(): InvocationRow[] {
    return this.guard('read the in-flight invocations', () => this.sql.inFlight.all()).map((record) => ({
      clientToken: record.client_token,
      attempt: record.attempt,
      revision: record.revision,
      chunk: record.chunk,
      instances: Instances.parse(JSON.parse(record.instances)),
      ...(record.invoke_id === null ? {} : { invokeId: record.invoke_id }),
      startedAt: record.started_at,
    }));
  }

  /** The apply ended: phase 'applied', its result kept. Repeated for an attempt past 'applying', it changes nothing. */
  finishApply(attempt: string, result: string): void {
    this.requireAttempt(attempt, 'finishApply');
    this.guard(`record the result of attempt ${attempt}`, () => this.sql.finishApply.run({ attempt, result, now: this.now() }));
  }

  /** The result is in the git notes: phase 'recorded', and the attempt's invocation rows are deleted. */
  markRecorded(attempt: string): void {
    this.requireAttempt(attempt, 'markRecorded');
    this.guard(`mark attempt ${attempt} recorded`, () => this.recordAttempt(attempt, this.now()));
  }

  /** Attempts in phase 'applying' or 'applied', oldest first: what a restart must finish. */
  unfinishedReconciles(): ReconcileRow[] {
    return this.guard('read the unfinished attempts', () => this.sql.unfinished.all()).map(toReconcileRow);
  }

  reconcile(attempt: string): ReconcileRow | undefined {
    const record = this.guard(`read attempt ${attempt}`, () => this.sql.reconcile.get(attempt));
    return record && toReconcileRow(record);
  }

  /** The next attempt number for this revision: 1, 2, 3… (persisted; `seedAttemptNumber` sets the floor when rebuilding). */
  nextAttemptNumber(revision: string): number {
    const row = this.guard(`count the attempts of ${revision}`, () => this.sql.nextAttempt.get(revision));
    if (!row) throw new RollcallError('internal', `state store ${this.path}: the attempt counter of ${revision} returned no row`);
    return row.last;
  }

  /**
   * The next `nextAttemptNumber(revision)` returns at least `atLeast` (when rebuilding: the number
   * after the last attempt the git notes hold). Never lowers the counter.
   */
  seedAttemptNumber(revision: string, atLeast: number): void {
    this.guard(`seed the attempts of ${revision}`, () => this.sql.seedAttempt.run({ revision, last: Math.trunc(atLeast) - 1 }));
  }

  /**
   * Deletes 'recorded' attempts older than the newest `keep` (default 1000), so the file does not
   * grow without bound. Unfinished attempts are never deleted. Returns how many were.
   */
  prune(keep: number = DEFAULT_KEEP): number {
    if (!Number.isInteger(keep) || keep < 0) {
      throw new RollcallError('internal', `state store prune: keep must be a whole number ≥ 0, got ${String(keep)}`);
    }
    return this.guard('prune old attempts', () => this.sql.prune.run({ keep }).changes);
  }

  /**
   * Deduplicates webhooks and events: true the first time `id` is seen from `source`, false after.
   * Keyed by both, like CloudEvents (`source` + `id` is what is unique). Pruned by `pruneSeen`.
   */
  markSeen(id: string, source: string): boolean {
    return this.guard(`record event ${id}`, () => this.sql.markSeen.run({ id, source, now: this.now() }).changes === 1);
  }

  /** Forgets one id, so that its redelivery counts again (what it stood for was not recorded). */
  forgetSeen(id: string, source: string): void {
    this.guard(`forget event ${id}`, () => this.sql.forgetSeen.run({ id, source }));
  }

  /** Forgets ids seen more than `olderThanMs` ago (an age, not a time). Returns how many. */
  pruneSeen(olderThanMs: number): number {
    return this.guard('prune seen event ids', () => this.sql.pruneSeen.run(this.now() - olderThanMs).changes);
  }

  /**
   * Forgets notifications sent longer ago than `olderThanMs`, so the file does not grow without
   * bound. Their keys are free again: only keys that can recur within that age need it to be long.
   */
  pruneSent(olderThanMs: number): number {
    return this.guard('prune sent notifications', () => this.sql.pruneSent.run(this.now() - olderThanMs, this.now() - REMINDER_RETENTION_MS).changes);
  }

  /**
   * The notification outbox: stored before it is sent. False when an entry with this key exists,
   * sent or not (exactly once).
   */
  enqueue(entry: { key: string; channel: string; kind: string; payload: string }): boolean {
    const { key, channel, kind, payload } = entry;
    return this.guard(`queue notification ${key}`, () => this.sql.enqueue.run({ key, channel, kind, payload, now: this.now() }).changes === 1);
  }

  /** Unsent entries whose notBefore has passed, oldest (first queued) first. */
  dueNotifications(now: number = this.now(), limit: number = DEFAULT_DUE_LIMIT): OutboxRow[] {
    return this.guard('read the due notifications', () => this.sql.due.all({ now, limit })).map((record) => ({
      id: record.id,
      key: record.key,
      channel: record.channel,
      kind: record.kind,
      payload: record.payload,
      createdAt: record.created_at,
      attempts: record.attempts,
      ...(record.last_error === null ? {} : { lastError: record.last_error }),
      notBefore: record.not_before,
    }));
  }

  /** Sent: it is never due again (and its key stays taken). */
  markSent(id: number): void {
    const { changes } = this.guard(`mark notification ${id} sent`, () => this.sql.markSent.run({ id, now: this.now() }));
    if (changes === 0) this.requireOutboxEntry(id);
  }

  /** A failed send: counted, the error kept, retried not before `retryAt`. Ignored once the entry is sent. */
  markFailed(id: number, error: string, retryAt: number): void {
    const { changes } = this.guard(`mark notification ${id} failed`, () => this.sql.markFailed.run({ id, error, retryAt }));
    if (changes === 0) this.requireOutboxEntry(id);
  }

  /** Unsent entries, due or not. */
  pendingCount(): number {
    return this.guard('count the pending notifications', () => this.sql.pending.get()?.count ?? 0);
  }

  /**
   * The inbox: a verified approval or leaver notice, stored before its delivery is acknowledged.
   * `key` names what it is about (`<platform>/<approval id>`), so redeliveries and the same event
   * through another ingress path add nothing: false then. Kept once done, as the record that it
   * was (pruned by `pruneNotices`).
   */
  receiveNotice(entry: { key: string; notice: string }): boolean {
    return this.guard(`store notice ${entry.key}`, () => this.sql.receive.run({ ...entry, now: this.now() }).changes === 1);
  }

  /** Notices not done whose retry time has come, first received first. */
  openNotices(now: number = this.now(), limit: number = DEFAULT_DUE_LIMIT): InboxRow[] {
    return this.guard('read the inbox', () => this.sql.openNotices.all({ now, limit })).map((record) => ({
      id: record.id,
      key: record.key,
      notice: record.notice,
      receivedAt: record.received_at,
      attempts: record.attempts,
      ...(record.last_error === null ? {} : { lastError: record.last_error }),
      notBefore: record.not_before,
    }));
  }

  /** When the next open notice is due (ms since 1970), or undefined when none is open. */
  nextNoticeDue(): number | undefined {
    return this.guard('read the inbox', () => this.sql.nextNoticeDue.get()?.due ?? undefined);
  }

  openNoticeCount(): number {
    return this.guard('count the inbox', () => this.sql.openNoticeCount.get()?.count ?? 0);
  }

  /** Done, with what came of it (`committed <sha>`, `refused: …`): never handled again. */
  finishNotice(id: number, outcome: string): void {
    this.guard(`finish notice ${id}`, () => this.sql.finishNotice.run({ id, outcome, now: this.now() }));
  }

  /** Handling failed for a reason that may pass (the platform's API, git): tried again at `retryAt`. */
  retryNotice(id: number, error: string, retryAt: number): void {
    this.guard(`reschedule notice ${id}`, () => this.sql.retryNotice.run({ id, error, retryAt }));
  }

  /** What became of the notice with this key: undefined when never received, `outcome` once done. */
  noticeOutcome(key: string): { done: boolean; outcome?: string } | undefined {
    const row = this.guard(`read notice ${key}`, () => this.sql.noticeByKey.get(key));
    return row ? { done: row.done_at !== null, ...(row.outcome !== null ? { outcome: row.outcome } : {}) } : undefined;
  }

  /** Forgets notices done longer ago than `olderThanMs`. */
  pruneNotices(olderThanMs: number): number {
    return this.guard('prune the inbox', () => this.sql.pruneNotices.run(this.now() - olderThanMs).changes);
  }

  /** The daemon's status document (JSON text), saved on every change and read back on start. */
  saveStatus(json: string): void {
    this.guard('save the status', () => this.sql.saveStatus.run({ json, now: this.now() }));
  }

  loadStatus(): string | undefined {
    return this.guard('load the status', () => this.sql.loadStatus.get()?.json);
  }

  private requireAttempt(attempt: string, what: string): void {
    if (!this.guard(`read attempt ${attempt}`, () => this.sql.reconcile.get(attempt))) {
      throw new RollcallError('internal', `state store ${this.path}: ${what} names attempt ${attempt}, which beginReconcile never wrote`);
    }
  }

  private requireOutboxEntry(id: number): void {
    if (!this.guard(`read notification ${id}`, () => this.sql.outboxEntry.get(id))) {
      throw new RollcallError('internal', `state store ${this.path}: no notification with id ${id} in the outbox`);
    }
  }

  /** Runs one store operation; SQLite's errors become RollcallErrors that name the file. */
  private guard<T>(action: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (error instanceof RollcallError || !(error instanceof Database.SqliteError)) throw error;
      if (error.code.startsWith('SQLITE_CONSTRAINT')) {
        throw new RollcallError('internal', `state store ${this.path}: could not ${action}: ${error.message}`, { cause: error });
      }
      throw new RollcallError(
        'invalid-input',
        `state store ${this.path}: could not ${action}: ${error.message}. Check the disk and the permissions of the state folder; deleting the file is safe (rollcall rebuilds it).`,
        { cause: error },
      );
    }
  }
}

function toReconcileRow(record: ReconcileRecord): ReconcileRow {
  return {
    attempt: record.attempt,
    revision: record.revision,
    trigger: record.triggered_by,
    generation: record.generation,
    plan: record.plan,
    phase: record.phase,
    ...(record.result === null ? {} : { result: record.result }),
    startedAt: record.started_at,
    ...(record.finished_at === null ? {} : { finishedAt: record.finished_at }),
  };
}

/**
 * Checks the file is a rollcall store (or empty), sets the connection up and brings the schema to
 * {@link STATE_SCHEMA_VERSION}. Returns whether the store was empty.
 */
function migrate(db: Database.Database, file: string): boolean {
  // Read before anything is written: a foreign SQLite file must not be switched to WAL or touched.
  // On a file that is not SQLite at all, this first read throws SQLITE_NOTADB.
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (applicationId !== APPLICATION_ID) {
    const tables = db.prepare<[], { count: number }>('SELECT count(*) AS count FROM sqlite_schema').get()?.count ?? 0;
    if (applicationId !== 0 || version !== 0 || tables > 0) throw notAStore(file, 'a SQLite database of another program');
  }
  if (version > STATE_SCHEMA_VERSION) {
    throw new RollcallError(
      'invalid-input',
      `${file} was written by a newer rollcall (schema ${version}; this one knows up to ${STATE_SCHEMA_VERSION}). Upgrade rollcall, or delete the file: rollcall rebuilds it from git and Cloud Assistant.`,
    );
  }

  // WAL: readers (the status endpoint) never block the loop's writes. FULL: WAL mode's default
  // (NORMAL) may lose the last commits on a power cut, and an intent row must not be lost.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');

  if (version === STATE_SCHEMA_VERSION) return false;
  // IMMEDIATE: two processes opening a new file at once migrate it one after the other; the second
  // reads the version again inside its transaction and finds nothing left to do.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let step = current; step < STATE_SCHEMA_VERSION; step++) db.exec(MIGRATIONS[step] ?? '');
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${STATE_SCHEMA_VERSION}`);
  }).immediate();
  return version === 0;
}

function notAStore(file: string, what: string, cause?: unknown): RollcallError {
  return new RollcallError(
    'invalid-input',
    `${file} is not a rollcall state store (${what}). Delete it, with any ${path.basename(file)}-wal and -shm files beside it: rollcall rebuilds it from git and Cloud Assistant. Or point --state-dir (ROLLCALL_STATE_DIR) at another folder.`,
    { cause },
  );
}

function openError(file: string, error: unknown): RollcallError {
  if (error instanceof RollcallError) return error;
  if (error instanceof Database.SqliteError && (error.code === 'SQLITE_NOTADB' || error.code === 'SQLITE_CORRUPT')) {
    return notAStore(file, error.message, error);
  }
  return new RollcallError(
    'invalid-input',
    `cannot open the state store ${file}: ${(error as Error).message}. Check that rollcall can read and write it, or delete it: rollcall rebuilds it from git and Cloud Assistant.`,
    { cause: error },
  );
}
