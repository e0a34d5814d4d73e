import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ChatEmulator } from '../../../src/emulators/chat/chat-emulator.js';
import { decodeLarkFrame, encodeLarkFrame, frameHeader, LARK_FRAME_METHOD, type LarkFrame } from '../../../src/emulators/chat/lark-frame.js';
import { chatEmulators, subscribe } from './chat-fixture.js';

const LARK_APP = 'cli_0123456789abcdef';
const LARK_SECRET = 'larksecret';

const start = chatEmulators({
  dingtalk: { appKey: 'dingkey', appSecret: 'dingsecret', corpId: 'dingcorp1' },
  lark: { appId: LARK_APP, appSecret: LARK_SECRET, tenantKey: 'tenant-1', verificationToken: 'vtoken' },
  deliveries: { dingtalk: { stream: true }, lark: { longConnection: true } },
  timing: { ackTimeoutMs: 150, giveUpAfterMs: 2000 },
});
const sockets: WebSocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.terminate();
});

async function post(url: string, body: unknown) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** A socket whose messages are collected; `next(match)` waits for the next one that matches. */
function collect<T>(socket: WebSocket, parse: (raw: Buffer) => T) {
  const seen: T[] = [];
  socket.on('message', (raw: Buffer) => seen.push(parse(raw)));
  sockets.push(socket);
  let read = 0;
  return {
    seen,
    async next(match: (message: T) => boolean = () => true, timeoutMs = 2000): Promise<T> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        for (; read < seen.length; read += 1) if (match(seen[read]!)) return seen[read++]!;
        if (Date.now() > until) throw new Error(`no matching message within ${timeoutMs} ms; seen ${JSON.stringify(seen)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

async function openDingtalk(emulator: ChatEmulator, subscriptions = [{ type: 'EVENT', topic: '*' }]) {
  const opened = await post(`${emulator.url}/v1.0/gateway/connections/open`, { clientId: 'dingkey', clientSecret: 'dingsecret', subscriptions });
  expect(opened.status).toBe(200);
  const socket = new WebSocket(`${opened.body.endpoint}?ticket=${opened.body.ticket}`);
  const stream = collect(socket, (raw) => JSON.parse(raw.toString()) as { type: string; headers: Record<string, string>; data: string });
  await once(socket, 'open');
  return { socket, ...stream, ack: (messageId: string, status: string | undefined) => socket.send(JSON.stringify({ code: 200, headers: { contentType: 'application/json', messageId }, message: 'OK', data: JSON.stringify(status === undefined ? {} : { status }) })) };
}

describe('DingTalk Stream gateway', () => {
  it('opens connections for the right app only, with one-use tickets that expire', async () => {
    const emulator = await start({ timing: { ticketLifetimeMs: 100 } });
    const gateway = `${emulator.url}/v1.0/gateway/connections/open`;
    expect((await post(gateway, { clientId: 'dingkey', clientSecret: 'nope', subscriptions: [{ type: 'EVENT', topic: '*' }] })).body.code).toBe('invalidClientSecret');
    expect((await post(gateway, { clientId: 'other', clientSecret: 'dingsecret', subscriptions: [{ type: 'EVENT', topic: '*' }] })).status).toBe(400);
    expect((await post(gateway, { clientId: 'dingkey', clientSecret: 'dingsecret', subscriptions: [] })).status).toBe(400);

    const opened = await post(gateway, { clientId: 'dingkey', clientSecret: 'dingsecret', subscriptions: [{ type: 'EVENT', topic: '*' }] });
    expect(opened.body.endpoint).toBe(`${emulator.wsUrl}/connect`);
    const first = new WebSocket(`${opened.body.endpoint}?ticket=${opened.body.ticket}`);
    sockets.push(first);
    await once(first, 'open');
    const again = new WebSocket(`${opened.body.endpoint}?ticket=${opened.body.ticket}`);
    const [error] = (await once(again, 'error')) as [Error];
    expect(error.message).toMatch(/401/);

    const late = await post(gateway, { clientId: 'dingkey', clientSecret: 'dingsecret', subscriptions: [{ type: 'EVENT', topic: '*' }] });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const expired = new WebSocket(`${late.body.endpoint}?ticket=${late.body.ticket}`);
    expect(((await once(expired, 'error')) as [Error])[0].message).toMatch(/401/);
  });

  it('pushes bpms_instance_change as an EVENT frame and counts it delivered on a SUCCESS ack', async () => {
    const emulator = await start();
    const stream = await openDingtalk(emulator);
    const id = emulator.dingtalk.createInstance({ processCode: 'PROC-1', originatorUserId: 'u-1', form: { login: 'bob' }, approvers: ['u-2'], title: 'onboard bob' });
    const delivered = emulator.dingtalk.complete(id, 'agree');
    const frame = await stream.next();
    expect(frame).toMatchObject({ specVersion: '1.0', type: 'EVENT', headers: { eventType: 'bpms_instance_change', eventCorpId: 'dingcorp1', topic: '*', contentType: 'application/json' } });
    for (const header of ['messageId', 'eventId', 'eventBornTime', 'time', 'appId', 'connectionId']) expect(frame.headers[header]).toEqual(expect.any(String));
    const data = JSON.parse(frame.data) as Record<string, unknown>;
    expect(data).toMatchObject({ processInstanceId: id, processCode: 'PROC-1', type: 'finish', result: 'agree', staffId: 'u-1', title: 'onboard bob', corpId: 'dingcorp1', businessId: expect.any(String) });
    expect(typeof data.createTime).toBe('number');
    expect(typeof data.finishTime).toBe('number');
    stream.ack(frame.headers.messageId!, 'SUCCESS');
    expect(await delivered).toEqual([{ via: 'stream', ok: true, attempts: 1 }]);
  });

  it('pushes again, with a new messageId and the same eventId, what is not acked, acked LATER or acked {} (an async SDK listener)', async () => {
    const emulator = await start();
    const stream = await openDingtalk(emulator);
    const delivered = emulator.userLeft('dingtalk', 'u-9');
    const first = await stream.next((frame) => frame.type === 'EVENT');
    expect(first.headers.eventType).toBe('user_leave_org');
    expect(JSON.parse(first.data)).toMatchObject({ userId: ['u-9'], timeStamp: expect.any(Number) });
    // no ack at all
    const second = await stream.next((frame) => frame.type === 'EVENT');
    stream.ack(second.headers.messageId!, 'LATER');
    const third = await stream.next((frame) => frame.type === 'EVENT');
    stream.ack(third.headers.messageId!, undefined);
    const fourth = await stream.next((frame) => frame.type === 'EVENT');
    expect(new Set([first, second, third, fourth].map((frame) => frame.headers.eventId)).size).toBe(1);
    expect(new Set([first, second, third, fourth].map((frame) => frame.headers.messageId)).size).toBe(4);
    stream.ack(first.headers.messageId!, 'SUCCESS'); // an ack of an earlier push counts too
    expect(await delivered).toEqual([{ via: 'stream', ok: true, attempts: 4 }]);
  });

  it('holds an event until a connection opens, and gives up when none acks in time', async () => {
    const emulator = await start({ timing: { ackTimeoutMs: 100, giveUpAfterMs: 600 } });
    const waiting = emulator.userLeft('dingtalk', 'u-1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stream = await openDingtalk(emulator);
    const frame = await stream.next((message) => message.type === 'EVENT');
    stream.ack(frame.headers.messageId!, 'SUCCESS');
    expect((await waiting)[0]).toMatchObject({ ok: true, attempts: 1 });

    const ignored = await emulator.userLeft('dingtalk', 'u-2');
    expect(ignored[0]).toMatchObject({ via: 'stream', ok: false, error: expect.stringMatching(/not acknowledged/) });
    expect(ignored[0]!.attempts).toBeGreaterThan(2);
  });

  it('sends events only to connections subscribed to them, and SYSTEM pings to be echoed', async () => {
    const emulator = await start({ timing: { ackTimeoutMs: 100, giveUpAfterMs: 400, pingIntervalMs: 50 } });
    const callbacksOnly = await openDingtalk(emulator, [{ type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' }]);
    const ping = await callbacksOnly.next((frame) => frame.type === 'SYSTEM');
    expect(ping.headers.topic).toBe('ping');
    expect(JSON.parse(ping.data)).toHaveProperty('opaque');
    expect((await emulator.userLeft('dingtalk', 'u-3'))[0]).toMatchObject({ ok: false, error: expect.stringMatching(/no connection/) });
    expect(callbacksOnly.seen.some((frame) => frame.type === 'EVENT')).toBe(false);
  });

  it('drops a connection that answers no pings (half-open), and keeps one that echoes them', async () => {
    const emulator = await start({ timing: { pingIntervalMs: 40 } });
    const silent = await openDingtalk(emulator);
    const echoing = await openDingtalk(emulator);
    echoing.socket.on('message', (raw: Buffer) => {
      const frame = JSON.parse(raw.toString()) as { type: string; headers: Record<string, string>; data: string };
      if (frame.type === 'SYSTEM') echoing.socket.send(JSON.stringify({ code: 200, headers: frame.headers, message: 'OK', data: frame.data }));
    });
    await once(silent.socket, 'close');
    for (let wait = 0; wait < 50 && emulator.dingtalk.streamConnections > 1; wait += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(emulator.dingtalk.streamConnections).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 150)); // several ping periods
    expect(echoing.socket.readyState).toBe(WebSocket.OPEN);
  });
});

interface LarkSocket {
  socket: WebSocket;
  seen: LarkFrame[];
  next(match?: (frame: LarkFrame) => boolean, timeoutMs?: number): Promise<LarkFrame>;
  answer(frame: LarkFrame, code: number): void;
}

async function openLark(emulator: ChatEmulator): Promise<LarkSocket & { url: URL; config: Record<string, number> }> {
  const { body } = await post(`${emulator.url}/callback/ws/endpoint`, { AppID: LARK_APP, AppSecret: 'larksecret' });
  expect(body.code).toBe(0);
  const socket = new WebSocket(body.data.URL);
  const frames = collect(socket, (raw) => decodeLarkFrame(raw));
  await once(socket, 'open');
  return {
    socket,
    ...frames,
    url: new URL(body.data.URL),
    config: body.data.ClientConfig,
    answer: (frame, code) => socket.send(encodeLarkFrame({ ...frame, headers: [...frame.headers, { key: 'biz_rt', value: '0' }], payload: Buffer.from(JSON.stringify({ code })) })),
  };
}

describe('Lark long connection', () => {
  it('hands out a one-use URL and the client settings for the right app only (code 514 otherwise, HTTP 200 as Lark)', async () => {
    const emulator = await start({ timing: { larkClientConfig: { PingInterval: 5 } } });
    const refused = await post(`${emulator.url}/callback/ws/endpoint`, { AppID: LARK_APP, AppSecret: 'wrong' });
    expect(refused).toMatchObject({ status: 200, body: { code: 514 } });
    const lark = await openLark(emulator);
    expect(lark.url.pathname).toBe('/ws/v2');
    for (const name of ['device_id', 'service_id', 'ticket']) expect(lark.url.searchParams.get(name)).toBeTruthy();
    expect(lark.config).toEqual({ PingInterval: 5, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30 });
    const reused = new WebSocket(lark.url);
    expect(((await once(reused, 'error')) as [Error])[0].message).toMatch(/403/);
  });

  it('answers a ping with a pong carrying the client settings', async () => {
    const emulator = await start();
    const lark = await openLark(emulator);
    const service = Number(lark.url.searchParams.get('service_id'));
    lark.socket.send(encodeLarkFrame({ seqId: 0n, logId: 0n, service, method: LARK_FRAME_METHOD.control, headers: [{ key: 'type', value: 'ping' }] }));
    const pong = await lark.next();
    expect(pong).toMatchObject({ method: LARK_FRAME_METHOD.control, service });
    expect(frameHeader(pong, 'type')).toBe('pong');
    expect(JSON.parse(Buffer.from(pong.payload!).toString())).toMatchObject({ PingInterval: 120, ReconnectCount: -1 });
    expect(emulator.lark.pings).toBe(1);
  });

  it('pushes approval_instance (v1) for subscribed codes as a data frame, again until answered 200', async () => {
    const emulator = await start();
    const lark = await openLark(emulator);
    await subscribe(emulator, 'APPROVAL-1', { appId: LARK_APP, appSecret: LARK_SECRET });
    const code = emulator.lark.createInstance({ approvalCode: 'APPROVAL-1', userId: 'u-1', form: { login: 'amy' }, approvers: ['u-2'] });
    const delivered = emulator.lark.complete(code, 'APPROVED');
    const first = await lark.next();
    expect(first.method).toBe(LARK_FRAME_METHOD.data);
    expect(Object.fromEntries(first.headers.map((header) => [header.key, header.value]))).toMatchObject({ type: 'event', sum: '1', seq: '0', message_id: expect.any(String), trace_id: expect.any(String) });
    const envelope = JSON.parse(Buffer.from(first.payload!).toString()) as Record<string, any>;
    expect(envelope).toMatchObject({ type: 'event_callback', token: 'vtoken', uuid: expect.any(String), ts: expect.any(String) });
    expect(envelope.event).toMatchObject({ type: 'approval_instance', app_id: LARK_APP, tenant_key: 'tenant-1', approval_code: 'APPROVAL-1', instance_code: code, status: 'APPROVED', operate_time: expect.any(String), uuid: expect.any(String) });
    lark.answer(first, 500);
    const second = await lark.next();
    expect(frameHeader(second, 'message_id')).not.toBe(frameHeader(first, 'message_id'));
    expect(JSON.parse(Buffer.from(second.payload!).toString()).uuid).toBe(envelope.uuid);
    lark.answer(second, 200);
    expect(await delivered).toEqual([{ via: 'long-connection', ok: true, attempts: 2 }]);
  });

  it('sends nothing for an approval code nobody subscribed, and says so', async () => {
    const emulator = await start();
    const lark = await openLark(emulator);
    const { deliveries } = await emulator.approve({ platform: 'lark', code: 'NOT-SUBSCRIBED', originator: 'u-1', approvers: ['u-2'], form: {} });
    expect(deliveries).toEqual([{ via: 'long-connection', ok: false, attempts: 0, error: expect.stringMatching(/not subscribed/) }]);
    expect(lark.seen).toEqual([]);
  });

  it('pushes contact.user.deleted_v3 (schema 2.0) when someone leaves', async () => {
    const emulator = await start();
    const lark = await openLark(emulator);
    const delivered = emulator.userLeft('lark', 'u-7');
    const frame = await lark.next();
    const envelope = JSON.parse(Buffer.from(frame.payload!).toString()) as Record<string, any>;
    expect(envelope).toMatchObject({
      schema: '2.0',
      header: { event_id: expect.any(String), event_type: 'contact.user.deleted_v3', create_time: expect.any(String), token: 'vtoken', app_id: LARK_APP, tenant_key: 'tenant-1' },
      event: { object: { user_id: 'u-7', open_id: expect.stringMatching(/^ou_[0-9a-f]{32}$/), union_id: expect.stringMatching(/^on_/), name: 'u-7' } },
    });
    lark.answer(frame, 200);
    expect((await delivered)[0]).toMatchObject({ ok: true, attempts: 1 });
  });
});
