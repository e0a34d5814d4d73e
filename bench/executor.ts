/**
 * How well does the Cloud Assistant executor use the API and the instances? Through the ECS API
 * emulator and the real SDK (needs root: the emulator needs sandbox support even for part 1):
 *
 *   1. API calls for a change touching --virtual (1,000) instances: virtual instances whose runs a
 *      no-op agent answers (after --agent-ms), the executor's discovery, inventory and apply counted
 *      by the emulator, against the floor (⌈N/100⌉ InvokeCommand + ⌈N/50⌉ DescribeInvocationResults
 *      pages) and against a per-instance loop (RunCommand, then DescribeInvocationResults every
 *      second until final) on the same emulator in the same run. Goals: ≤ 1.3× the floor, ≥ 50×
 *      fewer calls than the loop.
 *   2. Wall time of an apply on --instances (200) sandbox instances with the real agent, one new
 *      user each, against the floor: the sum of the agent's own run times / the concurrency, for
 *      each --concurrency (the executor's, and the emulator's runs at once, set alike). Two shapes:
 *      the same user everywhere (one set of operations, shared invocations) and a different user on
 *      each instance (a set of operations, so an invocation, per instance).
 *
 *   node --import tsx bench/executor.ts [--virtual N] [--agent-ms 0,500,2000] [--instances N] [--concurrency 4,8] [--batch 20] [--only calls|wall]
 */
import { freemem, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { agentParameters, agentStub } from '../src/agent/agent-script.js';
import { chunkOperations, operationsFor } from '../src/agent/encode-operations.js';
import type { DesiredState, Role, User } from '../src/desired/types.js';
import { startEcsEmulator, type EcsEmulator } from '../src/emulators/ecs/ecs-emulator.js';
import { SandboxFleet, type RunResult } from '../src/emulators/ecs/sandbox/sandbox-fleet.js';
import type { VirtualRunner } from '../src/emulators/ecs/virtual-instances.js';
import { CloudAssistantExecutor } from '../src/executors/cloud-assistant/cloud-assistant-executor.js';
import { createEcsClient, Ecs, type EcsClient } from '../src/executors/cloud-assistant/create-ecs-client.js';
import { plan } from '../src/plan/build-plan.js';
import type { ObservedState } from '../src/plan/observed-state.js';
import type { Plan } from '../src/plan/types.js';
import { randomEd25519Key } from '../test/fixtures/random-ssh-key.js';

const { values } = parseArgs({
  options: {
    virtual: { type: 'string', default: '1000' },
    'agent-ms': { type: 'string', default: '0,500,2000' },
    instances: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '4,8' },
    batch: { type: 'string', default: '20' },
    only: { type: 'string' },
  },
});
const VIRTUAL = Number(values.virtual);
const AGENT_MS = values['agent-ms'].split(',').map(Number);
const INSTANCES = Number(values.instances);
const CONCURRENCY = values.concurrency.split(',').map(Number);
const BATCH = Number(values.batch);
const TODAY = new Date('2026-11-28T04:00:00Z');
const TAGS = { app: 'bench' };
/** Instances per InvokeCommand and results per DescribeInvocationResults page, as the API allows. */
const PER_INVOCATION = 100;
const PER_RESULT_PAGE = 50;
/** The per-instance loop: instances handled at once, and its poll interval. */
const LOOP_PARALLEL = 100;
const LOOP_POLL_MS = 1000;

let generation = 0;

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
const usedMemory = () => totalmem() - freemem();
const total = (calls: ReadonlyMap<string, number>) => [...calls.values()].reduce((sum, n) => sum + n, 0);
const byAction = (calls: ReadonlyMap<string, number>) => [...calls].sort(([a], [b]) => (a < b ? -1 : 1)).map(([action, n]) => `${action} ${n}`).join(', ');

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

