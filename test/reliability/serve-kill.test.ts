import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, it, type ExpectStatic, type TestContext } from 'vitest';
import type { EcsEmulator } from '../../src/emulators/ecs/ecs-emulator.js';
import type { ReconcilerStatus } from '../../src/reconcile/status.js';
import { parseResultNote, ResultNotes } from '../../src/source/result-notes.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { runCli } from '../cli/run-cli.js';
import { sandboxSkipReason } from '../integration/agent-harness.js';
import { DB, emulatorEnv, gitIn, passwdLine, startExampleFleet, waitFor, WEB } from '../integration/daemon-harness.js';
import { DesiredChurn } from './desired-churn.js';
import { killSeed, seededRandom } from './seeded-random.js';
import { spawnServe, type ServeProcess } from './serve-process.js';

/**
 * The issue's harness: `rollcall serve` (a child process) is killed with SIGKILL at 20 moments
 * across reconciles and restarted each time; at the end the fleet equals the branch tip, every
 * commit has exactly one note record that applied it, and Cloud Assistant never ran a chunk of
 * operations twice on an instance. Then the same with the state store deleted while stopped.
 */

const skip = await sandboxSkipReason();
const KILLS = 20;
/** Kills that wait for a narrow window rather than a random delay. */
const AT_INVOKE = 4;
const AT_NOTE = 4;
/** A random delay after the commit (or the start): from 0 to this. */
const MAX_DELAY_MS = 3_000;
/** A narrow window that does not come within this (after the daemon printed its address) is given up on: it is killed anyway. */
const WINDOW_TIMEOUT_MS = 8_000;
const SEED = killSeed();
console.log(`serve-kill: seed ${SEED} (replay the same kill moments and commits with ROLLCALL_KILL_SEED=${SEED})`);

type KillMode = 'delay' | 'invoke' | 'note';

interface Kill {
  cycle: number;
  mode: KillMode;
  /** Where the kill landed, in words. */
  hit: string;
  committed: string | undefined;
  storeDeleted: boolean;
}

/** Daemons and emulators still running: killed and closed at the end whatever happened. */
const running = new Set<ServeProcess | EcsEmulator>();

afterAll(async () => {
  for (const thing of running) await ('kill' in thing ? thing.kill() : thing.close());
});

