import { afterEach, describe, expect, it } from 'vitest';
import { HTTP_SOURCE_EVENT_TYPE } from '../../../src/emulators/eventbridge/cloud-event-envelope.js';
import { startEventBridgeEmulator, type EventBridgeEmulator } from '../../../src/emulators/eventbridge/eventbridge-emulator.js';
import { rollcallLikeStack, startReceiver, type FixtureTarget } from './bus-fixture.js';

const APPROVAL = { EventType: 'bpms_instance_change', processInstanceId: 'pi-7', processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree' };

/** The stack with one HTTP source whose security settings are given. */
function withSource(ingress: string, parameters: Record<string, unknown>, targets?: FixtureTarget[]) {
  const stack = rollcallLikeStack(ingress, targets ? { approvalsTargets: targets } : {});
  const sources = (stack.resource as Record<string, Record<string, Record<string, unknown>>>).alicloud_event_bridge_event_source_v2!;
  sources.approvals_source!.source_http_event_parameters = [parameters];
  return stack;
}

describe('HTTP event sources', () => {
  let bus: EventBridgeEmulator | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await bus?.close();
    bus = undefined;
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  const receiver = async () => {
    const started = await startReceiver();
    closers.push(started.close);
    return started;
  };

  it('turns a POST into an eventbridge:Events:HTTPEvent from the source, with the request as data, on the source’s bus', async () => {
    const ingress = await receiver();
    bus = await startEventBridgeEmulator({ rules: rollcallLikeStack(`${ingress.url}/ingress/eventbridge`), variables: { ingress_secret: 's3cret' } });
    expect(bus.sources.map((source) => source.name)).toEqual(['dingtalk.approval']);
    const webhook = bus.webhookUrl('dingtalk.approval');
    expect(webhook).toMatch(new RegExp(`^${bus.url}/webhook/putEvents\\?token=[0-9a-f]{24}$`));

    const reply = await fetch(`${webhook}&corpId=ding1`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-trace': 't-1' }, body: JSON.stringify(APPROVAL) });
    expect(reply.status).toBe(200);
    const { eventId } = (await reply.json()) as { eventId: string };
    const [record] = bus.events();
    expect(record).toMatchObject({ via: 'http-source', matchedRules: ['approvals'] });
    expect(record!.event).toMatchObject({
      id: eventId,
      source: 'dingtalk.approval',
      type: HTTP_SOURCE_EVENT_TYPE,
      specversion: '1.0',
      subject: `acs:eventbridge:cn-hangzhou:${bus.accountId}:eventbus/rollcall/eventsource/dingtalk.approval`,
      datacontenttype: 'application/json',
      aliyuneventbusname: 'rollcall',
      aliyunaccountid: bus.accountId,
      aliyunregionid: 'cn-hangzhou',
      aliyunpublishaddr: '127.0.0.1',
      data: { httpMethod: 'POST', path: '/webhook/putEvents', queryString: { corpId: 'ding1' }, headers: expect.objectContaining({ 'content-type': 'application/json', 'x-trace': 't-1' }), body: APPROVAL },
    });
    await bus.flush();
    expect(ingress.received).toHaveLength(1);
    expect(JSON.parse(ingress.received[0]!.body)).toEqual(record!.event);
  });

  it('keeps a body that is not JSON as text', async () => {
    bus = await startEventBridgeEmulator({ rules: rollcallLikeStack('http://127.0.0.1:1/ingress'), variables: { ingress_secret: 's' } });
    await fetch(bus.webhookUrl('dingtalk.approval'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello=world' });
    expect(bus.events()[0]!.event.data).toMatchObject({ body: 'hello=world' });
  });

  it('refuses an unknown token, a method the source does not take, and a body over 256 KB', async () => {
    bus = await startEventBridgeEmulator({ rules: rollcallLikeStack('http://127.0.0.1:1/ingress'), variables: { ingress_secret: 's' } });
    const webhook = bus.webhookUrl('dingtalk.approval');
    const wrongToken = await fetch(`${bus.url}/webhook/putEvents?token=nope`, { method: 'POST', body: '{}' });
    expect(wrongToken.status).toBe(404);
    expect(await wrongToken.json()).toMatchObject({ code: 'EventSourceNotExist' });
    const put = await fetch(webhook, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
    expect(await put.json()).toMatchObject({ message: 'event source dingtalk.approval takes POST, not PUT' });
    const huge = await fetch(webhook, { method: 'POST', body: JSON.stringify({ blob: 'x'.repeat(256 * 1024) }) });
    expect(huge.status).toBe(413);
    expect(bus.events()).toEqual([]);
    expect(() => bus!.webhookUrl('lark.approval')).toThrow('the stack has no HTTP event source lark.approval; its sources are dingtalk.approval');
  });

  it('security_config ip: only the listed addresses or CIDR blocks; referer: only the listed Referer hosts', async () => {
    bus = await startEventBridgeEmulator({ rules: withSource('http://127.0.0.1:1/ingress', { type: 'HTTPS', security_config: 'ip', ip: ['10.0.0.0/8'] }), variables: { ingress_secret: 's' } });
    const refused = await fetch(bus.webhookUrl('dingtalk.approval'), { method: 'POST', body: '{}' });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ message: 'event source dingtalk.approval takes requests from 10.0.0.0/8 only, not 127.0.0.1' });
    await bus.close();

    bus = await startEventBridgeEmulator({ rules: withSource('http://127.0.0.1:1/ingress', { security_config: 'ip', ip: ['127.0.0.0/24'] }), variables: { ingress_secret: 's' } });
    expect((await fetch(bus.webhookUrl('dingtalk.approval'), { method: 'POST', body: '{}' })).status).toBe(200);
    await bus.close();

    bus = await startEventBridgeEmulator({ rules: withSource('http://127.0.0.1:1/ingress', { security_config: 'referer', referer: ['oapi.dingtalk.com'] }), variables: { ingress_secret: 's' } });
    const webhook = bus.webhookUrl('dingtalk.approval');
    expect((await fetch(webhook, { method: 'POST', body: '{}', headers: { referer: 'https://evil.example.com/' } })).status).toBe(403);
    expect((await fetch(webhook, { method: 'POST', body: '{}', headers: { referer: 'https://oapi.dingtalk.com/callback' } })).status).toBe(200);
    expect(bus.events()).toHaveLength(1);
  });
});