/** Runs `work` over `items`, `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

function user(login: string, uid: number, role: string): User {
  return { empId: `E${uid}`, login, uid, name: `Bench ${login}`, roles: [{ role }], sshKeys: [randomEd25519Key(`${login}@laptop`)], shell: '/bin/bash', state: 'present', adopt: false };
}

/** A desired state: hostgroups by name → their selector, each role on one hostgroup, and the users. */
function desiredState(revision: string, hostgroups: DesiredState['fleet']['hostgroups'], users: readonly User[]): DesiredState {
  const roles = new Map<string, Role>(Object.keys(hostgroups).map((name) => [name, { name, hostgroups: [name], groups: [], sudo: [] }]));
  return {
    fleet: { region: 'cn-hangzhou', hostgroups, policy: { uidRange: [20000, 59999], offboard: 'lock', maxDeletions: 10, drift: 'correct', interval: '10m', timezone: 'UTC', privilegedGroups: [], remindBefore: 7 } },
    roles, users, approvals: { flows: [], channels: {} }, revision,
  };
}

/** Instances with none of rollcall's accounts: what the planner sees before the first apply. */
function emptyObserved(ids: readonly string[]): ObservedState {
  return { instances: Object.fromEntries(ids.map((id) => [id, { tags: TAGS, users: [], groups: [], sudoers: {} }])) };
}

/** One new user on every instance: the same one (`same`), or one of its own each (`distinct`). */
function newUserPlan(ids: readonly string[], round: number, shape: 'same' | 'distinct'): Plan {
  const desired =
    shape === 'same'
      ? desiredState(`bench-${round}`, { bench: { tags: TAGS } }, [user(`b${round}`, 20000 + round, 'bench')])
      : desiredState(
          `bench-${round}`,
          Object.fromEntries(ids.map((id, n) => [`h${n}`, { instanceIds: [id] }])),
          ids.map((_, n) => user(`b${round}x${n}`, 30000 + round * 1000 + n, `h${n}`)),
        );
  const result = plan(desired, emptyObserved(ids), desired.fleet.policy, TODAY);
  if (result.errors.length > 0) throw new Error(`the bench's plan has errors: ${result.errors[0]!.message}`);
  return result;
}

/**
 * The no-op agent: an empty inventory page, and for apply one `changed` line per operation and the
 * summary, as the real agent prints them, after `delay()` ms.
 */
function noopAgent(delay: () => number): VirtualRunner {
  return async (_instance, _script, parameters, { signal }) => {
    const ms = delay();
    if (ms > 0) await sleep(ms, undefined, { signal }).catch(() => {});
    if (parameters.mode === 'inventory') return { exitCode: 0, stdout: '{"users":[],"groups":[],"sudoers":{}}\n' };
    const [header, ...ops] = gunzipSync(Buffer.from(parameters.ops ?? '', 'base64')).toString('utf8').trimEnd().split('\n');
    const results = ops.map((op) => {
      const [verb, name] = op.split('\t');
      return JSON.stringify({ op: verb, kind: verb === 'group' || verb === 'user' ? verb : 'unknown', name, status: 'changed' });
    });
    const summary = JSON.stringify({ summary: { changed: ops.length, unchanged: 0, failed: 0 }, generation: Number(header!.split('\t')[2]) });
    return { exitCode: 0, stdout: `${[...results, summary].join('\n')}\n` };
  };
}

function executorFor(emulator: EcsEmulator, concurrency?: number): CloudAssistantExecutor {
  return new CloudAssistantExecutor({ client: clientFor(emulator), regionId: emulator.regionId, ...(concurrency ? { concurrency } : {}) });
}

function clientFor(emulator: EcsEmulator): EcsClient {
  return createEcsClient({ regionId: emulator.regionId, endpoint: emulator.endpoint }, { ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.accessKeySecret });
}

const FINAL = new Set(['Success', 'Failed', 'Error', 'Timeout', 'Cancelled', 'Terminated', 'Invalid', 'Aborted', 'Stopped']);

/**
 * The baseline of part 1: what a script that knows no better does. Per instance, RunCommand with
 * the stub and the same parameters, then DescribeInvocationResults every second (the first look
 * after one second) until the result is final.
 */
async function perInstanceLoop(emulator: EcsEmulator, ids: readonly string[], parameters: Record<string, string>): Promise<void> {
  const client = clientFor(emulator);
  const { regionId } = emulator;
  const content = Buffer.from(agentStub()).toString('base64');
  await pool(ids, LOOP_PARALLEL, async (id) => {
    const run = await client.runCommand(new Ecs.RunCommandRequest({ regionId, type: 'RunShellScript', commandContent: content, contentEncoding: 'Base64', enableParameter: true, instanceId: [id], parameters, timeout: 600 }));
    for (;;) {
      await sleep(LOOP_POLL_MS);
      const results = await client.describeInvocationResults(new Ecs.DescribeInvocationResultsRequest({ regionId, invokeId: run.body!.invokeId! }));
      const status = results.body?.invocation?.invocationResults?.invocationResult?.[0]?.invocationStatus;
      if (status === 'Success') return;
      if (status !== undefined && FINAL.has(status)) throw new Error(`the loop's run on ${id} ended ${status}`);
    }
  });
}

