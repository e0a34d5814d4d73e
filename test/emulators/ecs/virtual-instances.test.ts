import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcsEmulator, type EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import { VirtualInstances, VirtualInstancesError, type VirtualRunner } from '../../../src/emulators/ecs/virtual-instances.js';
import { clientFor, decodeOutput, ecs, expectCode, sandboxKernelLacks, waitForResults, type EcsClient } from './ecs-test-client.js';

const kernelLacks = await sandboxKernelLacks();

describe('VirtualInstances', () => {
  const runner: VirtualRunner = async () => ({ exitCode: 0 });

  it('refuses a repeated or malformed id, and instances without a runner', () => {
    expect(() => new VirtualInstances([{ id: 'i-v1' }, { id: 'i-v1' }], runner)).toThrow('virtual instance i-v1 is listed twice');
    expect(() => new VirtualInstances([{ id: '../etc' }], runner)).toThrow(VirtualInstancesError);
    expect(() => new VirtualInstances([{ id: 'i-v1' }])).toThrow('virtual instances need a runner');
    expect(new VirtualInstances().list()).toEqual([]);
  });

  it('ends a run at its timeout or its stop, whatever the runner does later', async () => {
    const never: VirtualRunner = () => new Promise(() => {});
    const instances = new VirtualInstances([{ id: 'i-v1' }], never);
    const timedOut = await instances.run('i-v1', 'true', {}, { timeoutMs: 20, signal: new AbortController().signal });
    expect(timedOut).toMatchObject({ exitCode: null, timedOut: true });
    const stop = new AbortController();
    const stopped = instances.run('i-v1', 'true', {}, { timeoutMs: 60_000, signal: stop.signal });
    stop.abort();
    expect(await stopped).toMatchObject({ exitCode: null, timedOut: false });
  });
});

