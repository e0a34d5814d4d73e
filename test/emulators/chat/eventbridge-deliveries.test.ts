import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyDingtalkCallback } from '../../../src/ingress/dingtalk/callback-crypto.js';
import { verifyLarkCallback } from '../../../src/ingress/lark/callback-crypto.js';
import { chatEmulators, subscribe } from './chat-fixture.js';

/*
 * The `eventbridge` delivery path: the same sealed, signed callbacks as the `http` path, posted to
 * an HTTPS event source's webhook URL, delivered when the bus answers 2xx.
 */

const APP_KEY = 'dingkey';
const AES_KEY = 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7';
const TOKEN = 'dt-token';
const LARK_APP = { appId: 'cli_0123456789abcdef', appSecret: 'larksecret' };
const LARK_SECRETS = { verificationToken: 'lark-vtoken', encryptKey: 'lark-ekey' };

const start = chatEmulators({
  dingtalk: { appKey: APP_KEY, appSecret: 'dingsecret', corpId: 'dingcorp1' },
  lark: { ...LARK_APP, tenantKey: 'tenant-1' },
  timing: { retryDelaysMs: [10, 20] },
});

interface Received {
  url: URL;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A stand-in for the bus's webhook: answers with the next status (the last repeats) and a body like the bus's. */
async function fakeBus(statuses: number[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    received.push({ url: new URL(request.url ?? '/', 'http://127.0.0.1'), headers: request.headers, raw: Buffer.concat(chunks) });
    const status = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ requestId: 'R-1', eventId: 'E-1' }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/putEvents?token=source-token`, received };
}

describe('chat emulator: deliveries to an EventBridge HTTPS source', () => {
  it('DingTalk: posts the sealed, signed push to the webhook URL (its token kept) and counts the bus\'s 200 as delivered', async () => {
    const bus = await fakeBus([200]);
    const emulator = await start({ deliveries: { dingtalk: { eventbridge: { url: bus.url, token: TOKEN, aesKey: AES_KEY } } } });
    const { instanceId, deliveries } = await emulator.approve({ platform: 'dingtalk', code: 'PROC-1', originator: 'u1', approvers: ['u2'], form: { Login: 'alice' } });
    expect(deliveries).toEqual([{ via: 'eventbridge', ok: true, attempts: 1, status: 200 }]);
    expect(bus.received).toHaveLength(1);
    const [request] = bus.received;
    expect(request!.url.searchParams.get('token')).toBe('source-token');
    const { event } = verifyDingtalkCallback({ query: request!.url.searchParams, body: request!.raw, token: TOKEN, encodingAesKey: AES_KEY, ownerKey: APP_KEY, now: new Date() });
    expect(event).toMatchObject({ EventType: 'bpms_instance_change', processInstanceId: instanceId, type: 'finish', result: 'agree', CorpId: 'dingcorp1' });
    expect(emulator.deliveries.dingtalk).toEqual({ eventbridge: { url: bus.url, token: TOKEN, aesKey: AES_KEY } });
  });

  it('DingTalk: the same plain 200 on the http path is not delivered (rollcall owes the sealed "success"); on eventbridge it is', async () => {
    const bus = await fakeBus([200]);
    const target = { url: bus.url, token: TOKEN, aesKey: AES_KEY };
    const emulator = await start({ deliveries: { dingtalk: { callback: target, eventbridge: target } } });
    const { deliveries } = await emulator.approve({ platform: 'dingtalk', code: 'PROC-1', originator: 'u1', approvers: ['u2'], form: {} });
    expect(deliveries.map((delivery) => [delivery.via, delivery.ok])).toEqual([
      ['http', false],
      ['eventbridge', true],
    ]);
  });

  it('retries while the bus answers an error, and reports the last status when it never takes it', async () => {
    const flaky = await fakeBus([503, 202]);
    const emulator = await start({ deliveries: { dingtalk: { eventbridge: { url: flaky.url, token: TOKEN, aesKey: AES_KEY } } } });
    expect(await emulator.userLeft('dingtalk', 'u-9')).toEqual([{ via: 'eventbridge', ok: true, attempts: 2, status: 202 }]);

    const refusing = await fakeBus([403]);
    emulator.configureDeliveries({ dingtalk: { eventbridge: { url: refusing.url, token: TOKEN, aesKey: AES_KEY } } });
    expect(await emulator.userLeft('dingtalk', 'u-9')).toEqual([{ via: 'eventbridge', ok: false, attempts: 3, status: 403, error: 'answered HTTP 403, not 2xx' }]);
  });

  it('Lark: posts the encrypted, signed callback with its headers; 2xx is delivered; an unsubscribed code sends nothing', async () => {
    const bus = await fakeBus([200]);
    const emulator = await start({ deliveries: { lark: { eventbridge: { url: bus.url, ...LARK_SECRETS } } } });
    const unsubscribed = await emulator.approve({ platform: 'lark', code: 'APPROVAL-1', originator: 'u1', approvers: ['u2'], form: {} });
    expect(unsubscribed.deliveries).toEqual([{ via: 'eventbridge', ok: false, attempts: 0, error: expect.stringContaining('not subscribed') }]);
    expect(bus.received).toHaveLength(0);

    await subscribe(emulator, 'APPROVAL-1', LARK_APP);
    const { instanceId, deliveries } = await emulator.approve({ platform: 'lark', code: 'APPROVAL-1', originator: 'u1', approvers: ['u2'], form: {} });
    expect(deliveries).toEqual([{ via: 'eventbridge', ok: true, attempts: 1, status: 200 }]);
    const [request] = bus.received;
    expect(JSON.parse(request!.raw.toString('utf8'))).toEqual({ encrypt: expect.any(String) });
    const callback = verifyLarkCallback({ headers: request!.headers, rawBody: request!.raw, ...LARK_SECRETS, now: new Date() });
    expect(callback).toMatchObject({ kind: 'event', eventType: 'approval_instance', event: { instance_code: instanceId, status: 'APPROVED' } });
    // Compact JSON, as Lark sends it: what the ingress signs again after the bus parsed it.
    expect(request!.raw.toString('utf8')).toBe(JSON.stringify(JSON.parse(request!.raw.toString('utf8'))));
  });
});
