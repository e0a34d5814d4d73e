import { gunzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEcsEmulator, type EcsEmulator } from '../../src/emulators/ecs/ecs-emulator.js';
import type { VirtualRunner } from '../../src/emulators/ecs/virtual-instances.js';
import { CloudAssistantExecutor } from '../../src/executors/cloud-assistant/cloud-assistant-executor.js';
import { createEcsClient } from '../../src/executors/cloud-assistant/create-ecs-client.js';
import type { ApplyJournal } from '../../src/executors/types.js';
import type { Plan, PlanEntry } from '../../src/plan/types.js';
import { sandboxSkipReason } from '../integration/agent-harness.js';

const skip = await sandboxSkipReason();
const WEB1 = 'i-virtweb0001';
const WEB2 = 'i-virtweb0002';
const DB1 = 'i-virtdb00001';
const GENERATION = 1_772_352_000;

/** A run the test holds until it lets it go. */
interface Gate {
  instance: string;
  release(): void;
}

/**
 * The agent's apply on a virtual instance: one `changed` line per operation it was given and the
 * summary line, as rollcall-agent.sh prints them. A run on an instance in `holding` waits for the test.
 */
function agentRunner(state: { runs: number; holding: Set<string>; held: Gate[] }): VirtualRunner {
  return async (instance, _script, parameters, { signal }) => {
    state.runs++;
    if (state.holding.has(instance)) {
      await new Promise<void>((resolve) => {
        state.held.push({ instance, release: resolve });
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    // Long enough that Cloud Assistant's start and finish times differ.
    await sleep(20);
    if (parameters.mode !== 'apply') return { exitCode: 0, stdout: '{"users":[],"groups":[],"sudoers":{}}\n' };
    const [header = '', ...ops] = gunzipSync(Buffer.from(parameters.ops ?? '', 'base64')).toString('utf8').trimEnd().split('\n');
    const lines = ops.map((op) => {
      const [verb = '', name = ''] = op.split('\t');
      const kind = verb.startsWith('group') ? 'group' : verb.startsWith('user') ? 'user' : verb.startsWith('sudoers') ? 'sudoers' : 'unknown';
      return JSON.stringify({ op: verb, kind, name, status: 'changed' });
    });
    lines.push(JSON.stringify({ summary: { changed: ops.length, unchanged: 0, failed: 0 }, generation: Number(header.split('\t')[2]) }));
    return { exitCode: 0, stdout: `${lines.join('\n')}\n` };
  };
}

function group(name: string, gid: number): PlanEntry {
  return { action: 'create', kind: 'group', name, after: { gid } };
}

/** Two batches: the web instances share their operations (one invocation), the db one has its own. */
function twoBatchPlan(revision = 'a'.repeat(40)): Plan {
  return {
    revision,
    summary: { create: 3, update: 0, lock: 0, delete: 0 },
    instances: { [WEB1]: [group('webdev', 3004)], [WEB2]: [group('webdev', 3004)], [DB1]: [group('dba', 3003)] },
    errors: [],
    warnings: [],
  };
}

type JournalEvent = { event: 'starting'; clientToken: string; chunk: string; instances: string[] } | { event: 'started'; clientToken: string; invokeId: string };

/** One invocation: the db instance alone. */
function oneInstancePlan(revision: string): Plan {
  return { revision, summary: { create: 1, update: 0, lock: 0, delete: 0 }, instances: { [DB1]: [group('dba', 3003)] }, errors: [], warnings: [] };
}

function recordingJournal(): ApplyJournal & { events: JournalEvent[] } {
  const events: JournalEvent[] = [];
  return {
    events,
    starting: ({ clientToken, chunk, instances }) => void events.push({ event: 'starting', clientToken, chunk, instances: [...instances] }),
    started: ({ clientToken, invokeId }) => void events.push({ event: 'started', clientToken, invokeId }),
  };
}

describe.skipIf(skip)('CloudAssistantExecutor: the apply journal, attempts and quiesce (virtual instances)', () => {
  let emulator: EcsEmulator;
  const state = { runs: 0, holding: new Set<string>(), held: [] as Gate[] };

  beforeAll(async () => {
    emulator = await startEcsEmulator({
      virtualInstances: [WEB1, WEB2, DB1].map((id) => ({ id, tags: { app: id.includes('web') ? 'web' : 'db' } })),
      runner: agentRunner(state),
      installAgent: false,
      concurrency: 8,
    });
  });

  afterAll(async () => emulator?.close());

  beforeEach(() => {
    state.holding.clear();
    for (const gate of state.held.splice(0)) gate.release();
  });

  /** A new executor, as a new rollcall process would make. */
  function executor(): CloudAssistantExecutor {
    const client = createEcsClient({ regionId: emulator.regionId, endpoint: emulator.endpoint }, { ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.accessKeySecret });
    return new CloudAssistantExecutor({ client, regionId: emulator.regionId, firstPollMs: 20, maxPollMs: 100 });
  }

  function invokeCount(): number {
    return emulator.calls.get('InvokeCommand') ?? 0;
  }

  it('journals each invocation before it starts and once it has an id, under one ClientToken', async () => {
    const journal = recordingJournal();
    const runsBefore = emulator.runs().length;
    const result = await executor().apply(twoBatchPlan(), { generation: GENERATION, attempt: 'journal-1', journal });

    const starting = journal.events.filter((event) => event.event === 'starting');
    const started = journal.events.filter((event) => event.event === 'started');
    expect(starting).toHaveLength(2);
    expect(started).toHaveLength(2);
    expect(new Set(starting.map((event) => event.clientToken)).size).toBe(2);
    for (const begin of starting) {
      const end = started.find((event) => event.clientToken === begin.clientToken);
      expect(end, `started for ${begin.clientToken}`).toBeDefined();
      expect(journal.events.indexOf(begin)).toBeLessThan(journal.events.indexOf(end!));
      expect(begin.chunk).toBe('1/1');
      expect(begin.clientToken.length).toBeLessThanOrEqual(64);
    }
    expect(starting.map((event) => event.instances).sort()).toEqual([[DB1], [WEB1, WEB2]]);

    // The InvokeIds journalled are the invocations that ran, one run per instance.
    const runs = emulator.runs().slice(runsBefore);
    expect(runs).toHaveLength(3);
    expect(new Set(runs.map((run) => run.invokeId))).toEqual(new Set(started.map((event) => (event.event === 'started' ? event.invokeId : ''))));
    expect(result.instances.map((instance) => [instance.instance, instance.status])).toEqual([
      [DB1, 'applied'],
      [WEB1, 'applied'],
      [WEB2, 'applied'],
    ]);
  });

  it('the same attempt twice starts no new invocation and reads the first runs; a new attempt runs again', async () => {
    const plan = twoBatchPlan('b'.repeat(40));
    const first = recordingJournal();
    const invokesBefore = invokeCount();
    const runsBefore = state.runs;
    await executor().apply(plan, { generation: GENERATION, attempt: 'repeat-1', journal: first });
    expect(invokeCount() - invokesBefore).toBe(2);
    expect(state.runs - runsBefore).toBe(3);

    // A restarted process resuming the attempt: same tokens, same InvokeIds, nothing run again.
    const resumed = recordingJournal();
    const again = await executor().apply(plan, { generation: GENERATION, attempt: 'repeat-1', journal: resumed });
    expect(state.runs - runsBefore).toBe(3);
    const ids = (journal: JournalEvent[]) => journal.flatMap((event) => (event.event === 'started' ? [`${event.clientToken}=${event.invokeId}`] : [])).sort();
    expect(ids(resumed.events)).toEqual(ids(first.events));
    expect(again.instances.every((instance) => instance.status === 'applied' && instance.exitCode === 0)).toBe(true);

    const retried = recordingJournal();
    await executor().apply(plan, { generation: GENERATION, attempt: 'repeat-2', journal: retried });
    expect(state.runs - runsBefore).toBe(6);
    const retriedTokens = retried.events.map((event) => event.clientToken);
    expect(retriedTokens.some((token) => first.events.some((event) => event.clientToken === token))).toBe(false);
  });

  it('counts InvokeCommand: the resumed attempt sends its requests again, and Cloud Assistant starts nothing new', async () => {
    const plan = twoBatchPlan('c'.repeat(40));
    await executor().apply(plan, { generation: GENERATION, attempt: 'count-1' });
    const invocationsBefore = new Set(emulator.runs().map((run) => run.invokeId)).size;
    const invokesBefore = invokeCount();
    await executor().apply(plan, { generation: GENERATION, attempt: 'count-1' });
    // Idempotent requests are still requests: the emulator counts what the cloud would bill.
    expect(invokeCount() - invokesBefore).toBe(2);
    expect(new Set(emulator.runs().map((run) => run.invokeId)).size).toBe(invocationsBefore);
  });

  it('fills exitCode and durationMs for each instance', async () => {
    const result = await executor().apply(twoBatchPlan('d'.repeat(40)), { generation: GENERATION, attempt: 'timing-1' });
    expect(result.instances).toHaveLength(3);
    for (const instance of result.instances) {
      expect(instance.exitCode).toBe(0);
      expect(instance.durationMs).toBeTypeOf('number');
      expect(instance.durationMs!).toBeGreaterThanOrEqual(0);
      expect(instance.results).toEqual([{ op: expect.stringMatching(/^group/), kind: 'group', name: instance.instance === DB1 ? 'dba' : 'webdev', status: 'changed' }]);
    }
  });

  it('quiesce() waits for a run an earlier process started and returns 1; 0 when none runs', async () => {
    expect(await executor().quiesce(10_000)).toBe(0);

    state.holding.add(DB1);
    const crashed = executor().apply(oneInstancePlan('e'.repeat(40)), { generation: GENERATION, attempt: 'quiesce-1' });
    for (let waited = 0; state.held.length === 0; waited += 10) {
      if (waited > 10_000) throw new Error('the held run never started');
      await sleep(10);
    }

    // A new process: it finds the run still going and waits for it to end.
    let done = false;
    const quiesced = executor()
      .quiesce(10_000)
      .then((count) => ((done = true), count));
    await sleep(300);
    expect(done).toBe(false);
    for (const gate of state.held.splice(0)) gate.release();
    expect(await quiesced).toBe(1);
    await crashed;
    expect(await executor().quiesce(10_000)).toBe(0);
  });

  it('quiesce() gives up after its timeout with a clear error', async () => {
    state.holding.add(DB1);
    const running = executor().apply(oneInstancePlan('f'.repeat(40)), { generation: GENERATION, attempt: 'quiesce-2' });
    for (let waited = 0; state.held.length === 0; waited += 10) {
      if (waited > 10_000) throw new Error('the held run never started');
      await sleep(10);
    }
    await expect(executor().quiesce(200)).rejects.toThrow(/earlier runs of the agent are still going after 0 s .*StopInvocation/);
    for (const gate of state.held.splice(0)) gate.release();
    await running;
  });
});
