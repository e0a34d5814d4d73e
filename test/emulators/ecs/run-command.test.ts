import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcsEmulator, type EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import {
  clientFor,
  decodeOutput,
  ecs,
  expectCode,
  invocationResults,
  sandboxKernelLacks,
  waitForInvocationStatus,
  waitForResults,
  type EcsClient,
} from './ecs-test-client.js';

const kernelLacks = await sandboxKernelLacks();

describe.skipIf(kernelLacks)('ECS emulator: RunCommand and invocations', () => {
  let emulator: EcsEmulator;
  let client: EcsClient;
  let regionId: string;
  let ids: string[];

  beforeAll(async () => {
    // 100 ms per API second: Timeout 10 (the smallest the API takes) is over in one real second.
    emulator = await startEcsEmulator({ instances: [{ id: 'i-run1' }, { id: 'i-run2' }, { id: 'i-run3' }], installAgent: false, secondMs: 100 });
    client = clientFor(emulator);
    regionId = emulator.regionId;
    ids = emulator.instances;
  });
  afterAll(async () => emulator?.close());

  function run(request: Partial<ecs.RunCommandRequest>) {
    return client.runCommand(new ecs.RunCommandRequest({ regionId, type: 'RunShellScript', instanceId: ids, ...request }));
  }

  async function runToEnd(request: Partial<ecs.RunCommandRequest>) {
    const response = await run(request);
    const invokeId = response.body!.invokeId!;
    const count = (request.instanceId ?? ids).length;
    return { invokeId, commandId: response.body!.commandId!, results: await waitForResults(client, regionId, invokeId, count) };
  }

  it('runs a plain-text script with parameters and built-ins on every instance; Output comes base64-encoded', async () => {
    const { invokeId, commandId, results } = await runToEnd({
      commandContent: 'echo "hello {{Who}} on {{ACS::InstanceId}} in {{ACS::RegionId}}"; echo {{acs::invokeid}} {{ACS::CommandId}}',
      enableParameter: true,
      parameters: { who: 'world' },
    });
    expect(results.map((result) => result.instanceId)).toEqual(ids);
    for (const result of results) {
      expect(result).toMatchObject({ invocationStatus: 'Success', invokeRecordStatus: 'Finished', exitCode: 0, errorCode: '', dropped: 0, invokeId, commandId });
      expect(result.output).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(decodeOutput(result.output)).toBe(`hello world on ${result.instanceId} in ${regionId}\n${invokeId} ${commandId}\n`);
      expect(result.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(result.finishedTime).toMatch(/Z$/);
    }
    const plain = await client.describeInvocationResults(new ecs.DescribeInvocationResultsRequest({ regionId, invokeId, instanceId: ids[0], contentEncoding: 'PlainText' }));
    expect(plain.body?.invocation?.invocationResults?.invocationResult?.[0]?.output).toBe(`hello world on ${ids[0]} in ${regionId}\n${invokeId} ${commandId}\n`);
  });

  it('takes base64 content with ContentEncoding=Base64, and substitutes nothing without EnableParameter', async () => {
    const script = "printf '%s' '{{name}} {{ACS::InstanceId}}'";
    const { results } = await runToEnd({ commandContent: Buffer.from(script).toString('base64'), contentEncoding: 'Base64', instanceId: [ids[0]!] });
    expect(decodeOutput(results[0]!.output)).toBe('{{name}} {{ACS::InstanceId}}');
    await expectCode(run({ commandContent: 'echo {{name}}', parameters: { name: 'x' } }), 'Parameter.Disabled');
    await expectCode(run({ commandContent: 'not base64!', contentEncoding: 'Base64' }), 'CmdContent.DecodeError');
  });

  it('reports a non-zero exit as Failed with ExitCodeNonzero, and the invocation as PartialFailed', async () => {
    const { invokeId, results } = await runToEnd({ commandContent: `[ "{{ACS::InstanceId}}" = ${ids[0]} ] || { echo oops >&2; exit 3; }`, enableParameter: true });
    expect(results[0]).toMatchObject({ invocationStatus: 'Success', exitCode: 0 });
    expect(results[1]).toMatchObject({ invocationStatus: 'Failed', invokeRecordStatus: 'Finished', exitCode: 3, errorCode: 'ExitCodeNonzero' });
    expect(decodeOutput(results[1]!.output)).toBe('oops\n');
    const invocation = await waitForInvocationStatus(client, regionId, invokeId, 'PartialFailed');
    expect(invocation.invokeStatus).toBe('PartialFailed');
    expect(invocation.invokeInstances?.invokeInstance?.map((instance) => instance.invocationStatus)).toEqual(['Success', 'Failed', 'Failed']);
  });

  it('refuses a script over 24 KB base64-encoded (alone or with its parameters) with CmdContent.ExceedLimit', async () => {
    // 18,432 bytes encode to exactly 24,576: the largest script allowed.
    const largest = `#${'x'.repeat(18_430)}\n`;
    expect((await run({ commandContent: largest, instanceId: [ids[0]!] })).body?.invokeId).toMatch(/^t-/);
    const error = await expectCode(run({ commandContent: `${largest}###` }), 'CmdContent.ExceedLimit');
    expect(error.statusCode).toBe(403);
    const withParameters = `echo {{v}}\n#${'x'.repeat(18_000)}`;
    await expectCode(run({ commandContent: withParameters, enableParameter: true, parameters: { v: 'y'.repeat(600) } }), 'CmdContent.ExceedLimit');
  });

  it('refuses more than 100 instance ids, unknown instances, and no instance at all', async () => {
    const many = Array.from({ length: 101 }, (_, n) => `i-many${n}`);
    const error = await expectCode(run({ commandContent: 'true', instanceId: many }), 'InstanceIds.ExceedLimit');
    expect(error.statusCode).toBe(403);
    await expectCode(run({ commandContent: 'true', instanceId: [ids[0]!, 'i-nothere'] }), 'InvalidInstance.NotFound');
    await expectCode(run({ commandContent: 'true', instanceId: [] }), 'MissingParam.InstanceId');
  });

  it('enforces the parameter rules: ≤ 10 keys, names ≤ 64 bytes, no case duplicates, exactly the placeholders, ≤ 20 placeholders', async () => {
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, n) => [`p${n}`, 'v']));
    const script11 = Object.keys(eleven).map((name) => `{{${name}}}`).join(' ');
    await expectCode(run({ commandContent: `echo ${script11}`, enableParameter: true, parameters: eleven }), 'ParameterCount.ExceedLimit');
    const long = 'n'.repeat(65);
    await expectCode(run({ commandContent: `echo {{${long}}}`, enableParameter: true, parameters: { [long]: 'v' } }), 'CmdParamName.ExceedLimit');
    await expectCode(run({ commandContent: 'echo {{a}}', enableParameter: true, parameters: { a: '1', A: '2' } }), 'ParameterKey.Duplicate');
    await expectCode(run({ commandContent: 'echo {{a}}', enableParameter: true, parameters: { a: '1', b: '2' } }), 'Parameter.NotMatched');
    await expectCode(run({ commandContent: 'echo {{a}} {{b}}', enableParameter: true, parameters: { a: '1' } }), 'Parameter.MissingValue');
    await expectCode(run({ commandContent: 'echo {{a.b}} {{a}}', enableParameter: true, parameters: { 'a.b': '1', a: '2' } }), 'InvalidParameter.Parameters');
    const twentyOne = Array.from({ length: 21 }, (_, n) => `{{q${n}}}`).join(' ');
    await expectCode(run({ commandContent: `echo ${twentyOne}`, enableParameter: true }), 'CmdParamCount.ExceedLimit');
    await expectCode(run({ commandContent: 'echo {{ACS::Nope}}', enableParameter: true }), 'CmdParam.InvalidParamName');
  });

  it('keeps 24 KB of output and counts the rest in Dropped', async () => {
    const { results } = await runToEnd({ commandContent: "head -c 30000 /dev/zero | tr '\\0' a", instanceId: [ids[0]!] });
    const output = Buffer.from(results[0]!.output!, 'base64');
    expect(output.length).toBe(24 * 1024);
    expect(output.every((byte) => byte === 0x61)).toBe(true);
    expect(results[0]!.dropped).toBe(30_000 - 24 * 1024);
  });

  it('runs a request once per ClientToken: the same token returns the same ids; other parameters with it are refused', async () => {
    const request = { commandContent: 'echo ran >> /root/client-token-runs', instanceId: [ids[1]!], clientToken: 'token-123e4567-e89b' };
    const first = await run(request);
    const second = await run(request);
    expect(second.body?.invokeId).toBe(first.body?.invokeId);
    expect(second.body?.commandId).toBe(first.body?.commandId);
    await waitForResults(client, regionId, first.body!.invokeId!, 1);
    const runs = await emulator.fleet.exec(ids[1]!, ['cat', '/root/client-token-runs']);
    expect(runs.stdout.toString()).toBe('ran\n');
    await expectCode(run({ ...request, commandContent: 'echo other' }), 'IdempotentParameterMismatch');
  });

  it('ends a run that outlives its Timeout as Timeout with ExecutionTimeout, and kills it', async () => {
    const started = Date.now();
    const { invokeId, results } = await runToEnd({ commandContent: 'echo before; sleep 30; echo after', timeout: 10, instanceId: [ids[2]!] });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(results[0]).toMatchObject({ invocationStatus: 'Timeout', invokeRecordStatus: 'Failed', errorCode: 'ExecutionTimeout' });
    expect(results[0]!.exitCode).toBeUndefined();
    expect(decodeOutput(results[0]!.output)).toBe('before\n');
    await waitForInvocationStatus(client, regionId, invokeId, 'Failed');
    // (PID 1 of an instance keeps a `sleep infinity` of its own.)
    const left = await emulator.fleet.exec(ids[2]!, ['sh', '-c', "pgrep -fx 'sleep 30' || true"]);
    expect(left.stdout.toString()).toBe('');
  });

  it('StopInvocation terminates running instances (killing their processes) and the invocation is Stopped', async () => {
    const response = await run({ commandContent: 'echo started; sleep 300', timeout: 600 });
    const invokeId = response.body!.invokeId!;
    await waitForInvocationStatus(client, regionId, invokeId, 'Running');
    await waitUntil(async () => (await invocationResults(client, regionId, invokeId)).every((result) => result.invocationStatus === 'Running'));
    await client.stopInvocation(new ecs.StopInvocationRequest({ regionId, invokeId }));
    const invocation = await waitForInvocationStatus(client, regionId, invokeId, 'Stopped');
    expect(invocation.invokeStatus).toBe('Stopped');
    const results = await invocationResults(client, regionId, invokeId);
    for (const result of results) {
      expect(result).toMatchObject({ invocationStatus: 'Terminated', invokeRecordStatus: 'Stopped' });
      expect(result.stopTime).toMatch(/Z$/);
      expect(decodeOutput(result.output)).toBe('started\n');
    }
    // The kill is sent as the status turns Terminated; on a loaded machine the process may take a moment to go.
    for (const id of ids) await waitUntil(async () => (await emulator.fleet.exec(id, ['sh', '-c', "pgrep -fx 'sleep 300' || true"])).stdout.toString() === '');
    await expectCode(client.stopInvocation(new ecs.StopInvocationRequest({ regionId, invokeId: 't-doesnotexist' })), 'InvalidInvokeId.NotFound');
  });

  it('runs a bounded number at once: the rest wait Pending, and StopInvocation cancels them', async () => {
    // A second endpoint over the same instances, with one run at a time.
    const narrow = await startEcsEmulator({ fleet: emulator.fleet, concurrency: 1, installAgent: false, preloadAgentCommand: false });
    try {
      const narrowClient = clientFor(narrow);
      const response = await narrowClient.runCommand(new ecs.RunCommandRequest({ regionId, type: 'RunShellScript', commandContent: 'sleep 200', timeout: 600, instanceId: ids }));
      const invokeId = response.body!.invokeId!;
      await waitForInvocationStatus(narrowClient, regionId, invokeId, 'Running');
      expect((await invocationResults(narrowClient, regionId, invokeId)).map((result) => result.invocationStatus)).toEqual(['Running', 'Pending', 'Pending']);
      await narrowClient.stopInvocation(new ecs.StopInvocationRequest({ regionId, invokeId }));
      await waitForInvocationStatus(narrowClient, regionId, invokeId, 'Stopped');
      expect((await invocationResults(narrowClient, regionId, invokeId)).map((result) => result.invocationStatus)).toEqual(['Terminated', 'Cancelled', 'Cancelled']);
    } finally {
      await narrow.close();
    }
    expect(emulator.fleet.list()).toHaveLength(3);
  });

  it('runs in WorkingDir, and fails with DirectoryNotExists when it is missing', async () => {
    const { results } = await runToEnd({ commandContent: 'pwd', workingDir: '/etc', instanceId: [ids[0]!] });
    expect(decodeOutput(results[0]!.output)).toBe('/etc\n');
    const missing = await runToEnd({ commandContent: 'pwd', workingDir: '/nonexistent', instanceId: [ids[0]!] });
    expect(missing.results[0]).toMatchObject({ invocationStatus: 'Failed', errorCode: 'DirectoryNotExists' });
  });

  it('keeps the command with KeepCommand=true, so DescribeCommands lists it', async () => {
    const { commandId } = await runToEnd({ commandContent: 'true', name: 'kept-command', keepCommand: true, instanceId: [ids[0]!] });
    const response = await client.describeCommands(new ecs.DescribeCommandsRequest({ regionId, commandId }));
    expect(response.body?.commands?.command?.[0]).toMatchObject({ name: 'kept-command', invokeTimes: 1, commandContent: Buffer.from('true').toString('base64') });
    const notKept = await runToEnd({ commandContent: 'true', instanceId: [ids[0]!] });
    expect((await client.describeCommands(new ecs.DescribeCommandsRequest({ regionId, commandId: notKept.commandId }))).body?.commands?.command).toEqual([]);
  });
});

/** Polls `check` every 50 ms for up to 10 s. */
async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
