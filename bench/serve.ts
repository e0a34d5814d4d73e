/**
 * How quickly does `rollcall serve` react, and does its memory stay flat? `rollcall serve` runs as
 * a child process (its memory is its own) against a scratch git repository and the ECS API
 * emulator in this process: the example fleet's four sandbox instances (root), or, with
 * `--instances virtual` or where sandboxes are not available, four virtual instances answered by
 * an in-memory agent.
 *
 *   1. Latency, over --commits (50) commits that each change a user's name (a real change on all
 *      four instances), one at a time: the bare `git commit` (spawn to exit, the baseline), then
 *      from the commit's exit to the first InvokeCommand the emulator receives (the inventory run
 *      that starts the reconcile), and from the last DescribeInvocationResults of the apply (the
 *      request that fetched the last final result) to the git note appearing on the commit
 *      (`refs/notes/rollcall` rewritten, seen by inotify). Goal: p99 ≤ 1 s with the local watcher.
 *   2. Memory: RSS (/proc/<pid>/status) and the V8 heap after a forced GC (through the inspector
 *      the child is started with) idle after start, after the commits, and every 100 of
 *      --reconciles (1,000) drift checks of a second `serve` on the same state dir with
 *      `--drift-interval 50ms` (nothing to change: each observes the fleet and plans nothing).
 *      Then three heap snapshots over --extra (100) more, summed by constructor: what grows in
 *      both halves keeps growing.
 *
 *   node --import tsx --experimental-websocket bench/serve.ts [--quick] [--commits N] [--reconciles N] [--extra N] [--instances sandbox|virtual]
 *   npm run bench:serve
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { keyFingerprint } from '../src/desired/ssh-key.js';
import { startEcsEmulator, type EcsEmulator } from '../src/emulators/ecs/ecs-emulator.js';
import { sandboxSupport } from '../src/emulators/ecs/sandbox/sandbox-fleet.js';
import type { VirtualRunner } from '../src/emulators/ecs/virtual-instances.js';
import type { ObservedGroup, ObservedUser } from '../src/plan/observed-state.js';
import { STATE_STORE_FILE } from '../src/reconcile/state-store.js';
import { ResultNotes } from '../src/source/result-notes.js';
import { DB, emulatorEnv, WEB } from '../test/integration/daemon-harness.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    commits: { type: 'string' },
    reconciles: { type: 'string' },
    extra: { type: 'string' },
    instances: { type: 'string' },
  },
});
const COMMITS = Number(values.commits ?? (values.quick ? 10 : 50));
const RECONCILES = Number(values.reconciles ?? (values.quick ? 200 : 1000));
const EXTRA = Number(values.extra ?? (values.quick ? 40 : 100));
const SAMPLE_EVERY = 100;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'src/cli/bin.js');
const USER_FILE = 'desired-state/users/E1001.yaml';
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const signedMib = (bytes: number) => `${bytes >= 0 ? '+' : '−'}${mib(Math.abs(bytes))}`;
const ms = (value: number) => `${value.toFixed(0).padStart(5)} ms`;

// ── statistics ─────────────────────────────────────────────────────────────────────────────────

/** The p-quantile with linear interpolation between closest ranks (numpy's default): of 50 values, p99 lies between the two largest. */
function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * p;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

interface Spread {
  p50: number;
  p99: number;
  max: number;
}

function spread(values: readonly number[]): Spread {
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: Math.max(...values) };
}

// ── the fleet ──────────────────────────────────────────────────────────────────────────────────

/** Requests the emulator received, in order, with the time each arrived (Date.now(), as the emulator takes it). */
interface Received {
  action: string;
  at: number;
}

