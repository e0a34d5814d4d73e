import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcsEmulator, type EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import { CloudAssistant } from '../../../src/executors/cloud-assistant/cloud-assistant.js';
import { createEcsClient, type EcsClient } from '../../../src/executors/cloud-assistant/create-ecs-client.js';
import { sandboxSkipReason } from '../../integration/agent-harness.js';

const skip = await sandboxSkipReason();
const IDS = Array.from({ length: 150 }, (_, i) => `i-virt${String(i).padStart(4, '0')}`);

describe.skipIf(skip)('CloudAssistant invocations (the real SDK against the emulator, virtual instances)', () => {
  let ecs: EcsEmulator;
  let runs = 0;

  beforeAll(async () => {
    ecs = await startEcsEmulator({
      virtualInstances: IDS.map((id) => ({ id, tags: { app: 'web' } })),
      runner: async () => {
        runs++;
        return { exitCode: 0, stdout: 'ok\n' };
      },
    });
  });

  afterAll(async () => ecs?.close());

  /** The real client, except that the n-th InvokeCommand is refused (a DI fake around the SDK). */
  function refusingNthInvoke(n: number): EcsClient {
    const client = createEcsClient({ regionId: ecs.regionId, endpoint: ecs.endpoint }, { ALIBABA_CLOUD_ACCESS_KEY_ID: ecs.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: ecs.accessKeySecret });
    let calls = 0;
    return new Proxy(client, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'invokeCommand' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          if (++calls === n) throw Object.assign(new Error('Specified parameter is not valid.'), { code: 'InvalidParameter' });
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
  }

  it('splits at 100 instances, starts every invocation at once, and reads each result', async () => {
    runs = 0;
    const before = ecs.calls.get('InvokeCommand') ?? 0;
    const assistant = new CloudAssistant(refusingNthInvoke(0), { regionId: ecs.regionId });
    const results = await assistant.invoke({ commandId: ecs.agentCommandId!, instances: IDS, parameters: { mode: 'inventory', ops: '', page: '' }, timeoutSeconds: 60 });
    expect(results.map((run) => run.instance)).toEqual(IDS);
    expect(results.every((run) => run.status === 'Success' && run.output === 'ok\n')).toBe(true);
    expect((ecs.calls.get('InvokeCommand') ?? 0) - before).toBe(2);
    expect(runs).toBe(150);
  });

  it('when one invocation cannot be started, still reads the ones that were, and fails only its instances', async () => {
    runs = 0;
    const assistant = new CloudAssistant(refusingNthInvoke(2), { regionId: ecs.regionId });
    const results = await assistant.invoke({ commandId: ecs.agentCommandId!, instances: IDS, parameters: { mode: 'inventory', ops: '', page: '' }, timeoutSeconds: 60 });
    const notStarted = results.filter((run) => run.errorCode === 'NotStarted');
    expect(notStarted).toHaveLength(50);
    expect(notStarted[0]?.errorInfo).toContain('the invocation could not be started');
    expect(results.filter((run) => run.status === 'Success')).toHaveLength(100);
    expect(runs).toBe(100);
  });

  it('reads results as soon as a TaskCompleted event names the invocation, not at the next poll', async () => {
    let assistant: CloudAssistant | undefined;
    // EventBridge's HTTP target, reduced to what the daemon does with TaskCompleted.
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        const events = [JSON.parse(body) as { type: string; data: { invokeId: string } }].flat();
        for (const event of events) if (event.type === 'ecs:CloudAssistant:TaskCompleted') assistant?.invocationCompleted(event.data.invokeId);
        response.end('{}');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const eventful = await startEcsEmulator({
      virtualInstances: IDS.slice(0, 3).map((id) => ({ id, tags: { app: 'web' } })),
      runner: async () => ({ exitCode: 0, stdout: 'ok\n' }),
      eventsUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
    });
    try {
      const client = createEcsClient({ regionId: eventful.regionId, endpoint: eventful.endpoint }, { ALIBABA_CLOUD_ACCESS_KEY_ID: eventful.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: eventful.accessKeySecret });
      // A first poll 60 s away: only the event can end the wait within the test's time.
      assistant = new CloudAssistant(client, { regionId: eventful.regionId, firstPollMs: 60_000 });
      const began = Date.now();
      const results = await assistant.invoke({ commandId: eventful.agentCommandId!, instances: IDS.slice(0, 3), parameters: { mode: 'inventory', ops: '', page: '' }, timeoutSeconds: 60 });
      expect(results.every((run) => run.status === 'Success')).toBe(true);
      expect(Date.now() - began).toBeLessThan(10_000);
    } finally {
      await eventful.close();
      receiver.close();
    }
  }, 20_000);
});