describe.skipIf(kernelLacks)('ECS emulator: virtual instances, through the SDK', () => {
  let emulator: EcsEmulator;
  let client: EcsClient;
  let regionId: string;
  const seen: { instanceId: string; script: string; parameters: Readonly<Record<string, string>> }[] = [];
  const virtual = ['i-virt1', 'i-virt2', 'i-virt3'];

  beforeAll(async () => {
    emulator = await startEcsEmulator({
      instances: [{ id: 'i-real1', tags: { app: 'web' } }],
      virtualInstances: virtual.map((id, n) => ({ id, tags: { app: n < 2 ? 'web' : 'db' } })),
      runner: async (instanceId, script, parameters, { signal }) => {
        seen.push({ instanceId, script, parameters });
        if (script.includes('forever')) await new Promise((resolve) => signal.addEventListener('abort', resolve));
        if (script.includes('crash')) throw new Error('the runner broke');
        return { exitCode: instanceId === 'i-virt2' ? 3 : 0, stdout: `hello ${parameters.who ?? ''} from ${instanceId}\n`, stderr: 'warn\n' };
      },
      installAgent: false,
      // 100 ms per API second: Timeout 10 is over in a second.
      secondMs: 100,
    });
    client = clientFor(emulator);
    regionId = emulator.regionId;
  });
  afterAll(async () => emulator?.close());

  it('serves virtual instances beside the sandbox ones: DescribeInstances by tag, DescribeCloudAssistantStatus', async () => {
    expect(emulator.instances).toEqual(['i-real1', ...virtual]);
    const web = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId, tag: [new ecs.DescribeInstancesRequestTag({ key: 'app', value: 'web' })] }));
    expect(web.body?.instances?.instance?.map((instance) => [instance.instanceId, instance.status, instance.tags?.tag?.[0]?.tagValue])).toEqual([
      ['i-real1', 'Running', 'web'],
      ['i-virt1', 'Running', 'web'],
      ['i-virt2', 'Running', 'web'],
    ]);
    const status = await client.describeCloudAssistantStatus(new ecs.DescribeCloudAssistantStatusRequest({ regionId, instanceId: ['i-virt3', 'i-nothere'] }));
    expect(status.body?.instanceCloudAssistantStatusSet?.instanceCloudAssistantStatus?.map((entry) => [entry.instanceId, entry.cloudAssistantStatus])).toEqual([['i-virt3', 'true']]);
  });

  it('hands a run to the runner with the script unsubstituted and the parameters; its exit code decides the status', async () => {
    seen.length = 0;
    const response = await client.runCommand(
      new ecs.RunCommandRequest({ regionId, type: 'RunShellScript', commandContent: 'echo hello {{who}}', enableParameter: true, parameters: { who: 'you' }, instanceId: ['i-real1', ...virtual] }),
    );
    const results = await waitForResults(client, regionId, response.body!.invokeId!, 4);
    expect(results.map((result) => [result.instanceId, result.invocationStatus, result.exitCode, result.errorCode])).toEqual([
      ['i-real1', 'Success', 0, ''],
      ['i-virt1', 'Success', 0, ''],
      ['i-virt2', 'Failed', 3, 'ExitCodeNonzero'],
      ['i-virt3', 'Success', 0, ''],
    ]);
    expect(decodeOutput(results[0]!.output)).toBe('hello you\n');
    expect(decodeOutput(results[1]!.output)).toBe('hello you from i-virt1\nwarn\n');
    expect(seen.sort((a, b) => a.instanceId.localeCompare(b.instanceId))).toEqual(virtual.map((instanceId) => ({ instanceId, script: 'echo hello {{who}}', parameters: { who: 'you' } })));
  });

  it('runs the preloaded agent command on virtual instances with its parameters', async () => {
    seen.length = 0;
    const response = await client.invokeCommand(
      new ecs.InvokeCommandRequest({ regionId, commandId: emulator.agentCommandId, instanceId: ['i-virt1'], parameters: { mode: 'inventory', ops: '', page: '' } }),
    );
    await waitForResults(client, regionId, response.body!.invokeId!, 1);
    expect(seen).toEqual([{ instanceId: 'i-virt1', script: expect.stringContaining("'{{mode}}' '{{ops}}' '{{page}}'"), parameters: { mode: 'inventory', ops: '', page: '' } }]);
  });

  it('a run past its Timeout ends Timeout, a stopped one Terminated, a runner that throws Error; a hanging instance never reaches the runner', async () => {
    const forever = await client.runCommand(new ecs.RunCommandRequest({ regionId, type: 'RunShellScript', commandContent: 'forever', timeout: 10, instanceId: ['i-virt1', 'i-virt3'] }));
    const stopped = forever.body!.invokeId!;
    await client.stopInvocation(new ecs.StopInvocationRequest({ regionId, invokeId: stopped, instanceId: ['i-virt3'] }));
    const results = await waitForResults(client, regionId, stopped, 2);
    expect(results.map((result) => [result.instanceId, result.invocationStatus, result.errorCode])).toEqual([
      ['i-virt1', 'Timeout', 'ExecutionTimeout'],
      ['i-virt3', 'Terminated', ''],
    ]);
    const crash = await client.runCommand(new ecs.RunCommandRequest({ regionId, type: 'RunShellScript', commandContent: 'crash', instanceId: ['i-virt1'] }));
    expect((await waitForResults(client, regionId, crash.body!.invokeId!, 1))[0]).toMatchObject({ invocationStatus: 'Error', errorCode: 'ExecutionException' });

    seen.length = 0;
    emulator.faults.hang.add('i-virt3');
    try {
      const hung = await client.runCommand(new ecs.RunCommandRequest({ regionId, type: 'RunShellScript', commandContent: 'echo quick', timeout: 10, instanceId: ['i-virt3'] }));
      expect((await waitForResults(client, regionId, hung.body!.invokeId!, 1))[0]).toMatchObject({ invocationStatus: 'Timeout', errorCode: 'ExecutionTimeout' });
      expect(seen).toEqual([]);
    } finally {
      emulator.faults.reset();
    }
  });

  it('a file sent to a virtual instance is delivered (and written nowhere)', async () => {
    const response = await client.sendFile(new ecs.SendFileRequest({ regionId, instanceId: ['i-virt2'], name: 'note.txt', targetDir: '/var/lib/note', content: 'hi' }));
    for (let attempt = 0; ; attempt++) {
      const sent = await client.describeSendFileResults(new ecs.DescribeSendFileResultsRequest({ regionId, invokeId: response.body!.invokeId! }));
      const status = sent.body?.invocations?.invocation?.[0]?.invokeInstances?.invokeInstance?.[0]?.invocationStatus;
      if (status === 'Success') break;
      expect(attempt).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('counts the requests per action, throttled ones too', async () => {
    emulator.calls.clear();
    await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId }));
    await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId }));
    emulator.faults.setThrottle('DescribeCloudAssistantStatus', 1);
    try {
      await expectCode(client.describeCloudAssistantStatus(new ecs.DescribeCloudAssistantStatusRequest({ regionId })), 'Throttling.User');
    } finally {
      emulator.faults.reset();
    }
    await client.runCommand(new ecs.RunCommandRequest({ regionId, type: 'RunShellScript', commandContent: 'true', instanceId: ['i-virt1'] }));
    expect(Object.fromEntries(emulator.calls)).toEqual({ DescribeInstances: 2, DescribeCloudAssistantStatus: 1, RunCommand: 1 });
  });

  it('refuses a virtual instance with the id of a sandbox instance, and leaves no fleet behind', async () => {
    await expect(startEcsEmulator({ fleet: emulator.fleet, installAgent: false, virtualInstances: [{ id: 'i-real1' }], runner: async () => ({ exitCode: 0 }) })).rejects.toThrow(
      'virtual instance i-real1 has the id of a sandbox instance of the fleet',
    );
    expect(emulator.fleet.list().map((instance) => instance.id)).toEqual(['i-real1']);
  });
});