/** The example fleet (two web, two db instances; the docker group the roles expect) behind the emulator. */
async function startFleet(kind: 'sandbox' | 'virtual', received: Received[]): Promise<EcsEmulator> {
  const tagged = [...WEB.map((id) => ({ id, tags: { app: 'web' } })), ...DB.map((id) => ({ id, tags: { app: 'db' } }))];
  const onRequest = (action: string, at: number) => void received.push({ action, at });
  if (kind === 'virtual') return startEcsEmulator({ virtualInstances: tagged, runner: memoryAgent(), installAgent: false, onRequest, seed: 11 });
  const emulator = await startEcsEmulator({ instances: tagged, onRequest, seed: 11 });
  for (const id of emulator.instances) await emulator.fleet.exec(id, ['sh', '-c', 'getent group docker >/dev/null || groupadd docker']);
  return emulator;
}

/**
 * The agent of the virtual instances: each instance's accounts in memory, changed by the apply
 * operations (`encode-operations.ts`) and reported by inventory in the agent's format, so that a
 * drift check after an apply plans nothing, as on a real instance. Root and the docker group are
 * there from the start, not rollcall's.
 */
function memoryAgent(): VirtualRunner {
  const instances = new Map<string, { users: Map<string, ObservedUser>; groups: Map<string, ObservedGroup>; sudoers: Map<string, string> }>();
  const stateOf = (id: string) => {
    let state = instances.get(id);
    if (!state) {
      state = { users: new Map([['root', { login: 'root', uid: 0, managed: false }]]), groups: new Map([['docker', { name: 'docker', gid: 998, members: [], managed: false }]]), sudoers: new Map() };
      instances.set(id, state);
    }
    return state;
  };
  const text = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');
  return async (id, _script, parameters) => {
    const state = stateOf(id);
    if (parameters.mode === 'inventory') {
      return { exitCode: 0, stdout: `${JSON.stringify({ users: [...state.users.values()], groups: [...state.groups.values()], sudoers: Object.fromEntries(state.sudoers) })}\n` };
    }
    const [header = '', ...ops] = gunzipSync(Buffer.from(parameters.ops ?? '', 'base64')).toString('utf8').trimEnd().split('\n');
    const lines = ops.map((op) => {
      const [verb = '', name = '', ...fields] = op.split('\t');
      const set = (field: string | undefined) => (field === undefined || field === '-' ? undefined : field.slice(1));
      switch (verb) {
        case 'group':
          state.groups.set(name, { name, gid: Number(fields[0]), members: [], managed: true });
          break;
        case 'group-delete':
          state.groups.delete(name);
          break;
        case 'sudoers':
          state.sudoers.set(name, text(fields[0] ?? ''));
          break;
        case 'sudoers-delete':
          state.sudoers.delete(name);
          break;
        case 'lock': {
          const user = state.users.get(name);
          if (user) state.users.set(name, { ...user, locked: true, expires: '1970-01-01', groups: [], sshKeys: [] });
          break;
        }
        case 'delete':
          state.users.delete(name);
          break;
        case 'user': {
          const [uid, gid, gecos, home, shell, groups, keys, locked, expiresDay] = fields.map(set);
          const user: ObservedUser = { ...(state.users.get(name) ?? { login: name, uid: 0, managed: true }), managed: true };
          if (uid !== undefined) user.uid = Number(uid);
          if (gid !== undefined) user.gid = Number(gid);
          if (gecos !== undefined) user.name = text(gecos);
          if (home !== undefined) user.home = home;
          if (shell !== undefined) user.shell = shell;
          if (groups !== undefined) user.groups = groups.split(',').filter((group) => group !== '');
          if (keys !== undefined) user.sshKeys = text(keys).split('\n').filter((key) => key.trim() !== '').map(keyFingerprint);
          if (locked !== undefined) user.locked = locked === '1';
          // The shadow expiry day is the first day without access; the snapshot says the last day with it.
          if (expiresDay !== undefined) user.expires = Number(expiresDay) < 0 ? null : new Date((Number(expiresDay) - 1) * 86_400_000).toISOString().slice(0, 10);
          state.users.set(name, user);
          break;
        }
        default:
          return JSON.stringify({ op: verb, kind: 'unknown', name, status: 'failed', error: 'unknown operation' });
      }
      const kind = verb.startsWith('group') ? 'group' : verb.startsWith('sudoers') ? 'sudoers' : 'user';
      return JSON.stringify({ op: verb, kind, name, status: 'changed' });
    });
    const summary = JSON.stringify({ summary: { changed: ops.length, unchanged: 0, failed: 0 }, generation: Number(header.split('\t')[2]) });
    return { exitCode: 0, stdout: `${[...lines, summary].join('\n')}\n` };
  };
}