async function apiCalls(): Promise<void> {
  const ids = Array.from({ length: VIRTUAL }, (_, n) => `i-virt${String(n + 1).padStart(5, '0')}`);
  let agentMs = 0;
  // Every instance runs its own agent at once, as on the cloud: no bound on runs at once.
  const emulator = await startEcsEmulator({ virtualInstances: ids.map((id) => ({ id, tags: TAGS })), runner: noopAgent(() => agentMs), concurrency: VIRTUAL, installAgent: false });
  try {
    const floorInvokes = Math.ceil(VIRTUAL / PER_INVOCATION);
    const floorPages = Math.ceil(VIRTUAL / PER_RESULT_PAGE);
    const floor = floorInvokes + floorPages;
    // Discovery: the DescribeInstances pages (100 each) and the DescribeCloudAssistantStatus calls (100 ids each).
    const cycleFloor = 2 * floorInvokes + 2 * floor;
    console.log(`\n1. API calls for a change touching ${VIRTUAL} virtual instances (the no-op agent; counted by the emulator)`);
    console.log(`   floor of an apply: ⌈${VIRTUAL}/${PER_INVOCATION}⌉ = ${floorInvokes} InvokeCommand + ⌈${VIRTUAL}/${PER_RESULT_PAGE}⌉ = ${floorPages} DescribeInvocationResults pages = ${floor} calls`);
    console.log(`   floor of the whole cycle: discovery ${2 * floorInvokes} (DescribeInstances, DescribeCloudAssistantStatus) + inventory ${floor} + apply ${floor} = ${cycleFloor} calls`);
    for (const ms of AGENT_MS) {
      agentMs = ms;
      const executor = executorFor(emulator);
      emulator.calls.clear();
      const discovery = await timed(() => executor.instances({ bench: { tags: TAGS } }));
      const discoveryCalls = new Map(emulator.calls);
      if (discovery.value.instances.length !== VIRTUAL) throw new Error(`discovery found ${discovery.value.instances.length} instances`);
      emulator.calls.clear();
      const inventory = await timed(() => executor.inventory(discovery.value.instances));
      const inventoryCalls = new Map(emulator.calls);
      if (inventory.value.failures.length > 0) throw new Error(`inventory failed: ${inventory.value.failures[0]!.message}`);

      const change = newUserPlan(ids, ++generation, 'same');
      emulator.calls.clear();
      const apply = await timed(() => executor.apply(change, { generation }));
      const applyCalls = new Map(emulator.calls);
      const applied = apply.value.instances.filter((result) => result.status === 'applied').length;
      if (applied !== VIRTUAL) throw new Error(`applied on ${applied} of ${VIRTUAL} instances: ${apply.value.instances.find((result) => result.status !== 'applied')?.message}`);

      // The same operations, one instance at a time.
      const [ops] = chunkOperations(operationsFor(change.instances[ids[0]!]!), generation);
      emulator.calls.clear();
      const loop = await timed(() => perInstanceLoop(emulator, ids, agentParameters('apply', { ops: ops! })));
      const loopCalls = new Map(emulator.calls);

      console.log(`\n   agent run time ${ms} ms`);
      console.log(`   discovery (instances):   ${String(total(discoveryCalls)).padStart(5)} calls, ${fmt(discovery.ms)}  (${byAction(discoveryCalls)})`);
      console.log(`   inventory:               ${String(total(inventoryCalls)).padStart(5)} calls, ${fmt(inventory.ms)}  (${byAction(inventoryCalls)})`);
      console.log(`   apply:                   ${String(total(applyCalls)).padStart(5)} calls, ${fmt(apply.ms)}  (${byAction(applyCalls)})`);
      console.log(`   per-instance loop:       ${String(total(loopCalls)).padStart(5)} calls, ${fmt(loop.ms)}  (${byAction(loopCalls)}; ${LOOP_PARALLEL} instances at once)`);
      const cycle = total(discoveryCalls) + total(inventoryCalls) + total(applyCalls);
      console.log(`   apply / floor:           ${(total(applyCalls) / floor).toFixed(2)}x   (goal ≤ 1.3x)`);
      console.log(`   whole cycle / its floor: ${(cycle / cycleFloor).toFixed(2)}x   (${cycle} / ${cycleFloor})`);
      console.log(`   loop / apply:            ${(total(loopCalls) / total(applyCalls)).toFixed(1)}x   (goal ≥ 50x)`);
    }
  } finally {
    await emulator.close();
  }
}

