import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_INSTALL_PATH } from '../../../src/agent/agent-script.js';
import { startEcsEmulator, type EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import { EMULATED_CLIENT_VERSION, firstHeartbeatEvent, type FirstHeartbeatEvent } from '../../../src/emulators/ecs/first-heartbeat-event.js';
import { taskCompletedEvent, type TaskCompletedEvent } from '../../../src/emulators/ecs/task-completed-event.js';
import { clientFor, ecs, sandboxKernelLacks, waitForResults, type EcsClient } from './ecs-test-client.js';

const kernelLacks = await sandboxKernelLacks();

/** A server that keeps every CloudEvent POSTed to it. */
async function startReceiver(): Promise<{ url: string; events: (FirstHeartbeatEvent | TaskCompletedEvent)[]; contentTypes: string[]; close(): Promise<void> }> {
  const events: (FirstHeartbeatEvent | TaskCompletedEvent)[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      contentTypes.push(request.headers['content-type'] ?? '');
      events.push(JSON.parse(body) as FirstHeartbeatEvent | TaskCompletedEvent);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/events`, events, contentTypes, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('firstHeartbeatEvent', () => {
  it('builds the ecs:CloudAssistant:FirstHeartbeat CloudEvent in the envelope TaskCompleted uses', () => {
    const heartbeat = new Date('2026-03-01T08:00:00.000Z');
    const now = new Date('2026-03-01T08:00:01.000Z');
    const event = firstHeartbeatEvent({ accountId: '5000000000000001', regionId: 'cn-shanghai', instanceId: 'i-new1', firstHeartbeatTime: heartbeat }, now);
    expect(event).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      source: 'acs.ecs',
      specversion: '1.0',
      type: 'ecs:CloudAssistant:FirstHeartbeat',
      subject: 'acs:ecs:cn-shanghai:5000000000000001:instance/i-new1',
      time: '2026-03-01T08:00:00.000Z',
      datacontenttype: 'application/json;charset=utf-8',
      dataschema: '',
      aliyunaccountid: '5000000000000001',
      aliyunpublishtime: '2026-03-01T08:00:01.000Z',
      aliyuneventbusname: 'default',
      aliyunregionid: 'cn-shanghai',
      aliyunpublishaddr: '127.0.0.1',
      data: { instanceId: 'i-new1', regionId: 'cn-shanghai', firstHeartbeatTime: '2026-03-01T08:00:00.000Z', clientVersion: EMULATED_CLIENT_VERSION },
    });
    expect(firstHeartbeatEvent({ accountId: 'a', regionId: 'r', instanceId: 'i', firstHeartbeatTime: heartbeat, clientVersion: '2.4.0.1' }).data.clientVersion).toBe('2.4.0.1');

    const completed = taskCompletedEvent(
      { accountId: '5000000000000001', regionId: 'cn-shanghai', invokeId: 't-1', commandId: 'c-1', commandName: 'x', instanceId: 'i-new1', invocationStatus: 'Success', exitCode: 0, finishTime: heartbeat },
      now,
    );
    const envelope = ({ id: _id, type: _type, data: _data, ...rest }: { id: string; type: string; data: unknown }) => rest;
    expect(envelope(completed)).toEqual(envelope(event));
    expect(completed.type).toBe('ecs:CloudAssistant:TaskCompleted');
    expect(event.id).not.toBe(completed.id);
  });
});

describe.skipIf(kernelLacks)('ECS emulator: addInstance, removeInstance and FirstHeartbeat', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let emulator: EcsEmulator;
  let client: EcsClient;

  beforeAll(async () => {
    receiver = await startReceiver();
    emulator = await startEcsEmulator({ instances: [{ id: 'i-hb-start' }], eventsUrl: receiver.url, accountId: '5000000000000002' });
    client = clientFor(emulator);
  });
  afterAll(async () => {
    await emulator?.close();
    await receiver?.close();
  });

  const listed = async () => {
    const response = await client.describeInstances(new ecs.DescribeInstancesRequest({ regionId: emulator.regionId, maxResults: 100 }));
    return response.body?.instances?.instance ?? [];
  };

  it('creates a new instance with the agent installed, lists it in DescribeInstances, and posts one FirstHeartbeat for it', async () => {
    await emulator.flushEvents();
    expect(receiver.events).toEqual([]); // instances made at start are not new: no heartbeat for them

    const before = Date.now();
    const id = await emulator.addInstance({ id: 'i-hb-new', tags: { app: 'web' } });
    expect(id).toBe('i-hb-new');
    expect(emulator.instances).toEqual(['i-hb-new', 'i-hb-start']);

    const instance = (await listed()).find((entry) => entry.instanceId === 'i-hb-new');
    expect(instance).toMatchObject({ status: 'Running', tags: { tag: [expect.objectContaining({ tagKey: 'app', tagValue: 'web' })] } });

    const agent = await emulator.fleet.exec(id, ['stat', '-c', '%a', AGENT_INSTALL_PATH]);
    expect(agent.stdout.toString('utf8').trim()).toBe('700');

    await emulator.flushEvents();
    expect(receiver.events).toHaveLength(1);
    expect(receiver.contentTypes[0]).toContain('application/cloudevents+json');
    const event = receiver.events[0] as FirstHeartbeatEvent;
    expect(event).toMatchObject({
      source: 'acs.ecs',
      specversion: '1.0',
      type: 'ecs:CloudAssistant:FirstHeartbeat',
      subject: `acs:ecs:${emulator.regionId}:5000000000000002:instance/i-hb-new`,
      aliyunaccountid: '5000000000000002',
      aliyunregionid: emulator.regionId,
      aliyuneventbusname: 'default',
      data: { instanceId: 'i-hb-new', regionId: emulator.regionId, clientVersion: EMULATED_CLIENT_VERSION },
    });
    expect(Date.parse(event.data.firstHeartbeatTime)).toBeGreaterThanOrEqual(before - 1);
    expect(event.time).toBe(event.data.firstHeartbeatTime);
  });

  it('picks the next free id when none is given', async () => {
    const id = await emulator.addInstance();
    expect(id).toMatch(/^i-local\d{4}$/);
    expect((await listed()).map((entry) => entry.instanceId)).toContain(id);
    await emulator.flushEvents();
    expect(receiver.events.filter((event) => event.type === 'ecs:CloudAssistant:FirstHeartbeat').map((event) => event.data.instanceId)).toContain(id);
    await emulator.removeInstance(id);
  });

  it('still sends TaskCompleted to eventsUrl, for the new instance too', async () => {
    const response = await client.runCommand(new ecs.RunCommandRequest({ regionId: emulator.regionId, type: 'RunShellScript', name: 'hello', commandContent: 'echo hello', instanceId: ['i-hb-new'] }));
    await waitForResults(client, emulator.regionId, response.body!.invokeId!, 1);
    await emulator.flushEvents();
    const completed = receiver.events.filter((event): event is TaskCompletedEvent => event.type === 'ecs:CloudAssistant:TaskCompleted');
    expect(completed).toHaveLength(1);
    expect(completed[0]!.data).toMatchObject({ instanceId: 'i-hb-new', invocationStatus: 'Success', exitCode: '0', invokeId: response.body!.invokeId });
  });

  it('removeInstance takes the instance out of DescribeInstances', async () => {
    await emulator.removeInstance('i-hb-new');
    expect((await listed()).map((entry) => entry.instanceId)).toEqual(['i-hb-start']);
    expect(emulator.instances).toEqual(['i-hb-start']);
    await expect(emulator.removeInstance('i-hb-new')).rejects.toThrow(/no sandbox instance i-hb-new/);
  });

  it('refuses an id that is taken', async () => {
    await expect(emulator.addInstance({ id: 'i-hb-start' })).rejects.toThrow(/exists already/);
  });
});

describe.skipIf(kernelLacks)('ECS emulator: taskCompletedUrl, the deprecated name', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let emulator: EcsEmulator;

  beforeAll(async () => {
    receiver = await startReceiver();
    emulator = await startEcsEmulator({
      installAgent: false,
      taskCompletedUrl: receiver.url,
      virtualInstances: [{ id: 'i-hb-virtual' }],
      runner: async () => ({ exitCode: 0 }),
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await receiver?.close();
  });

  it('gets TaskCompleted events but no FirstHeartbeat', async () => {
    await emulator.addInstance({ id: 'i-hb-quiet' });
    const client = clientFor(emulator);
    const response = await client.runCommand(new ecs.RunCommandRequest({ regionId: emulator.regionId, type: 'RunShellScript', commandContent: 'true', instanceId: ['i-hb-quiet'] }));
    await waitForResults(client, emulator.regionId, response.body!.invokeId!, 1);
    await emulator.flushEvents();
    expect(receiver.events.map((event) => [event.type, event.data.instanceId])).toEqual([['ecs:CloudAssistant:TaskCompleted', 'i-hb-quiet']]);
  });

  it('does not add or remove a virtual instance as a sandbox one', async () => {
    await expect(emulator.addInstance({ id: 'i-hb-virtual' })).rejects.toThrow('instance i-hb-virtual exists already as a virtual instance: choose another id');
    await expect(emulator.removeInstance('i-hb-virtual')).rejects.toThrow(/virtual instance: removeInstance releases sandbox instances only/);
  });
});
