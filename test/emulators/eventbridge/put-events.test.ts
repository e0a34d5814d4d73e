import * as EventBridgeNamespace from '@alicloud/eventbridge';
import type EventBridgeModule from '@alicloud/eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import { startEventBridgeEmulator, type EventBridgeEmulator } from '../../../src/emulators/eventbridge/eventbridge-emulator.js';
import { signString, stringToSign } from '../../../src/emulators/eventbridge/verify-signature.js';
import { rollcallLikeStack, startReceiver } from './bus-fixture.js';

// The SDK is CommonJS: under native ESM the namespace's `default` is module.exports (an object),
// under vitest the namespace holds the exports themselves (`default` is the client class).
const fallback = (EventBridgeNamespace as { default?: unknown }).default;
const sdk = (typeof fallback === 'object' && fallback !== null ? fallback : EventBridgeNamespace) as unknown as typeof EventBridgeNamespace & { default: typeof EventBridgeModule.default };
const Client = sdk.default;

function client(bus: EventBridgeEmulator, secret = bus.accessKeySecret) {
  return new Client(new sdk.Config({ accessKeyId: bus.accessKeyId, accessKeySecret: secret, endpoint: bus.endpoint, protocol: 'http' }));
}

function cloudEvent(fields: { id?: string; source?: string; type?: string; bus?: string; data?: unknown }) {
  return new sdk.CloudEvent({
    id: fields.id ?? 'evt-1',
    source: fields.source ?? 'rollcall',
    type: fields.type ?? 'rollcall:Revision:Applied',
    subject: 'acs:rollcall:cn-hangzhou:1234567890123456:revision/abc',
    data: Buffer.from(JSON.stringify(fields.data ?? { revision: 'abc' })),
    extensions: fields.bus === undefined ? {} : { aliyuneventbusname: fields.bus },
  });
}

