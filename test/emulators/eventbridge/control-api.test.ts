import { afterEach, describe, expect, it } from 'vitest';
import { startEventBridgeEmulator, type EventBridgeEmulator } from '../../../src/emulators/eventbridge/eventbridge-emulator.js';
import { rollcallLikeStack } from './bus-fixture.js';

describe('the control API', () => {
  let bus: EventBridgeEmulator | undefined;
  afterEach(async () => {
    await bus?.close();
    bus = undefined;
  });

  it('POST /emulator/publish puts cloud services’ events on their bus (default unless named), and refuses what is not a CloudEvent', async () => {
    bus = await startEventBridgeEmulator({ rules: rollcallLikeStack('http://127.0.0.1:1/ingress'), variables: { ingress_secret: 's' } });
    const post = (body: unknown) => fetch(bus!.publishUrl, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(body) });
    const one = await post({ id: 'p1', source: 'acs.ecs', type: 'ecs:CloudAssistant:TaskCompleted', data: { commandName: 'rollcall-agent' } });
    expect(await one.json()).toEqual({ events: [{ id: 'p1', matchedRules: ['cloud-assistant-results'] }] });
    const list = await post([{ id: 'p2', source: 'x', type: 'y', aliyuneventbusname: 'rollcall' }, { id: 'p3', source: 'x', type: 'y' }]);
    expect(list.status).toBe(200);
    expect(bus.events().map((record) => [record.via, record.event.id, record.event.aliyuneventbusname])).toEqual([
      ['publish', 'p1', 'default'],
      ['publish', 'p2', 'rollcall'],
      ['publish', 'p3', 'default'],
    ]);
    const refused = await post([{ source: 'x', type: 'y' }, { id: 'p4', source: 'x', type: 'y', aliyuneventbusname: 'nope' }]);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/^InvalidArgument: not a CloudEvent: id .*; EventBusNotExist: The event bus \[nope\] not existed!/), accepted: 0 });
    expect((await fetch(bus.publishUrl, { method: 'POST', body: 'not json' })).status).toBe(400);
  });

  it('GET /emulator shows the buses, rules with their targets, sources with their webhooks, and counts; unknown paths say what is served', async () => {
    bus = await startEventBridgeEmulator({ rules: rollcallLikeStack('http://127.0.0.1:1/ingress'), variables: { ingress_secret: 'never-shown' } });
    const text = await (await fetch(`${bus.url}/emulator`)).text();
    expect(text).not.toContain('never-shown');
    const summary = JSON.parse(text) as Record<string, unknown>;
    expect(summary).toMatchObject({
      accountId: '1234567890123456',
      regionId: 'cn-hangzhou',
      buses: [{ name: 'default' }, { name: 'rollcall' }],
      rules: [
        { name: 'approvals', busName: 'rollcall', enabled: true, pattern: { source: ['dingtalk.approval', 'lark.approval'] }, targets: [{ id: 'rollcall-ingress', type: 'http', retryStrategy: 'BACKOFF_RETRY', params: ['url', 'Body', 'HeaderParameters'] }] },
        { name: 'cloud-assistant-results', busName: 'default' },
      ],
      sources: [{ name: 'dingtalk.approval', busName: 'rollcall', webhookUrl: bus.webhookUrl('dingtalk.approval') }],
      counts: { events: 0, deliveries: 0, deadLetters: 0 },
    });
    const missing = await fetch(`${bus.url}/elsewhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: expect.stringContaining('the emulator serves POST /openapi/putEvents') });
  });
});