// ── the repository ─────────────────────────────────────────────────────────────────────────────

/** A scratch repository holding a copy of desired-state/, committed once. */
function scratchRepo(): string {
  const repo = mkdtempSync(path.join(tmpdir(), 'rollcall-bench-repo-'));
  cpSync(path.join(ROOT, 'desired-state'), path.join(repo, 'desired-state'), { recursive: true });
  return repo;
}

/** Runs git; resolves to stdout and how long the process took, spawn to exit. */
async function git(repo: string, ...args: string[]): Promise<{ stdout: string; ms: number; exitedAt: number }> {
  const started = performance.now();
  const child = spawn('git', args, { cwd: repo, env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  const exitedAt = Date.now();
  const took = performance.now() - started;
  if (code !== 0) throw new Error(`git ${args.join(' ')} failed (${code}): ${Buffer.concat(err).toString().trim()}`);
  return { stdout: Buffer.concat(out).toString(), ms: took, exitedAt };
}

/** Gives zhangsan a new name and stages it: each commit of it is a real change on all four instances. */
function changeName(repo: string, round: number): void {
  const file = path.join(repo, USER_FILE);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^name: .*$/m, `name: Zhang San ${round}`));
}

/**
 * Sees notes being written: inotify on refs/notes/ (git writes the ref as rollcall.lock, then
 * renames it to rollcall). `wait(sha, since)` resolves to the time of the first rewrite of the ref
 * after `since` once the commit has a note; a poll every 250 ms is the fallback if an event is
 * missed, and says so.
 */
class NoteWatch {
  private readonly rewrites: number[] = [];
  private readonly watcher: FSWatcher;
  private wake: (() => void) | undefined;
  missed = 0;

  constructor(private readonly repo: string) {
    this.watcher = watch(path.join(repo, '.git/refs/notes'), (_event, file) => {
      if (file !== 'rollcall') return;
      this.rewrites.push(Date.now());
      this.wake?.();
    });
  }

  async wait(sha: string, since: number, timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let polled = Date.now();
    for (;;) {
      // On each rewrite of the ref, and every second in case inotify missed one.
      if (this.rewrites.some((at) => at >= since) || Date.now() - polled >= 1_000) {
        polled = Date.now();
        if (await this.hasNote(sha)) {
          // Read after the check: the event of a note written while git looked may have come meanwhile.
          const rewrite = this.rewrites.findLast((at) => at >= since);
          if (rewrite !== undefined) return rewrite;
          this.missed += 1;
          return polled;
        }
      }
      if (Date.now() > deadline) throw new Error(`no note on ${sha.slice(0, 12)} after ${timeoutMs / 1000} s: see the serve log`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 250);
      });
      this.wake = undefined;
    }
  }

  private async hasNote(sha: string): Promise<boolean> {
    const child = spawn('git', ['notes', '--ref=rollcall', 'list', sha], { cwd: this.repo, stdio: 'ignore' });
    const [code] = (await once(child, 'exit')) as [number | null];
    return code === 0;
  }

  close(): void {
    this.watcher.close();
  }
}

// ── the serve child ────────────────────────────────────────────────────────────────────────────

/** What a memory sample holds: RSS from /proc, and the heap after a forced GC from the child itself. */
interface MemorySample {
  label: string;
  reconciles: number;
  rss: number;
  rssAfterGc: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  store: number;
  wal: number;
}

