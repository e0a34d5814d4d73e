import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcsEmulator, type EcsEmulator } from '../../../src/emulators/ecs/ecs-emulator.js';
import type { TaskCompletedEvent } from '../../../src/emulators/ecs/task-completed-event.js';
import { clientFor, ecs, sandboxKernelLacks, waitForResults } from './ecs-test-client.js';

const kernelLacks = await sandboxKernelLacks();

describe.skipIf(kernelLacks)('ECS emulator: TaskCompleted events', () => {
  let listener: Server;
  let emulator: EcsEmulator;
  const received: { contentType: string | undefined; event: TaskCompletedEvent }[] = [];

  beforeAll(async () => {
    listener = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        received.push({ contentType: request.headers['content-type'], event: JSON.parse(body) as TaskCompletedEvent });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as AddressInfo;
    emulator = await startEcsEmulator({
      instances: [{ id: 'i-event1' }, { id: 'i-event2' }, { id: 'i-event3' }],
      installAgent: false,
      taskCompletedUrl: `http://127.0.0.1:${port}/events`,
      accountId: '5000000000000001',
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await new Promise((resolve) => listener?.close(resolve));
  });

  it('posts one ecs:CloudAssistant:TaskCompleted CloudEvent per finished instance, none for a lost result', async () => {
    emulator.faults.lostResult.add('i-event3');
    const client = clientFor(emulator);
    const response = await client.runCommand(
      new ecs.RunCommandRequest({
        regionId: emulator.regionId,
        type: 'RunShellScript',
        name: 'exit-by-instance',
        commandContent: '[ {{ACS::InstanceId}} = i-event1 ] || exit 3',
        enableParameter: true,
        instanceId: emulator.instances,
      }),
    );
    emulator.faults.reset();
    const { invokeId, commandId } = response.body!;
    await waitForResults(client, emulator.regionId, invokeId!, 2);
    await emulator.flushEvents();

    const events = received.map((entry) => entry.event).sort((a, b) => a.data.instanceId.localeCompare(b.data.instanceId));
    expect(events).toHaveLength(2);
    expect(received[0]!.contentType).toContain('application/cloudevents+json');
    expect(events[0]).toMatchObject({
      source: 'acs.ecs',
      type: 'ecs:CloudAssistant:TaskCompleted',
      specversion: '1.0',
      subject: `acs:ecs:${emulator.regionId}:5000000000000001:instance/i-event1`,
      datacontenttype: 'application/json;charset=utf-8',
      aliyunaccountid: '5000000000000001',
      aliyunregionid: emulator.regionId,
      aliyuneventbusname: 'default',
      data: { commandId, commandName: 'exit-by-instance', exitCode: '0', instanceId: 'i-event1', invocationStatus: 'Success', invokeId },
    });
    expect(events[1]!.data).toMatchObject({ exitCode: '3', instanceId: 'i-event2', invocationStatus: 'Failed' });
    for (const event of events) {
      expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(event.data.finishTime)).not.toBeNaN();
      expect(Date.parse(event.time)).not.toBeNaN();
      expect(Date.parse(event.aliyunpublishtime)).not.toBeNaN();
    }
  });
});