describe('PutEvents through @alicloud/eventbridge', () => {
  let bus: EventBridgeEmulator | undefined;
  afterEach(async () => {
    await bus?.close();
    bus = undefined;
  });

  it('accepts a batch, fills the envelope, routes matching events, and answers EntryList with each EventId', async () => {
    const ingress = await startReceiver();
    try {
      const stack = rollcallLikeStack(`${ingress.url}/ingress/eventbridge`);
      bus = await startEventBridgeEmulator({ rules: stack, variables: { ingress_secret: 's3cret' } });
      const reply = await client(bus).putEvents([
        cloudEvent({ id: 'a1', bus: 'rollcall' }),
        cloudEvent({ id: 'a2', bus: 'rollcall', source: 'dingtalk.approval', type: 'dingtalk:approval:bpms_instance_change', data: { processInstanceId: 'p-1', result: 'agree' } }),
      ]);
      expect(reply.failedEntryCount).toBe(0);
      expect(reply.entryList?.map((entry) => [entry.eventId, entry.errorCode])).toEqual([
        ['a1', undefined],
        ['a2', undefined],
      ]);
      expect(reply.resourceOwnerAccountId).toBe(bus.accountId);
      expect(reply.requestId).toMatch(/^[0-9A-F-]{36}$/);

      const [first, second] = bus.events();
      expect(first).toMatchObject({ via: 'putEvents', matchedRules: [], event: { id: 'a1', source: 'rollcall', specversion: '1.0', datacontenttype: 'application/json; charset=utf-8', data: { revision: 'abc' } } });
      expect(first!.event).toMatchObject({ aliyunaccountid: bus.accountId, aliyuneventbusname: 'rollcall', aliyunregionid: 'cn-hangzhou', aliyunpublishaddr: '127.0.0.1' });
      expect(Date.parse(first!.event.aliyunpublishtime)).toBeGreaterThan(Date.now() - 10_000);
      expect(second!.matchedRules).toEqual(['approvals']);

      await bus.flush();
      expect(ingress.received).toHaveLength(1);
      expect(ingress.received[0]!.headers['x-rollcall-secret']).toBe('s3cret');
      expect(JSON.parse(ingress.received[0]!.body)).toMatchObject({ id: 'a2', source: 'dingtalk.approval', data: { processInstanceId: 'p-1' } });
    } finally {
      await ingress.close();
    }
  });

  it('fails single entries in EntryList: a bus that does not exist, no bus named, an event over 256 KB', async () => {
    bus = await startEventBridgeEmulator({ rules: rollcallLikeStack('http://127.0.0.1:9/ingress'), variables: { ingress_secret: 'x' } });
    const reply = await client(bus).putEvents([
      cloudEvent({ id: 'ok', bus: 'default' }),
      cloudEvent({ id: 'nobus', bus: 'rolcall' }),
      cloudEvent({ id: 'unnamed' }),
      cloudEvent({ id: 'huge', bus: 'default', data: { blob: 'x'.repeat(256 * 1024) } }),
    ]);
    expect(reply.failedEntryCount).toBe(3);
    expect(reply.entryList?.map((entry) => [entry.eventId, entry.errorCode])).toEqual([
      ['ok', undefined],
      ['nobus', 'EventBusNotExist'],
      ['unnamed', 'InvalidArgument'],
      ['huge', 'EventSizeExceeded'],
    ]);
    expect(reply.entryList?.[1]?.errorMessage).toContain('The event bus [rolcall] not existed!');
    expect(reply.entryList?.[2]?.errorMessage).toContain('set the extension aliyuneventbusname');
    expect(bus.events().map((record) => record.event.id)).toEqual(['ok']);
  });

  it('refuses a batch of more than 16 events or 1 MB, with the error the SDK throws', async () => {
    bus = await startEventBridgeEmulator();
    const seventeen = Array.from({ length: 17 }, (_, index) => cloudEvent({ id: `e${index}`, bus: 'default' }));
    await expect(client(bus).putEvents(seventeen)).rejects.toMatchObject({ code: 'EventsCountExceeded', message: expect.stringContaining('at most 16 events a call; got 17') });
    const big = Array.from({ length: 5 }, (_, index) => cloudEvent({ id: `b${index}`, bus: 'default', data: { blob: 'x'.repeat(250 * 1024) } }));
    await expect(client(bus).putEvents(big)).rejects.toMatchObject({ code: 'EventsSizeExceeded' });
    const sixteen = Array.from({ length: 16 }, (_, index) => cloudEvent({ id: `s${index}`, bus: 'default' }));
    expect((await client(bus).putEvents(sixteen)).failedEntryCount).toBe(0);
    expect(bus.events()).toHaveLength(16);
  });

  it('checks the signature: a wrong secret or an unknown AccessKey is refused', async () => {
    bus = await startEventBridgeEmulator();
    await expect(client(bus, 'not-the-secret').putEvents([cloudEvent({ bus: 'default' })])).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
    const stranger = new Client(new sdk.Config({ accessKeyId: 'LTAIunknown', accessKeySecret: 'x', endpoint: bus.endpoint, protocol: 'http' }));
    await expect(stranger.putEvents([cloudEvent({ bus: 'default' })])).rejects.toMatchObject({ code: 'InvalidAccessKeyId.NotFound' });
    const unsigned = await fetch(`${bus.url}/openapi/putEvents`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]' });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toMatchObject({ code: 'MissingAuthorization' });
    expect(bus.events()).toEqual([]);
  });

  it('refuses a request signed more than 15 minutes ago', async () => {
    bus = await startEventBridgeEmulator();
    const date = new Date(Date.now() - 20 * 60_000).toUTCString();
    const headers = { date, 'content-type': 'application/cloudevents-batch+json; charset=utf-8', 'x-acs-signature-nonce': 'n1', 'x-acs-signature-method': 'HMAC-SHA1', 'x-acs-signature-version': '1.0' };
    const signature = signString(stringToSign('POST', '/openapi/putEvents', new URLSearchParams(), headers), bus.accessKeySecret);
    const reply = await fetch(`${bus.url}/openapi/putEvents`, { method: 'POST', headers: { ...headers, authorization: `acs:${bus.accessKeyId}:${signature}` }, body: '[]' });
    expect(await reply.json()).toMatchObject({ code: 'RequestTimeTooSkewed' });
  });

  it('answers the APIs it does not emulate with an error that says so', async () => {
    bus = await startEventBridgeEmulator();
    await expect(client(bus).listEventBuses(new sdk.ListEventBusesRequest({}))).rejects.toMatchObject({ code: 'ApiNotSupported', message: expect.stringContaining('serves PutEvents only') });
  });
});