async function wallTime(): Promise<void> {
  console.log(`\n2. Wall time of an apply on ${INSTANCES} sandbox instances (the real agent, one new user each)`);
  const memoryBefore = usedMemory();
  const fleet = await SandboxFleet.create();
  let emulator: EcsEmulator | undefined;
  try {
    const ids = Array.from({ length: INSTANCES }, (_, n) => `i-bench${String(n + 1).padStart(4, '0')}`);
    const created = await timed(async () => {
      for (let start = 0; start < ids.length; start += BATCH) await Promise.all(ids.slice(start, start + BATCH).map((id) => fleet.createInstance({ id, tags: TAGS })));
    });
    console.log(`   ${INSTANCES} instances created in ${fmt(created.ms)} (batches of ${BATCH}); machine memory in use ${mib(memoryBefore)} → ${mib(usedMemory())}, this process ${mib(process.memoryUsage().rss)}`);

    // The agent's own run times, as the sandbox measures them (spawn to exit, inside the instance):
    // the emulator runs each instance's script through fleet.runScript, and nothing else with it.
    const runs: number[] = [];
    const runScript = fleet.runScript.bind(fleet);
    fleet.runScript = async (...args: Parameters<SandboxFleet['runScript']>): Promise<RunResult> => {
      const result = await runScript(...args);
      runs.push(result.durationMs);
      return result;
    };

    const rows: string[] = [];
    for (const [index, concurrency] of CONCURRENCY.entries()) {
      // The emulator's bound on runs at once is the machine's (the instances share 2 cores); the
      // executor's concurrency is set alike, so that either shape can keep that many runs going.
      emulator = await startEcsEmulator({ fleet, concurrency, installAgent: index === 0 });
      const executor = executorFor(emulator, concurrency);
      for (const shape of ['same', 'distinct'] as const) {
        const change = newUserPlan(ids, ++generation, shape);
        runs.length = 0;
        emulator.calls.clear();
        const apply = await timed(() => executor.apply(change, { generation }));
        const applied = apply.value.instances.filter((result) => result.status === 'applied').length;
        if (applied !== INSTANCES) throw new Error(`applied on ${applied} of ${INSTANCES} instances: ${apply.value.instances.find((result) => result.status !== 'applied')?.message}`);
        const sum = runs.reduce((a, b) => a + b, 0);
        const floor = sum / concurrency;
        // One InvokeCommand per 100 instances sharing operations, and one results page per 50.
        const callFloor = shape === 'same' ? Math.ceil(INSTANCES / PER_INVOCATION) + Math.ceil(INSTANCES / PER_RESULT_PAGE) : 2 * INSTANCES;
        const calls = total(emulator.calls);
        rows.push(
          `   ${shape.padEnd(8)} ${String(concurrency).padStart(11)}  ${fmt(apply.ms).padStart(8)}  ${String(runs.length).padStart(4)}  ${fmt(sum).padStart(8)}  ${fmt(floor).padStart(8)}  ${(apply.ms / floor).toFixed(2).padStart(9)}x  ${String(calls).padStart(9)} / ${callFloor} = ${(calls / callFloor).toFixed(2)}x`,
        );
        console.log(rows.at(-1));
      }
      await emulator.close();
      emulator = undefined;
    }
    console.log(`\n   shape    concurrency      wall  runs   Σ runs     floor   wall/floor  API calls / floor`);
    for (const row of rows) console.log(row);
    console.log(`   memory in use at the end: ${mib(usedMemory())}; this process ${mib(process.memoryUsage().rss)}`);
  } finally {
    await emulator?.close();
    await fleet.destroyAll();
  }
}

if (values.only === undefined || values.only === 'calls') await apiCalls();
if (values.only === undefined || values.only === 'wall') await wallTime();