/** The bits of the WebSocket of Node ≥ 22 (Node 20: --experimental-websocket) that the inspector client uses. */
interface Socket {
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'error' | 'close', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** A small client of the Chrome DevTools Protocol, enough to force a GC, read memory and take a heap snapshot. */
class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Map<string, (params: unknown) => void>();

  private constructor(private readonly socket: Socket) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown };
      if (message.id !== undefined) {
        const call = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) call?.reject(new Error(message.error.message));
        else call?.resolve(message.result);
      } else if (message.method) {
        this.listeners.get(message.method)?.(message.params);
      }
    });
  }

  static async connect(url: string): Promise<Inspector> {
    const WebSocket = (globalThis as { WebSocket?: new (url: string) => Socket }).WebSocket;
    if (!WebSocket) throw new Error('no WebSocket in this Node: run the bench with --experimental-websocket (Node 20), as `npm run bench:serve` does');
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve());
      socket.addEventListener('error', () => reject(new Error(`cannot reach the serve child's inspector at ${url}`)));
    });
    return new Inspector(socket);
  }

  call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  on(method: string, listener: (params: unknown) => void): void {
    this.listeners.set(method, listener);
  }

  close(): void {
    this.socket.close();
  }
}

/** `rollcall serve` as a child process: `node --inspect=127.0.0.1:0 src/cli/bin.js serve …`, its stderr in a log file. */
class ServeChild {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly inspectorUrl: string,
    readonly stateDir: string,
  ) {}

  static async start(options: { repo: string; stateDir: string; emulator: EcsEmulator; driftInterval: string; log: string }): Promise<ServeChild> {
    const args = ['--inspect=127.0.0.1:0', BIN, 'serve', '--repo', options.repo, '--port', '0', '--state-dir', options.stateDir, '--drift-interval', options.driftInterval];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...emulatorEnv(options.emulator) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(options.log, { flags: 'a' });
    let inspectorUrl: string | undefined;
    const inspectorSeen = new Promise<string>((resolve) => {
      createInterface({ input: child.stderr! }).on('line', (line) => {
        log.write(`${line}\n`);
        const match = /Debugger listening on (ws:\/\/\S+)/.exec(line);
        if (match && !inspectorUrl) resolve((inspectorUrl = match[1]!));
      });
    });
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`rollcall serve exited (${String(code)}) before it started: see ${options.log}`);
    });
    const firstLine = new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const [line, inspector] = await Promise.race([Promise.all([firstLine, inspectorSeen]), exited]);
    exited.catch(() => undefined);
    return new ServeChild(child, (JSON.parse(line) as { url: string }).url, inspector, options.stateDir);
  }

  get pid(): number {
    return this.child.pid!;
  }

  async status(): Promise<{ state: string; lastAppliedRevision?: string }> {
    return (await fetch(`${this.url}/status`)).json() as Promise<{ state: string; lastAppliedRevision?: string }>;
  }

  /** `rollcall_reconciles_total`, all labels summed, and by `trigger/result`. */
  async reconciles(): Promise<{ total: number; by: Map<string, number> }> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const by = new Map<string, number>();
    for (const match of text.matchAll(/^rollcall_reconciles_total\{trigger="([^"]*)",result="([^"]*)"\} (\d+)$/gm)) by.set(`${match[1]}/${match[2]}`, Number(match[3]));
    return { total: [...by.values()].reduce((sum, n) => sum + n, 0), by };
  }

  /** VmRSS of the child, in bytes. */
  rss(): number {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return Number(match?.[1] ?? 0) * 1024;
  }

  /** RSS first (as it is), then the heap after a full GC. */
  async sample(label: string, reconciles: number): Promise<MemorySample> {
    const rss = this.rss();
    const inspector = await Inspector.connect(this.inspectorUrl);
    try {
      await inspector.call('HeapProfiler.collectGarbage');
      const evaluated = await inspector.call<{ result: { value: string } }>('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
      const usage = JSON.parse(evaluated.result.value) as NodeJS.MemoryUsage;
      return { label, reconciles, rss, rssAfterGc: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, ...storeSize(this.stateDir) };
    } finally {
      inspector.close();
    }
  }

  /** A heap snapshot (after the GC V8 does for one), summed by constructor. */
  async heapSummary(): Promise<HeapSummary> {
    const inspector = await Inspector.connect(this.inspectorUrl);
    const chunks: string[] = [];
    inspector.on('HeapProfiler.addHeapSnapshotChunk', (params) => chunks.push((params as { chunk: string }).chunk));
    try {
      await inspector.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      inspector.close();
    }
    return summarizeSnapshot(chunks.join(''));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** The state store's database file and its write-ahead log (SQLite resets the log at each checkpoint and reuses the file), in bytes. */
function storeSize(stateDir: string): { store: number; wal: number } {
  const size = (file: string) => statSync(path.join(stateDir, file), { throwIfNoEntry: false })?.size ?? 0;
  return { store: size(STATE_STORE_FILE), wal: size(`${STATE_STORE_FILE}-wal`) };
}

/** Objects and bytes in a heap snapshot, by constructor (see `summarizeSnapshot`). */
type HeapSummary = Map<string, { count: number; size: number }>;

/**
 * A heap snapshot's nodes summed by what DevTools' summary groups them by: objects, closures and
 * native objects by constructor or function name, everything else (strings, arrays, code) by type.
 */
function summarizeSnapshot(text: string): HeapSummary {
  const snapshot = JSON.parse(text) as { snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }; nodes: number[]; strings: string[] };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [type, name, size] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number];
  const summary: HeapSummary = new Map();
  for (let at = 0; at < snapshot.nodes.length; at += fields.length) {
    const kind = types[snapshot.nodes[at + type]!]!;
    const key = kind === 'object' || kind === 'closure' || kind === 'native' ? `${snapshot.strings[snapshot.nodes[at + name]!]} (${kind})` : `(${kind})`;
    const entry = summary.get(key) ?? { count: 0, size: 0 };
    entry.count += 1;
    entry.size += snapshot.nodes[at + size]!;
    summary.set(key, entry);
  }
  return summary;
}

