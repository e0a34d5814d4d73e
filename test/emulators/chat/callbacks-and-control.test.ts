import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatEmulator } from '../../../src/emulators/chat/chat-emulator.js';
import { dingtalkReply, dingtalkSignature, encryptDingtalk, verifyDingtalkCallback } from '../../../src/ingress/dingtalk/callback-crypto.js';
import { verifyLarkCallback, type LarkCallback } from '../../../src/ingress/lark/callback-crypto.js';
import { chatEmulators, subscribe } from './chat-fixture.js';

const APP_KEY = 'dingkey';
const AES_KEY = 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7';
const LARK_APP = 'cli_0123456789abcdef';
const LARK_SECRET = 'larksecret-do-not-show';

const start = chatEmulators({
  dingtalk: { appKey: APP_KEY, appSecret: 'dingsecret', corpId: 'dingcorp1' },
  lark: { appId: LARK_APP, appSecret: LARK_SECRET, tenantKey: 'tenant-1' },
  timing: { retryDelaysMs: [10, 20] },
});
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

type Answer = { status: number; body: string };
/** A tiny receiver: each request is read whole and answered by `answer` (which may throw to fail it). */
async function receiver(answer: (request: IncomingMessage, raw: Buffer) => Answer) {
  const requests: Array<{ url: URL; headers: IncomingMessage['headers']; raw: Buffer }> = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    requests.push({ url: new URL(request.url ?? '/', 'http://127.0.0.1'), headers: request.headers, raw });
    let reply: Answer;
    try {
      reply = answer(request, raw);
    } catch (error) {
      reply = { status: 401, body: (error as Error).message };
    }
    response.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback?app=1`, requests };
}

/** rollcall's own DingTalk check, replying as rollcall does. */
function dingtalkDaemon(events: unknown[]) {
  return (request: IncomingMessage, raw: Buffer): Answer => {
    const { event } = verifyDingtalkCallback({ query: new URL(request.url ?? '/', 'http://x').searchParams, body: raw, token: 'dtoken', encodingAesKey: AES_KEY, ownerKey: APP_KEY, now: new Date() });
    events.push(event);
    return { status: 200, body: JSON.stringify(dingtalkReply({ token: 'dtoken', encodingAesKey: AES_KEY, ownerKey: APP_KEY, now: new Date() })) };
  };
}

describe('DingTalk HTTP callbacks', () => {
  it('are sealed for the app and signed so that verifyDingtalkCallback accepts them, with EventType, CorpId and eventId', async () => {
    const events: unknown[] = [];
    const daemon = await receiver(dingtalkDaemon(events));
    const emulator = await start({ deliveries: { dingtalk: { callback: { url: daemon.url, token: 'dtoken', aesKey: AES_KEY } } } });
    const { instanceId, deliveries } = await emulator.approve({ platform: 'dingtalk', code: 'PROC-1', originator: 'u-1', approvers: ['u-2'], form: { login: 'bob' }, result: 'refuse' });
    expect(deliveries).toEqual([{ via: 'http', ok: true, status: 200, attempts: 1 }]);
    expect(events).toEqual([
      expect.objectContaining({ EventType: 'bpms_instance_change', CorpId: 'dingcorp1', eventId: expect.any(String), processInstanceId: instanceId, processCode: 'PROC-1', type: 'finish', result: 'refuse', staffId: 'u-1' }),
    ]);
    expect(daemon.requests[0]!.url.searchParams.get('app')).toBe('1'); // the URL's own query is kept

    await emulator.userLeft('dingtalk', 'u-5');
    expect(events[1]).toEqual({ EventType: 'user_leave_org', TimeStamp: expect.stringMatching(/^\d+$/), UserId: ['u-5'], CorpId: 'dingcorp1' });
  });

  it('count a reply that is not the sealed, signed "success" as failed, and try again', async () => {
    let calls = 0;
    const replies: Array<() => string> = [
      () => 'success', // plain text, as some guides wrongly say
      () => JSON.stringify({ ...dingtalkReply({ token: 'other-token', encodingAesKey: AES_KEY, ownerKey: APP_KEY, now: new Date() }) }), // wrong signature
      () => {
        const encrypt = encryptDingtalk(AES_KEY, 'fail', APP_KEY);
        const reply = dingtalkReply({ token: 'dtoken', encodingAesKey: AES_KEY, ownerKey: APP_KEY, now: new Date() });
        return JSON.stringify({ ...reply, encrypt, msg_signature: signatureOf(reply.timeStamp, reply.nonce, encrypt) });
      },
    ];
    const daemon = await receiver(() => ({ status: 200, body: replies[calls++]!() }));
    const emulator = await start({ deliveries: { dingtalk: { callback: { url: daemon.url, token: 'dtoken', aesKey: AES_KEY } } } });
    const [delivery] = await emulator.userLeft('dingtalk', 'u-1');
    expect(delivery).toMatchObject({ via: 'http', ok: false, status: 200, attempts: 3, error: expect.stringMatching(/not "success"/) });
    expect(daemon.requests).toHaveLength(3);

    // The same ladder, then a good reply: delivered on the 3rd attempt.
    calls = 0;
    replies.splice(0, 3, () => 'success', () => 'success', () => JSON.stringify(dingtalkReply({ token: 'dtoken', encodingAesKey: AES_KEY, ownerKey: APP_KEY, now: new Date() })));
    expect((await emulator.userLeft('dingtalk', 'u-1'))[0]).toMatchObject({ ok: true, attempts: 3 });
  });

  it('run the check_url handshake against the configured URL', async () => {
    const events: unknown[] = [];
    const daemon = await receiver(dingtalkDaemon(events));
    const emulator = await start();
    await expect(emulator.checkCallbackUrl('dingtalk')).rejects.toThrow(/no DingTalk callback/);
    emulator.configureDeliveries({ dingtalk: { callback: { url: daemon.url, token: 'dtoken', aesKey: AES_KEY } } });
    expect(await emulator.checkCallbackUrl('dingtalk')).toMatchObject({ ok: true, attempts: 1 });
    expect(events).toEqual([{ EventType: 'check_url' }]);
    emulator.configureDeliveries({ dingtalk: { callback: { url: daemon.url, token: 'wrong', aesKey: AES_KEY } } });
    expect(await emulator.checkCallbackUrl('dingtalk')).toMatchObject({ ok: false, status: 401 });
  });
});

/** A reply's signature under the right token. */
function signatureOf(timestamp: string, nonce: string, encrypt: string): string {
  return dingtalkSignature('dtoken', timestamp, nonce, encrypt);
}

describe('Lark HTTP callbacks', () => {
  for (const encryptKey of ['lark-encrypt-key', undefined]) {
    it(`are ${encryptKey ? 'encrypted and signed' : 'plain JSON'} so that verifyLarkCallback accepts them (v1 approval_instance, v2 contact.user.deleted_v3)`, async () => {
      const seen: LarkCallback[] = [];
      const daemon = await receiver((request, raw) => {
        seen.push(verifyLarkCallback({ headers: request.headers, rawBody: raw, ...(encryptKey ? { encryptKey } : {}), verificationToken: 'vtoken', now: new Date() }));
        return { status: 200, body: '{}' };
      });
      const emulator = await start({ deliveries: { lark: { callback: { url: daemon.url, verificationToken: 'vtoken', ...(encryptKey ? { encryptKey } : {}) } } } });
      await subscribe(emulator, 'APPROVAL-1', { appId: LARK_APP, appSecret: LARK_SECRET });
      const { instanceId, deliveries } = await emulator.approve({ platform: 'lark', code: 'APPROVAL-1', originator: 'u-1', approvers: ['u-2'], form: {} });
      expect(deliveries).toEqual([{ via: 'http', ok: true, status: 200, attempts: 1 }]);
      await emulator.userLeft('lark', 'u-3');
      expect(seen[0]).toMatchObject({ kind: 'event', eventType: 'approval_instance', eventId: expect.any(String), event: { instance_code: instanceId, status: 'APPROVED', approval_code: 'APPROVAL-1', tenant_key: 'tenant-1' } });
      expect(seen[1]).toMatchObject({ kind: 'event', eventType: 'contact.user.deleted_v3', event: { object: { user_id: 'u-3' } } });
      expect(JSON.parse(daemon.requests[0]!.raw.toString())).toHaveProperty(encryptKey ? 'encrypt' : 'uuid');
      expect(daemon.requests[0]!.headers['x-lark-signature'] !== undefined).toBe(encryptKey !== undefined);
    });
  }

  it('are tried again after a non-200, and the URL verification wants the challenge echoed', async () => {
    let failures = 1;
    const daemon = await receiver((request, raw) => {
      const callback = verifyLarkCallback({ headers: request.headers, rawBody: raw, encryptKey: 'k', verificationToken: 'vtoken', now: new Date() });
      if (callback.kind === 'challenge') return { status: 200, body: JSON.stringify({ challenge: callback.challenge }) };
      return failures-- > 0 ? { status: 503, body: '{}' } : { status: 200, body: '{}' };
    });
    const emulator = await start({ deliveries: { lark: { callback: { url: daemon.url, verificationToken: 'vtoken', encryptKey: 'k' } } } });
    expect((await emulator.userLeft('lark', 'u-1'))[0]).toMatchObject({ ok: true, attempts: 2 });
    expect(await emulator.checkCallbackUrl('lark')).toMatchObject({ ok: true });

    const mute = await receiver(() => ({ status: 200, body: '{}' }));
    emulator.configureDeliveries({ lark: { callback: { url: mute.url, verificationToken: 'vtoken' } } });
    expect(await emulator.checkCallbackUrl('lark')).toMatchObject({ ok: false, error: expect.stringMatching(/challenge/) });
  });

  it('report an unreachable URL after the last attempt', async () => {
    const emulator = await start({ deliveries: { lark: { callback: { url: 'http://127.0.0.1:1/nothing', verificationToken: 'v' } } } });
    const [delivery] = await emulator.userLeft('lark', 'u-1');
    expect(delivery).toMatchObject({ via: 'http', ok: false, attempts: 3, error: expect.stringMatching(/POST http:\/\/127\.0\.0\.1:1\/nothing failed/) });
  });
});

describe('control API', () => {
  async function call(emulator: ChatEmulator, method: string, path: string, body?: unknown) {
    const response = await fetch(emulator.url + path, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  it('POST /emulator/approvals creates, completes and delivers, answering with the deliveries', async () => {
    const events: unknown[] = [];
    const daemon = await receiver(dingtalkDaemon(events));
    const emulator = await start({ deliveries: { dingtalk: { callback: { url: daemon.url, token: 'dtoken', aesKey: AES_KEY } } } });
    const answer = await call(emulator, 'POST', '/emulator/approvals', { platform: 'dingtalk', code: 'PROC-ONBOARD', originator: 'hr-1', approvers: ['boss'], form: { 工号: 'E1', 账号: 'zhangsan' } });
    expect(answer).toEqual({ status: 200, body: { instanceId: expect.any(String), deliveries: [{ via: 'http', ok: true, status: 200, attempts: 1 }] } });
    expect(events).toEqual([expect.objectContaining({ processInstanceId: answer.body.instanceId, result: 'agree' })]);

    // The instance is there for rollcall to confirm through the open API.
    const token = ((await call(emulator, 'POST', '/v1.0/oauth2/accessToken', { appKey: APP_KEY, appSecret: 'dingsecret' })).body).accessToken as string;
    const instance = await fetch(`${emulator.url}/v1.0/workflow/processInstances?processInstanceId=${answer.body.instanceId}`, { headers: { 'x-acs-dingtalk-access-token': token } });
    expect(((await instance.json()) as { result: Record<string, unknown> }).result).toMatchObject({ status: 'COMPLETED', result: 'agree', formComponentValues: [{ name: '工号', value: 'E1' }, { name: '账号', value: 'zhangsan' }] });

    const left = await call(emulator, 'POST', '/emulator/users/left', { platform: 'dingtalk', userId: 'u-9' });
    expect(left).toEqual({ status: 200, body: { deliveries: [{ via: 'http', ok: true, status: 200, attempts: 1 }] } });
  });

  it('answers 400 with what to fix', async () => {
    const emulator = await start();
    const missing = await call(emulator, 'POST', '/emulator/approvals', { platform: 'wechat', code: '', approvers: [], form: { a: 1 } });
    expect(missing.status).toBe(400);
    for (const field of ['platform', 'code', 'originator', 'approvers', 'form.a']) expect(missing.body.error).toContain(field);
    const extra = await call(emulator, 'POST', '/emulator/approvals', { platform: 'lark', code: 'A', originator: 'o', approvers: ['a'], form: {}, reslt: 'agree' });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toMatch(/reslt/);
    expect((await call(emulator, 'POST', '/emulator/users/left', { platform: 'lark' })).body.error).toMatch(/userId/);
    expect((await call(emulator, 'POST', '/emulator/users/left')).status).toBe(400);
    expect((await call(emulator, 'GET', '/emulator/nothing')).status).toBe(404);
  });

  it('GET /emulator shows the configuration without secrets, and follows configureDeliveries', async () => {
    const emulator = await start();
    emulator.configureDeliveries({ dingtalk: { stream: true, callback: { url: 'http://127.0.0.1:9/cb', token: 'dtoken-secret', aesKey: AES_KEY } }, lark: { longConnection: true, callback: { url: 'http://127.0.0.1:9/lark', verificationToken: 'vtoken-secret', encryptKey: 'ekey-secret' } } });
    const { status, body } = await call(emulator, 'GET', '/emulator');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      url: emulator.url,
      dingtalk: { apiBase: emulator.url, appKey: APP_KEY, corpId: 'dingcorp1', gateway: `${emulator.url}/v1.0/gateway/connections/open`, callback: 'http://127.0.0.1:9/cb', stream: true, streamConnections: 0 },
      lark: { domain: emulator.url, appId: LARK_APP, callback: 'http://127.0.0.1:9/lark', encrypted: true, longConnection: true, subscriptions: [] },
    });
    const text = JSON.stringify(body);
    for (const secret of ['dingsecret', 'larksecret-do-not-show', 'dtoken-secret', AES_KEY, 'vtoken-secret', 'ekey-secret']) expect(text).not.toContain(secret);
  });
});
