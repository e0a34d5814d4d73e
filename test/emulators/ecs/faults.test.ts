import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcsEmulator, type EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import { Faults } from '../../../src/emulators/ecs/faults.js';
import { clientFor, ecs, expectCode, invocationResults, sandboxKernelLacks, waitForInvocationStatus, waitForResults, type EcsClient } from './ecs-test-client.js';

const kernelLacks = await sandboxKernelLacks();

describe('Faults', () => {
  it('throttles the same calls for the same seed, each action at its own rate', () => {
    const decisions = (seed: number) => {
      const faults = new Faults(seed);
      faults.setThrottle('*', 0.5);
      faults.setThrottle('DescribeInstances', 1);
      return Array.from({ length: 40 }, (_, n) => faults.shouldThrottle(n % 4 === 0 ? 'DescribeInstances' : 'RunCommand'));
    };
    expect(decisions(7)).toEqual(decisions(7));
    expect(decisions(7)).not.toEqual(decisions(8));
    expect(decisions(7).filter((_, n) => n % 4 === 0).every(Boolean)).toBe(true);
    const share = decisions(7).filter((throttled, n) => n % 4 !== 0 && throttled).length / 30;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.8);
  });

  it('refuses rates outside 0..1 and negative latencies', () => {
    const faults = new Faults(1);
    expect(() => faults.setThrottle('RunCommand', 1.5)).toThrow(RangeError);
    expect(() => faults.setLatency('RunCommand', -1)).toThrow(RangeError);
  });
});

describe.skipIf(kernelLacks)('ECS emulator: injected faults', () => {
  let emulator: EcsEmulator;
  let client: EcsClient;
  let regionId: string;
  const ids = ['i-fault1', 'i-fault2', 'i-fault3'];

  beforeAll(async () => {
    // 20 ms per API second: Timeout 10 lasts 200 ms, the 60 s delivery deadline 1.2 s.
    emulator = await startEcsEmulator({ instances: ids.map((id) => ({ id })), installAgent: false, secondMs: 20, seed: 42 });
    client = clientFor(emulator);
    regionId = emulator.regionId;
  });
  afterAll(async () => emulator?.close());

  const run = (commandContent: string, timeout = 60) => client.runCommand(new ecs.RunCommandRequest({ regionId, type: 'RunShellScript', commandContent, timeout, instanceId: ids }));

  it('throttling at rate 1 fails calls with Throttling.User through the SDK; other actions pass', async () => {
    emulator.faults.setThrottle('DescribeInstances', 1);
    try {
      const error = await expectCode(client.describeInstances(new ecs.DescribeInstancesRequest({ regionId })), 'Throttling.User');
      expect(error.statusCode).toBe(400);
      expect(error.message).toContain('Request was denied due to user flow control.');
      expect((await client.describeCloudAssistantStatus(new ecs.DescribeCloudAssistantStatusRequest({ regionId }))).statusCode).toBe(200);
    } finally {
      emulator.faults.reset();
    }
    expect((await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId }))).statusCode).toBe(200);
  });

  it('delays calls by the configured latency', async () => {
    emulator.faults.setLatency('DescribeInstances', 300);
    try {
      const started = Date.now();
      await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    } finally {
      emulator.faults.reset();
    }
  });

  it('an offline agent fails its runs with ClientNotRunning; the others succeed (PartialFailed)', async () => {
    emulator.faults.offline.add('i-fault2');
    try {
      const response = await run('echo fine');
      const results = await waitForResults(client, regionId, response.body!.invokeId!, 3);
      expect(results.map((result) => [result.instanceId, result.invocationStatus, result.errorCode])).toEqual([
        ['i-fault1', 'Success', ''],
        ['i-fault2', 'Failed', 'ClientNotRunning'],
        ['i-fault3', 'Success', ''],
      ]);
      expect(results[1]!.invokeRecordStatus).toBe('Failed');
      expect(results[1]!.exitCode).toBeUndefined();
      await waitForInvocationStatus(client, regionId, response.body!.invokeId!, 'PartialFailed');
    } finally {
      emulator.faults.reset();
    }
  });

  it('an instance never reached ends Aborted with DeliveryTimeout after the delivery deadline', async () => {
    emulator.faults.aborted.add('i-fault3');
    try {
      const response = await run('true');
      const results = await waitForResults(client, regionId, response.body!.invokeId!, 3);
      expect(results[2]).toMatchObject({ invocationStatus: 'Aborted', errorCode: 'DeliveryTimeout', invokeRecordStatus: 'Failed' });
      expect(results[0]!.invocationStatus).toBe('Success');
    } finally {
      emulator.faults.reset();
    }
  });

  it('a hanging instance runs into its Timeout (ExecutionTimeout) while the others finish', async () => {
    emulator.faults.hang.add('i-fault1');
    try {
      const response = await run('echo quick', 10);
      const results = await waitForResults(client, regionId, response.body!.invokeId!, 3);
      expect(results.map((result) => result.invocationStatus)).toEqual(['Timeout', 'Success', 'Success']);
      expect(results[0]!.errorCode).toBe('ExecutionTimeout');
    } finally {
      emulator.faults.reset();
    }
  });

  it('a lost result: the run happens, but its result never shows (absent from the results, Running in the invocation)', async () => {
    emulator.faults.lostResult.add('i-fault2');
    let invokeId: string;
    try {
      invokeId = (await run('touch /root/lost-result-ran; echo done')).body!.invokeId!;
    } finally {
      emulator.faults.reset();
    }
    const results = await waitForResults(client, regionId, invokeId, 2);
    expect(results.map((result) => result.instanceId)).toEqual(['i-fault1', 'i-fault3']);
    await waitUntil(async () => (await emulator.fleet.exec('i-fault2', ['test', '-e', '/root/lost-result-ran'])).exitCode === 0);
    // Give the lost run time to finish for real; the API still says Running.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const invocation = await waitForInvocationStatus(client, regionId, invokeId, 'Running');
    expect(invocation.invokeInstances?.invokeInstance?.map((instance) => instance.invocationStatus)).toEqual(['Success', 'Running', 'Success']);
    expect(await invocationResults(client, regionId, invokeId)).toHaveLength(2);
  });
});

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