// Side by side: most of a cycle is waiting (for a daemon to start, for a moment to kill it), and
// one after the other the scenarios would take twice as long.
describe.skipIf(skip)('rollcall serve killed with SIGKILL at random moments, and restarted', () => {
  it.concurrent('ends with the fleet at the branch tip, every note written once, no chunk run twice', async (context) => {
    await killScenario(context, { name: 'kill', seed: SEED, deleteStore: false });
  }, 300_000);

  it.concurrent('the same with the state store deleted while stopped (every other restart): rebuilt from the git notes', async (context) => {
    await killScenario(context, { name: 'kill-lose-store', seed: (SEED + 1) >>> 0, deleteStore: true });
  }, 300_000);

  // What the random kills above found when the first kill landed early: a first run (no note, no
  // lastHandledRevision) queues the branch tip; killed before that revision's intent row, the next
  // start must begin at it again, not at a newer tip, or the first revision is never recorded.
  it.concurrent('a revision the first run was killed on, before its intent row, is still applied and recorded after a newer commit', async ({ expect }) => {
    const hook = invokeCommandHook();
    const emulator = await startFleet(hook.fire);
    running.add(emulator);
    try {
      const { repo, dir } = desiredStateRepo();
      const first = gitIn(repo, 'rev-parse', 'HEAD').trim();
      const stateDir = mkdtempSync(path.join(tmpdir(), 'rollcall-kill-state-'));
      const lines: string[] = [];
      const options = { repo, stateDir, env: emulatorEnv(emulator, { ROLLCALL_LOG_LEVEL: 'info' }), onLog: (line: string) => lines.push(line) };
      const killed = spawnServe(options);
      running.add(killed);
      // A new daemon's first InvokeCommand is the inventory of the revision it loaded: no intent row yet.
      expect(await killAtInvokeCommand(killed, repo, 1, hook)).toBe('at InvokeCommand #1');
      await killed.kill();
      running.delete(killed);
      commitChange(repo, new DesiredChurn(dir, seededRandom(1)), 0);
      const tip = gitIn(repo, 'rev-parse', 'HEAD').trim();

      const serve = spawnServe(options);
      running.add(serve);
      const url = await serve.url;
      await waitFor(`the tip ${tip.slice(0, 12)} applied`, async () => ((await (await fetch(`${url}/status`)).json()) as ReconcilerStatus).lastAppliedRevision === tip, 60_000);
      expect(await serve.terminate()).toBe(0);
      running.delete(serve);
      const records = await new ResultNotes(repo).read(first);
      rmSync(repo, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
      expect(records.map((record) => `${record.trigger} ${record.outcome}`), lines.join('\n')).toEqual(['revision applied']);
    } finally {
      await emulator.close();
      running.delete(emulator);
    }
  }, 90_000);
});

async function killScenario({ expect, onTestFailed, onTestFinished }: TestContext, scenario: { name: string; seed: number; deleteStore: boolean }): Promise<void> {
  const began = Date.now();
  const random = seededRandom(scenario.seed);
  const log = scenarioLog(scenario.name, scenario.seed);
  const kills: Kill[] = [];
  onTestFailed(() => {
    log.save();
    console.error(`${scenario.name} (seed ${scenario.seed}) failed; its repository and state dir are kept. Kills:\n${describeKills(kills)}\nThe daemon's log (last lines; all of it in ${log.file}):\n${log.tail(150)}`);
  });
  const hook = invokeCommandHook();
  const emulator = await startFleet(hook.fire);
  running.add(emulator);
  const { repo, dir } = desiredStateRepo();
  const stateDir = mkdtempSync(path.join(tmpdir(), 'rollcall-kill-state-'));
  const churn = new DesiredChurn(dir, random);
  const env = emulatorEnv(emulator, { ROLLCALL_LOG_LEVEL: 'info' });
  // Kept for a look when the test fails.
  onTestFinished(({ task }) => {
    if (task.result?.state === 'pass') for (const made of [repo, stateDir]) rmSync(made, { recursive: true, force: true });
  });
  let starts = 0;
  let storeDeleted = false;

  const start = (): ServeProcess => {
    starts++;
    // Every other restart (the 1st, 3rd, …) finds no store: the daemon rebuilds it from the git notes.
    storeDeleted = scenario.deleteStore && starts % 2 === 0;
    if (storeDeleted) deleteStateStore(stateDir);
    log.mark(`start #${starts}${storeDeleted ? ' (state store deleted)' : ''}`);
    const started = starts;
    const serve = spawnServe({ repo, stateDir, env, onLog: (line) => log.line(started, line) });
    running.add(serve);
    return serve;
  };

  try {
    const modes = random.shuffle<KillMode>([...Array<KillMode>(AT_INVOKE).fill('invoke'), ...Array<KillMode>(AT_NOTE).fill('note'), ...Array<KillMode>(KILLS - AT_INVOKE - AT_NOTE).fill('delay')]);
    for (const [cycle, mode] of modes.entries()) {
      // Drawn whatever happens next, so that a seed replays the same choices.
      const nth = random.int(1, 3);
      const delay = random.int(0, MAX_DELAY_MS);
      // Some kills come with no new commit: they land in what the restart finishes.
      const commits = mode !== 'delay' || random.chance(0.75);
      const serve = start();
      // Armed before the daemon does anything: the restart's own work (finishing an attempt) is a target too.
      const window = mode === 'invoke' ? killAtInvokeCommand(serve, repo, nth, hook) : mode === 'note' ? killAtNoteCommit(serve, repo).hit : undefined;
      const url = await serve.url;
      // A commit lands while the daemon runs, or while it is down when a window killed it starting.
      const committed = commits ? commitChange(repo, churn, cycle) : undefined;
      let hit: string;
      if (window) {
        hit = await window;
      } else if (!url) {
        hit = 'while starting';
      } else {
        await sleep(delay);
        serve.killNow();
        hit = `${delay} ms after ${committed ? 'the commit' : 'the start'}`;
      }
      hook.set(undefined);
      await serve.kill();
      running.delete(serve);
      kills.push({ cycle, mode, hit: url ? hit : `${hit} (before it printed its address)`, committed, storeDeleted });
      log.mark(`killed (${mode}): ${hit}`);
    }

    const serve = start();
    const url = await serve.url;
    if (!url) throw new Error(`the last start of rollcall serve exited (code ${await serve.exited}) before it printed its address`);
    const tip = gitIn(repo, 'rev-parse', 'HEAD').trim();
    const status = await waitFor(
      `the tip ${tip.slice(0, 12)} applied and the daemon Ready`,
      async () => {
        const current = (await (await fetch(`${url}/status`)).json()) as ReconcilerStatus;
        return current.lastAppliedRevision === tip && current.state === 'Ready' && current;
      },
      90_000,
    );
    expect(status.lastAttemptedRevision).toBe(tip);
    // Stopped gracefully, so that nothing runs while the fleet and the notes are checked.
    expect(await serve.terminate()).toBe(0);
    running.delete(serve);

    // Soft: one run reports all three.
    await expectFleetAtTip(expect.soft, emulator, repo, churn);
    const unrecorded = await expectEveryNoteOnce(expect.soft, repo, { unrecordedFirst: scenario.deleteStore });
    if (unrecorded.length > 0) log.mark(`no note, by design (store lost before the first note): ${unrecorded.map((sha) => sha.slice(0, 12)).join(', ')}`);
    expectNoChunkRunTwice(expect.soft, emulator);
    // The narrow windows were reached, not only given up on.
    expect(kills.filter((kill) => kill.mode === 'invoke' && kill.hit.startsWith('at InvokeCommand')).length, 'kills at an InvokeCommand').toBeGreaterThan(0);
    expect(kills.filter((kill) => kill.hit.startsWith('right after note')).length, 'kills right after a note commit').toBeGreaterThan(0);
  } finally {
    await emulator.close();
    running.delete(emulator);
    console.log(
      `${scenario.name}: ${kills.length} kills, ${starts} starts, ${Math.round((Date.now() - began) / 1000)} s; seed ${scenario.seed}\n` +
        `  recovery: ${log.count('finishing an attempt a previous run started')} attempts finished after a restart, ${log.count('revision already applied and recorded')} revisions found recorded, ${log.count('state store rebuilt from the git notes')} store rebuilds, ${log.count('waited for runs a previous rollcall started')} waits for runs still going\n` +
        describeKills(kills),
    );
  }
}

/** One callback for the emulator's InvokeCommand requests, swapped as kills are armed and disarmed. */
function invokeCommandHook() {
  let current: (() => void) | undefined;
  return {
    fire: () => current?.(),
    set: (callback: (() => void) | undefined) => {
      current = callback;
    },
  };
}

/** The example fleet (web1, web2, db1, db2) behind an emulator that reports each InvokeCommand as it arrives. */
async function startFleet(onInvokeCommand: () => void): Promise<EcsEmulator> {
  return startExampleFleet({
    onRequest: (action) => {
      if (action === 'InvokeCommand') onInvokeCommand();
    },
  });
}

/**
 * Kills the daemon the moment its `nth` InvokeCommand reaches the emulator: the request is served
 * (the run starts) but the daemon never reads the InvokeId. The first is usually the inventory
 * (after the revision was loaded, before its intent row), the next ones the apply. A reconcile
 * with fewer invocations ends with a note: killed then.
 */
function killAtInvokeCommand(serve: ServeProcess, repo: string, nth: number, hook: ReturnType<typeof invokeCommandHook>): Promise<string> {
  let seen = 0;
  const killed = killAtNoteCommit(serve, repo, (note) => `no InvokeCommand #${nth} (${seen} seen) before ${note}`);
  hook.set(() => {
    if (++seen < nth) return;
    hook.set(undefined);
    killed.now(`at InvokeCommand #${nth}`);
  });
  return killed.hit;
}

/**
 * Kills the daemon as soon as `refs/notes/rollcall` moves: between the note and the state store's
 * "recorded" mark. The loose ref file is read every few milliseconds (git notes never packs it);
 * a `git rev-parse` each time would be too slow for this window.
 */
function killAtNoteCommit(serve: ServeProcess, repo: string, describe = (note: string) => `right after ${note}`): { hit: Promise<string>; now(hit: string): void } {
  const ref = path.join(repo, '.git', 'refs', 'notes', 'rollcall');
  const read = () => {
    try {
      return readFileSync(ref, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const before = read();
  // Counted from the address line: a start takes seconds on a busy machine, and is not the window.
  let deadline = Number.POSITIVE_INFINITY;
  void serve.url.then(() => (deadline = Date.now() + WINDOW_TIMEOUT_MS));
  let resolveHit: (hit: string) => void = () => {};
  const hit = new Promise<string>((resolve) => (resolveHit = resolve));
  const now = (what: string) => {
    serve.killNow();
    clearInterval(poll);
    resolveHit(what);
  };
  const poll = setInterval(() => {
    const note = read();
    if (note !== before && note !== '') now(describe(`note commit ${note.slice(0, 12)}`));
    else if (Date.now() > deadline) now(`nothing within ${WINDOW_TIMEOUT_MS} ms of the start: killed anyway`);
  }, 3);
  return { hit, now };
}

function commitChange(repo: string, churn: DesiredChurn, cycle: number): string {
  const changes = churn.change();
  while (gitIn(repo, 'status', '--porcelain') === '') changes.push(...churn.change());
  gitIn(repo, 'add', '-A');
  gitIn(repo, 'commit', '-q', '-m', `Kill cycle ${cycle}: ${changes.join('; ')}`);
  return `${gitIn(repo, 'rev-parse', '--short=12', 'HEAD').trim()} ${changes.join('; ')}`;
}

/** The store and its WAL files; the clone, the exports and serve.json stay. */
function deleteStateStore(stateDir: string): void {
  for (const name of readdirSync(stateDir)) if (name.startsWith('rollcall.sqlite')) rmSync(path.join(stateDir, name), { force: true });
}

/** `rollcall plan` against the fleet finds nothing to do; the users' passwd lines say what their files say. */
async function expectFleetAtTip(expect: ExpectStatic['soft'], emulator: EcsEmulator, repo: string, churn: DesiredChurn): Promise<void> {
  expect(gitIn(repo, 'status', '--porcelain')).toBe('');
  const planned = await runCli(['plan', '--dir', path.join(repo, 'desired-state'), '--detailed-exitcode'], { env: emulatorEnv(emulator) });
  expect(planned.stdout + planned.stderr).toContain('No changes.');
  expect(planned.code).toBe(0);
  for (const user of churn.present()) {
    const instances = [...(user.hostgroups.has('web') ? [WEB[user.uid % 2]!] : []), ...(user.hostgroups.has('db') ? [DB[user.uid % 2]!] : [])];
    for (const instance of instances) expect(await passwdLine(emulator, instance, user.login), `${user.login} on ${instance}`).toBe(`${user.login}:x:${user.uid}:${user.uid}:${user.name}:/home/${user.login}:${user.shell}`);
  }
  for (const user of [...churn.users.values()].filter((candidate) => candidate.state === 'absent')) {
    for (const instance of [...WEB, ...DB]) {
      const shadow = await emulator.fleet.exec(instance, ['getent', 'shadow', user.login]);
      // Never created (offboarded in the commit that added it), or locked.
      if (shadow.exitCode === 0) expect(shadow.stdout.toString(), `${user.login} on ${instance}`).toMatch(new RegExp(`^${user.login}:!`));
    }
  }
  expect(await passwdLine(emulator, WEB[1]!, 'sunqi')).toMatch(new RegExp(`:${churn.sunqiShell}$`));
}

/**
 * Every commit of the branch has exactly one record that applied it (trigger revision or
 * break-glass, outcome applied or no-changes); no attempt is recorded twice; every note parses.
 *
 * `unrecordedFirst`: commits older than the first one with a note may have none. With the store
 * lost and no note in the repository yet, nothing says an earlier revision was ever attempted, so
 * the daemon starts as a new deployment does: from the branch tip (pendingRevisions without `since`).
 */
async function expectEveryNoteOnce(expect: ExpectStatic['soft'], repo: string, options: { unrecordedFirst: boolean }): Promise<string[]> {
  const commits = gitIn(repo, 'rev-list', '--first-parent', '--reverse', 'HEAD').trim().split('\n');
  const texts = commits.map((sha) => noteText(repo, sha));
  const firstNoted = texts.findIndex((text) => text !== '');
  const skipped = options.unrecordedFirst ? commits.slice(0, Math.max(0, firstNoted)) : [];
  const wrong: string[] = [];
  const attempts = new Map<string, string>();
  for (const [index, sha] of commits.entries()) {
    const text = texts[index]!;
    const { records, problems } = parseResultNote(text);
    expect(problems, `the note on ${sha}:\n${text}`).toEqual([]);
    const applied = records.filter((record) => (record.trigger === 'revision' || record.trigger === 'break-glass') && (record.outcome === 'applied' || record.outcome === 'no-changes'));
    if (applied.length !== 1 && !skipped.includes(sha)) {
      wrong.push(`${sha.slice(0, 12)} ${gitIn(repo, 'log', '-1', '--format=%s', sha).trim()}: ${applied.length} applying records (${records.map((record) => `${record.attempt} ${record.trigger} ${record.outcome}`).join(', ') || 'no note'})`);
    }
    for (const record of records) {
      if (attempts.has(record.attempt)) wrong.push(`attempt ${record.attempt} recorded on ${attempts.get(record.attempt)!.slice(0, 12)} and on ${sha.slice(0, 12)}`);
      attempts.set(record.attempt, sha);
    }
  }
  expect(wrong, 'commits whose note is not one applying record').toEqual([]);
  // Notes only on the branch's commits, and the same records read in bulk.
  const all = await new ResultNotes(repo).all();
  expect([...all.keys()].filter((sha) => !commits.includes(sha))).toEqual([]);
  expect([...all.values()].reduce((sum, records) => sum + records.length, 0)).toBe(attempts.size);
  return skipped;
}

function noteText(repo: string, sha: string): string {
  try {
    return gitIn(repo, 'notes', '--ref=rollcall', 'show', sha);
  } catch {
    return '';
  }
}

/** No instance ran the same apply parameters twice (inventory runs, which carry no operations, may repeat). */
function expectNoChunkRunTwice(expect: ExpectStatic['soft'], emulator: EcsEmulator): void {
  const applies = emulator.runs().filter((run) => (run.parameters.ops ?? '') !== '');
  expect(applies.length).toBeGreaterThan(0);
  const seen = new Map<string, (typeof applies)[number]>();
  const twice: string[] = [];
  for (const run of applies) {
    const key = `${run.instanceId}\n${JSON.stringify(Object.entries(run.parameters).sort())}`;
    const first = seen.get(key);
    if (first) twice.push(`${run.instanceId}: ${first.invokeId} (${first.createdAt.toISOString()}) and ${run.invokeId} (${run.createdAt.toISOString()}) ran ${describeOps(run.parameters.ops!)}`);
    else seen.set(key, run);
  }
  expect(twice).toEqual([]);
}

/** The operations of an `ops` parameter, readable: `generation 1795…: user churn3 …, sudoers …`. */
function describeOps(ops: string): string {
  const lines = gunzipSync(Buffer.from(ops, 'base64')).toString('utf8').trim().split('\n');
  const generation = lines[0]?.split('\t')[2];
  return `generation ${generation}: ${lines
    .slice(1)
    .map((line) => line.split('\t').slice(0, 2).join(' '))
    .join(', ')}`;
}

function describeKills(kills: readonly Kill[]): string {
  return kills.map((kill) => `  #${kill.cycle} ${kill.mode}${kill.storeDeleted ? ' (store deleted before the start)' : ''}: ${kill.hit}${kill.committed ? `; commit ${kill.committed}` : ''}`).join('\n');
}

/** The daemon's stderr over every start, kept to print (and save) when an assertion fails. */
function scenarioLog(name: string, seed: number) {
  const lines: string[] = [];
  const began = Date.now();
  const file = path.join(tmpdir(), `rollcall-${name}-${seed}-${process.pid}.log`);
  return {
    file,
    line: (start: number, line: string) => lines.push(`[start #${start}] ${line}`),
    mark: (text: string) => lines.push(`---- ${((Date.now() - began) / 1000).toFixed(1)} s: ${text}`),
    tail: (count: number) => lines.slice(-count).join('\n'),
    count: (message: string) => lines.filter((line) => line.includes(`"msg":"${message}"`)).length,
    save: () => writeFileSync(file, `${lines.join('\n')}\n`),
  };
}