/** Waits until `check` returns a value, polling every `everyMs`; fails after `timeoutMs` with `what`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ── the phases ─────────────────────────────────────────────────────────────────────────────────

interface CommitTiming {
  commitMs: number;
  toFirstRequest: number;
  toFirstInvoke: number;
  toApplyInvoke: number;
  resultToNote: number;
  toNote: number;
  invokes: number;
}

/** One commit: the bare commit timed, then the requests it caused, up to its note. */
async function timeOneCommit(repo: string, received: Received[], notes: NoteWatch, round: number): Promise<CommitTiming> {
  changeName(repo, round);
  await git(repo, 'add', USER_FILE);
  const from = received.length;
  const startedAt = Date.now();
  const commit = await git(repo, 'commit', '-q', '-m', `Rename zhangsan (${round})`);
  const sha = (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();
  const noteAt = await notes.wait(sha, startedAt);
  const requests = received.slice(from).filter((request) => request.at <= noteAt);
  const invokes = requests.filter((request) => request.action === 'InvokeCommand');
  const lastResults = requests.filter((request) => request.action === 'DescribeInvocationResults').at(-1);
  if (invokes.length < 2 || !lastResults) throw new Error(`commit ${round} (${sha.slice(0, 12)}): expected an inventory and an apply before the note, got ${requests.map((request) => request.action).join(', ')}`);
  return {
    commitMs: commit.ms,
    toFirstRequest: requests[0]!.at - commit.exitedAt,
    toFirstInvoke: invokes[0]!.at - commit.exitedAt,
    // The apply's InvokeCommand is the last one before the note (inventory comes first).
    toApplyInvoke: invokes.at(-1)!.at - commit.exitedAt,
    resultToNote: noteAt - lastResults.at,
    toNote: noteAt - commit.exitedAt,
    invokes: invokes.length,
  };
}

async function latency(repo: string, serve: ServeChild, received: Received[]): Promise<CommitTiming[]> {
  const notes = new NoteWatch(repo);
  const timings: CommitTiming[] = [];
  try {
    // One commit not counted: the first reconcile of a revision warms code paths the start did not take.
    await timeOneCommit(repo, received, notes, 0);
    for (let round = 1; round <= COMMITS; round++) timings.push(await timeOneCommit(repo, received, notes, round));
  } finally {
    notes.close();
  }
  const records = await new ResultNotes(repo).all();
  const applied = [...records.values()].filter((list) => list.some((record) => record.trigger === 'revision' && record.outcome === 'applied')).length;
  console.log(`   notes with an applied revision record: ${applied} (the initial commit, the warm-up and ${COMMITS} timed); inotify missed ${notes.missed}`);
  if (applied < COMMITS + 2) throw new Error(`only ${applied} of ${COMMITS + 2} commits have a note that says applied: see the serve log`);
  // The status moves just after the note is written.
  await until('serve to be Ready after the commits (see its log)', async () => ((await serve.status()).state === 'Ready' ? true : undefined), 10_000);
  return timings;
}

function printLatency(timings: readonly CommitTiming[]): void {
  const rows: [string, (timing: CommitTiming) => number][] = [
    ['bare `git commit` (spawn to exit)', (timing) => timing.commitMs],
    ['commit exit → first API request', (timing) => timing.toFirstRequest],
    ['commit exit → first InvokeCommand', (timing) => timing.toFirstInvoke],
    ['commit exit → apply InvokeCommand', (timing) => timing.toApplyInvoke],
    ['last results read → note', (timing) => timing.resultToNote],
    ['commit exit → note (end to end)', (timing) => timing.toNote],
  ];
  const commit = spread(timings.map(rows[0]![1]));
  console.log(`\n   ${`over ${timings.length} commits`.padEnd(36)}      p50       p99       max  p50/commit  p99/commit`);
  for (const [label, pick] of rows) {
    const figures = spread(timings.map(pick));
    const ratios = `${(figures.p50 / commit.p50).toFixed(1).padStart(9)}×  ${(figures.p99 / commit.p99).toFixed(1).padStart(9)}×`;
    console.log(`   ${label.padEnd(36)}  ${ms(figures.p50)}  ${ms(figures.p99)}  ${ms(figures.max)}  ${ratios}`);
  }
  const invokes = new Set(timings.map((timing) => timing.invokes));
  console.log(`   InvokeCommand per commit: ${[...invokes].join(', ')} (inventory, apply)`);
}

function printSample(sample: MemorySample, base?: MemorySample): void {
  const growth = base ? `   (${signedMib(sample.rss - base.rss)} RSS, ${signedMib(sample.heapUsed - base.heapUsed)} heap)` : '';
  console.log(
    `   ${sample.label.padEnd(34)} ${String(sample.reconciles).padStart(5)}  RSS ${mib(sample.rss).padStart(10)} (${mib(sample.rssAfterGc).padStart(10)} after GC)  heap ${mib(sample.heapUsed).padStart(9)} / ${mib(sample.heapTotal).padStart(9)}  external ${mib(sample.external).padStart(8)}  store ${(sample.store / 1024).toFixed(0).padStart(5)} KiB + WAL ${(sample.wal / 1024).toFixed(0).padStart(5)} KiB${growth}`,
  );
}

/** The drift-check phase: a second serve with a 50 ms drift interval, sampled every 100 reconciles, then two heap snapshots diffed. */
async function memory(options: { repo: string; stateDir: string; emulator: EcsEmulator; log: string; idle: MemorySample }): Promise<void> {
  const serve = await ServeChild.start({ repo: options.repo, stateDir: options.stateDir, emulator: options.emulator, driftInterval: '50ms', log: options.log });
  try {
    await until('the second serve to be ready', async () => ((await fetch(`${serve.url}/readyz`)).status === 200 ? true : undefined), 60_000);
    await sleep(2_000);
    const restarted = await serve.sample('restarted, before any drift check', (await serve.reconciles()).total);
    printSample(restarted, options.idle);
    if (restarted.reconciles === 0) {
      // Drift checks are scheduled only after a revision is reconciled in this process: a restart with
      // nothing new never starts them. One more commit does.
      console.log('   no drift check ran in the 2 s after the restart: drift is scheduled only once a revision is reconciled; committing one to start it');
      changeName(options.repo, 10_000);
      await git(options.repo, 'commit', '-q', '-a', '-m', 'Rename zhangsan (start the drift checks)');
    }
    const samples: MemorySample[] = [];
    const started = performance.now();
    let last = { total: 0, at: Date.now() };
    for (let mark = SAMPLE_EVERY; mark <= RECONCILES; mark += SAMPLE_EVERY) {
      const total = await until(`${mark} reconciles (stuck at ${last.total})`, async () => {
        const { total } = await serve.reconciles();
        if (total !== last.total) last = { total, at: Date.now() };
        return total >= mark ? total : undefined;
      }, 120_000, 200);
      samples.push(await serve.sample(`after ${mark} reconciles`, total));
      printSample(samples.at(-1)!, samples[0]);
    }
    const seconds = (performance.now() - started) / 1000;
    const { by } = await serve.reconciles();
    console.log(`   ${RECONCILES} reconciles in ${seconds.toFixed(0)} s (${(seconds / RECONCILES * 1000).toFixed(0)} ms each): ${[...by].map(([key, n]) => `${key} ${n}`).join(', ')}`);
    if ((by.get('drift/applied') ?? 0) > 0) console.log('   warning: drift checks found something to change: the memory figures include applies');

    const first = samples[0] ?? restarted;
    const lastSample = samples.at(-1) ?? restarted;
    const span = lastSample.reconciles - first.reconciles;
    if (span > 0) console.log(`   growth from ${first.reconciles} to ${lastSample.reconciles} reconciles: RSS ${signedMib(lastSample.rss - first.rss)}, heap ${signedMib(lastSample.heapUsed - first.heapUsed)} (${((lastSample.heapUsed - first.heapUsed) / span).toFixed(0)} bytes a reconcile), store ${signedMib(lastSample.store - first.store)} (WAL ${mib(first.wal)} → ${mib(lastSample.wal)})`);
    console.log(`   against idle after the first start: RSS ${signedMib(lastSample.rss - options.idle.rss)}, heap ${signedMib(lastSample.heapUsed - options.idle.heapUsed)}`);

    if (EXTRA > 0) {
      // Three snapshots: what grows in both halves keeps growing; what grows in one is what was alive at that moment.
      const summaries: HeapSummary[] = [];
      let from = (await serve.reconciles()).total;
      const start = from;
      for (const half of [0, 1, 2]) {
        if (half > 0) {
          const target = from + Math.ceil(EXTRA / 2);
          from = await until(`${EXTRA} more reconciles`, async () => {
            const { total } = await serve.reconciles();
            return total >= target ? total : undefined;
          }, 120_000, 200);
        }
        summaries.push(await serve.heapSummary());
      }
      printHeapDiff(summaries as [HeapSummary, HeapSummary, HeapSummary], from - start);
    }
  } finally {
    await serve.stop();
  }
}

function printHeapDiff([first, middle, last]: [HeapSummary, HeapSummary, HeapSummary], reconciles: number): void {
  const total = (summary: HeapSummary) => [...summary.values()].reduce((sum, entry) => sum + entry.size, 0);
  const of = (summary: HeapSummary, key: string) => summary.get(key) ?? { count: 0, size: 0 };
  const grown = [...last.keys()]
    .map((key) => ({ key, counts: [of(first, key).count, of(middle, key).count, of(last, key).count], size: of(last, key).size - of(first, key).size, steady: of(middle, key).size > of(first, key).size && of(last, key).size > of(middle, key).size }))
    .filter((entry) => entry.size > 0)
    .sort((a, b) => b.size - a.size)
    .slice(0, 8);
  console.log(`\n   heap snapshots over ${reconciles} reconciles: ${[first, middle, last].map((summary) => mib(total(summary))).join(' → ')} (${((total(last) - total(first)) / reconciles).toFixed(0)} bytes a reconcile); what grew most (objects at each snapshot; * grew in both halves):`);
  for (const entry of grown) console.log(`     ${entry.key.padEnd(44)} ${entry.counts.map((count) => String(count).padStart(7)).join(' →')}  ${`${entry.size >= 0 ? '+' : ''}${(entry.size / 1024).toFixed(0)} KiB`.padStart(10)}${entry.steady ? ' *' : ''}`);
  const largest = [...last].sort(([, a], [, b]) => b.size - a.size).slice(0, 6);
  console.log(`   what the heap holds most (last snapshot): ${largest.map(([key, entry]) => `${key} ${mib(entry.size)}`).join(', ')}`);
}

// ── main ───────────────────────────────────────────────────────────────────────────────────────

const support = await sandboxSupport();
const kind = values.instances === 'virtual' || (values.instances === undefined && !support.ok) ? 'virtual' : 'sandbox';
if (kind === 'sandbox' && !support.ok) throw new Error(`sandbox instances are not available here (${support.reason}): use --instances virtual`);
const gitVersion = (await git(ROOT, '--version')).stdout.trim();
console.log(`rollcall serve bench — ${new Date().toISOString()}`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${mib(totalmem())}, load ${loadavg().map((load) => load.toFixed(2)).join(' ')}; Node ${process.version}, ${gitVersion}`);
console.log(`command: node ${process.execArgv.join(' ')} ${path.relative(ROOT, process.argv[1] ?? '')} ${process.argv.slice(2).join(' ')}`.replace(/\s+/g, ' '));
console.log(`instances: 4 ${kind === 'sandbox' ? 'sandbox instances (the real agent)' : `virtual instances (an in-memory agent)${support.ok ? '' : `: no sandboxes here (${support.reason})`}`}; ${COMMITS} commits, ${RECONCILES} reconciles, ${EXTRA} between heap snapshots`);

const received: Received[] = [];
const work = mkdtempSync(path.join(tmpdir(), 'rollcall-bench-serve-'));
const repo = scratchRepo();
await git(repo, 'init', '-q', '-b', 'main');
await git(repo, 'add', '-A');
await git(repo, 'commit', '-q', '-m', 'Initial desired state');
const stateDir = path.join(work, 'state');
const emulator = await startFleet(kind, received);
let serve: ServeChild | undefined;
try {
  serve = await ServeChild.start({ repo, stateDir, emulator, driftInterval: '1h', log: path.join(work, 'serve-1.log') });
  const head = (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();
  const first = serve;
  await until('the initial revision to be applied', async () => ((await first.status()).lastAppliedRevision === head ? true : undefined), 120_000);
  await sleep(2_000);
  console.log(`\nserve pid ${serve.pid}, log ${work}/serve-*.log`);
  console.log('\n1. Latency: one commit at a time, each waiting for its note');
  const idle = await serve.sample('idle after start (initial apply)', (await serve.reconciles()).total);
  const timings = await latency(repo, serve, received);
  printLatency(timings);

  console.log('\n2. Memory of the serve process (RSS as read; heap after a forced GC)');
  console.log('                                      reconciles');
  printSample(idle);
  printSample(await serve.sample(`after ${COMMITS + 1} commits`, (await serve.reconciles()).total), idle);
  await serve.stop();
  serve = undefined;
  await memory({ repo, stateDir, emulator, log: path.join(work, 'serve-2.log'), idle });
} finally {
  await serve?.stop();
  await emulator.close();
  rmSync(repo, { recursive: true, force: true });
}
console.log(`\nlogs kept in ${work}`);
