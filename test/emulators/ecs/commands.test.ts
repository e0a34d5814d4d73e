import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_COMMAND_NAME, agentParameters, agentStub } from '../../../src/agent/agent-script.js';
import { parseInventoryPage } from '../../../src/agent/parse-agent-output.js';
import { startEcsEmulator, type EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import { clientFor, decodeOutput, ecs, expectCode, sandboxKernelLacks, waitForResults, type EcsClient } from './ecs-test-client.js';

const kernelLacks = await sandboxKernelLacks();

describe.skipIf(kernelLacks)('ECS emulator: commands and the preloaded rollcall agent', () => {
  let emulator: EcsEmulator;
  let client: EcsClient;
  let regionId: string;

  beforeAll(async () => {
    emulator = await startEcsEmulator({ instances: [{ id: 'i-agent1', tags: { app: 'web' } }, { id: 'i-agent2', tags: { app: 'db' } }] });
    client = clientFor(emulator);
    regionId = emulator.regionId;
    // Something for the inventory to find besides the host's own accounts.
    const added = await emulator.fleet.exec('i-agent1', ['useradd', '--uid', '20123', '--create-home', 'zhangsan']);
    expect(added.exitCode, added.stderr.toString()).toBe(0);
  });
  afterAll(async () => emulator?.close());

  it('has the rollcall-agent command registered: the agent stub, with parameters mode, ops and page', async () => {
    const response = await client.describeCommands(new ecs.DescribeCommandsRequest({ regionId, name: AGENT_COMMAND_NAME }));
    const commands = response.body?.commands?.command ?? [];
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({ commandId: emulator.agentCommandId, name: AGENT_COMMAND_NAME, type: 'RunShellScript', enableParameter: true });
    expect(Buffer.from(commands[0]!.commandContent!, 'base64').toString('utf8')).toBe(agentStub());
    expect(commands[0]!.parameterNames?.parameterName).toEqual(['mode', 'ops', 'page']);
  });

  it('InvokeCommand of rollcall-agent with mode=inventory returns the agent JSON of each instance', async () => {
    const response = await client.invokeCommand(
      new ecs.InvokeCommandRequest({ regionId, commandId: emulator.agentCommandId, instanceId: emulator.instances, parameters: agentParameters('inventory') }),
    );
    const results = await waitForResults(client, regionId, response.body!.invokeId!, 2);
    for (const result of results) {
      expect(result.invocationStatus, decodeOutput(result.output)).toBe('Success');
      const page = parseInventoryPage(result.instanceId!, decodeOutput(result.output));
      const logins = page.users.map((user) => user.login);
      expect(logins).toContain('root');
      if (result.instanceId === 'i-agent1') expect(page.users).toContainEqual(expect.objectContaining({ login: 'zhangsan', uid: 20123, managed: false }));
      else expect(logins).not.toContain('zhangsan');
    }
  });

  it('refuses an invocation of rollcall-agent that leaves a parameter without a value', async () => {
    await expectCode(
      client.invokeCommand(new ecs.InvokeCommandRequest({ regionId, commandId: emulator.agentCommandId, instanceId: emulator.instances, parameters: { mode: 'inventory' } })),
      'Parameter.MissingValue',
    );
  });

  it('creates a command (base64 content by default), invokes it once per ClientToken, and deletes it', async () => {
    const created = await client.createCommand(
      new ecs.CreateCommandRequest({ regionId, name: 'count-runs', type: 'RunShellScript', commandContent: Buffer.from('echo {{word}} >> /root/invoked; wc -l < /root/invoked').toString('base64'), enableParameter: true, timeout: 30 }),
    );
    const commandId = created.body!.commandId!;
    expect(commandId).toMatch(/^c-/);
    const invoke = () => client.invokeCommand(new ecs.InvokeCommandRequest({ regionId, commandId, instanceId: ['i-agent2'], parameters: { word: 'hi' }, clientToken: 'invoke-once' }));
    const first = await invoke();
    const second = await invoke();
    expect(second.body?.invokeId).toBe(first.body?.invokeId);
    const [result] = await waitForResults(client, regionId, first.body!.invokeId!, 1);
    expect(decodeOutput(result!.output)).toBe('1\n');
    const described = await client.describeCommands(new ecs.DescribeCommandsRequest({ regionId, commandId }));
    expect(described.body?.commands?.command?.[0]).toMatchObject({ invokeTimes: 1, timeout: 30, parameterNames: { parameterName: ['word'] } });

    await client.deleteCommand(new ecs.DeleteCommandRequest({ regionId, commandId }));
    await expectCode(client.invokeCommand(new ecs.InvokeCommandRequest({ regionId, commandId, instanceId: ['i-agent2'], parameters: { word: 'x' } })), 'InvalidCmdId.NotFound');
    await expectCode(client.deleteCommand(new ecs.DeleteCommandRequest({ regionId, commandId })), 'InvalidCmdId.NotFound');
  });

  it('refuses malformed commands with the documented codes', async () => {
    const create = (request: Partial<ecs.CreateCommandRequest>) =>
      client.createCommand(new ecs.CreateCommandRequest({ regionId, name: 'n', type: 'RunShellScript', commandContent: Buffer.from('true').toString('base64'), ...request }));
    await expectCode(create({ commandContent: 'echo plain text' }), 'CmdContent.DecodeError');
    await expectCode(create({ type: 'RunPythonScript' }), 'InvalidCmdType.NotFound');
    await expectCode(create({ name: 'n'.repeat(129) }), 'CmdName.ExceedLimit');
    await expectCode(create({ workingDir: 'relative/dir' }), 'InvalidParameter.WorkingDir');
    await expectCode(create({ timeout: 86_401 }), 'InvalidTimeout.ExceedLimit');
    await expectCode(create({ name: undefined }), 'MissingParameter');
    await expectCode(create({ commandContent: Buffer.from('x'.repeat(18_433)).toString('base64') }), 'CmdContent.ExceedLimit');
    const windows = await create({ type: 'RunPowerShellScript' });
    await expectCode(client.invokeCommand(new ecs.InvokeCommandRequest({ regionId, commandId: windows.body!.commandId, instanceId: ['i-agent1'] })), 'InvalidInstance.NotMatch');
  });

  it('pages DescribeCommands and lists the newest first', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) {
      await client.createCommand(new ecs.CreateCommandRequest({ regionId, name, type: 'RunShellScript', commandContent: Buffer.from('true').toString('base64') }));
    }
    const first = await client.describeCommands(new ecs.DescribeCommandsRequest({ regionId, maxResults: 2 }));
    expect(first.body?.commands?.command?.map((command) => command.name)).toEqual(['page-c', 'page-b']);
    const second = await client.describeCommands(new ecs.DescribeCommandsRequest({ regionId, maxResults: 2, nextToken: first.body?.nextToken }));
    expect(second.body?.commands?.command?.[0]?.name).toBe('page-a');
    await expectCode(client.describeCommands(new ecs.DescribeCommandsRequest({ regionId, maxResults: 51 })), 'InvalidParameter');
  });
});
