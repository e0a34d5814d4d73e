import { afterEach, describe, expect, it } from 'vitest';
import { firstHeartbeatEvent } from '../../../src/emulators/ecs/first-heartbeat-event.js';
import { EventPoster, taskCompletedEvent } from '../../../src/emulators/ecs/task-completed-event.js';
import { startEventBridgeEmulator, type EventBridgeEmulator } from '../../../src/emulators/eventbridge/eventbridge-emulator.js';
import { checkEventBridgeSecret, readCloudEvents } from '../../../src/ingress/eventbridge/cloud-events.js';
import { robotServers } from '../chat/robot-fixture.js';
import { FULL_CONFIG, synthStack } from '../../stacks/stack-fixtures.js';
import { startReceiver } from './bus-fixture.js';

/*
 * The stack as `cdktf synth` makes it (stacks/rollcall-stack.ts, synthesized in memory), run by
 * the emulator: the events that really flow reach rollcall's ingress and the groups' robots, and
 * the near misses reach nothing.
 */

const finished = (commandName: string, invocationStatus = 'Success') =>
  taskCompletedEvent({ accountId: '1234567890123456', regionId: 'cn-shanghai', invokeId: 't-hz01', commandId: 'c-1', commandName, instanceId: 'i-0001', invocationStatus, exitCode: invocationStatus === 'Success' ? 0 : 1, finishTime: new Date() });

describe('the synthesized stack, run by the emulator', () => {
  let bus: EventBridgeEmulator | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await bus?.close();
    bus = undefined;
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  const robots = robotServers();

  it('routes Cloud Assistant results and first heartbeats to the ingress with the secret, and the completion notice to both groups', async () => {
    const ingress = await startReceiver([200], () => '{}');
    closers.push(ingress.close);
    const chat = await robots({ robots: { dingtalk: [{ accessToken: 'abc123', secret: 'SECdingtalk', group: 'ops-dingtalk' }], lark: [{ hookToken: 'hook-token', group: 'ops-lark' }] } });
    const { document } = synthStack(FULL_CONFIG);
    bus = await startEventBridgeEmulator({
      rules: document as unknown as Record<string, unknown>,
      regionId: 'cn-shanghai',
      redirects: { 'https://rollcall.example.com': ingress.url, 'https://oapi.dingtalk.com': chat.url, 'https://open.feishu.cn': chat.url },
      secondMs: 1,
    });
    expect(bus.rules.map((rule) => `${rule.busName}/${rule.name}`)).toEqual(['rollcall-prod/approvals', 'default/cloud-assistant-results', 'default/new-instances']);

    // The ECS emulator posts its events to the bus as Cloud Assistant publishes them (eventsUrl).
    const poster = new EventPoster(bus.publishUrl);
    const completed = finished('rollcall-agent');
    const heartbeat = firstHeartbeatEvent({ accountId: '1234567890123456', regionId: 'cn-shanghai', instanceId: 'i-new1', firstHeartbeatTime: new Date() });
    poster.post(completed);
    poster.post(heartbeat);
    poster.post(finished('someone-elses-command'));
    await poster.flush();
    expect(poster.failures).toBe(0);
    expect(bus.events().map((record) => record.matchedRules)).toEqual([['cloud-assistant-results'], ['new-instances'], []]);
    await bus.flush();

    const read = ingress.received.map((request) => {
      expect(checkEventBridgeSecret(request.headers, FULL_CONFIG.ingressSecret)).toBe(true);
      expect(request.path).toBe('/ingress/eventbridge');
      return readCloudEvents(Buffer.from(request.body), { headers: request.headers });
    });
    expect(read).toEqual(
      expect.arrayContaining([
        { ok: true, events: [expect.objectContaining({ id: completed.id, kind: 'invocation-finished', invokeId: 't-hz01', instanceId: 'i-0001', status: 'Success', exitCode: 0 })] },
        { ok: true, events: [expect.objectContaining({ id: heartbeat.id, kind: 'instance-appeared', instanceId: 'i-new1' })] },
      ]),
    );
    expect(read).toHaveLength(2);
    expect(chat.webhooks.messages('ops-dingtalk').map((message) => message.body)).toEqual([{ msgtype: 'text', text: { content: 'rollcall: rollcall-agent on i-0001 ended Success (exit 0)' } }]);
    expect(chat.webhooks.messages('ops-lark').map((message) => message.body)).toEqual([{ msg_type: 'text', content: { text: 'rollcall: rollcall-agent on i-0001 ended Success (exit 0)' } }]);
    expect(bus.deadLetters()).toEqual([]);
  });

  it('approval webhooks posted to a platform’s HTTPS source reach the ingress on the approvals rule; other sources do not', async () => {
    const ingress = await startReceiver([200], () => '{}');
    closers.push(ingress.close);
    const { document } = synthStack(FULL_CONFIG);
    bus = await startEventBridgeEmulator({ rules: document as unknown as Record<string, unknown>, redirects: { 'https://rollcall.example.com': ingress.url, 'https://oapi.dingtalk.com': 'http://127.0.0.1:1', 'https://open.feishu.cn': 'http://127.0.0.1:1' } });
    expect(bus.sources.map((source) => [source.name, source.busName])).toEqual([
      ['dingtalk.approval', 'rollcall-prod'],
      ['lark.approval', 'rollcall-prod'],
    ]);
    const approval = { EventType: 'bpms_instance_change', processInstanceId: 'pi-1', processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree' };
    for (const source of ['dingtalk.approval', 'lark.approval']) {
      const reply = await fetch(bus.webhookUrl(source), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(approval) });
      expect(reply.status).toBe(200);
    }
    // A custom event from another source on the same bus matches no rule.
    bus.publish({ id: 'other', source: 'hr.system', type: 'x', aliyuneventbusname: 'rollcall-prod', data: approval });
    await bus.flush();
    expect(bus.events().map((record) => record.matchedRules)).toEqual([['approvals'], ['approvals'], []]);
    expect(ingress.received.map((request) => JSON.parse(request.body) as { source: string; data: { body: unknown } })).toEqual([
      expect.objectContaining({ source: 'dingtalk.approval', data: expect.objectContaining({ body: approval }) }),
      expect.objectContaining({ source: 'lark.approval', data: expect.objectContaining({ body: approval }) }),
    ]);
  });
});
