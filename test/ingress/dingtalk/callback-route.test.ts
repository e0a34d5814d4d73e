import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/config/logger.js';
import { decryptDingtalk, dingtalkSignature, encryptDingtalk } from '../../../src/ingress/dingtalk/callback-crypto.js';
import { dingtalkCallbackRoute } from '../../../src/ingress/dingtalk/callback-route.js';
import type { HttpServer } from '../../../src/ingress/http-server.js';
import { routeHarness } from '../route-harness.js';

const TOKEN = 'route-token-9f3a';
const AES_KEY = 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7';
const OTHER_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APP_KEY = 'dingrouteappkey01';
const NOW = new Date('2026-11-28T01:00:00.000Z');

const serve = routeHarness();
const start = () => serve((sink, log) => dingtalkCallbackRoute({ token: TOKEN, encodingAesKey: AES_KEY, appKey: APP_KEY, sink, log, now: () => NOW }));

interface DeliveryOptions {
  token?: string;
  aesKey?: string;
  ownerKey?: string;
  timestamp?: string;
  nonce?: string;
  signature?: string;
}

/** A push as DingTalk sends it: `{encrypt}` sealed with the AES key, signed with the token in the query. */
function deliver(server: HttpServer, event: object, options: DeliveryOptions = {}) {
  const timestamp = options.timestamp ?? String(NOW.getTime() - 2_000);
  const nonce = options.nonce ?? 'nOnCe123';
  const encrypt = encryptDingtalk(options.aesKey ?? AES_KEY, JSON.stringify(event), options.ownerKey ?? APP_KEY);
  const signature = options.signature ?? dingtalkSignature(options.token ?? TOKEN, timestamp, nonce, encrypt);
  return fetch(`${server.url}/ingress/dingtalk?msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ encrypt }),
  });
}

/** The reply must be the sealed, signed "success" DingTalk waits for. */
async function expectSuccessReply(response: Response) {
  expect(response.status).toBe(200);
  const body = (await response.json()) as { msg_signature: string; timeStamp: string; nonce: string; encrypt: string };
  expect(body.timeStamp).toBe(String(NOW.getTime()));
  expect(body.msg_signature).toBe(dingtalkSignature(TOKEN, body.timeStamp, body.nonce, body.encrypt));
  expect(decryptDingtalk(AES_KEY, body.encrypt, APP_KEY)).toBe('success');
}

const FINISH = { EventType: 'bpms_instance_change', processInstanceId: 'pi-42', processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree', corpId: 'ding-corp' };

describe('POST /ingress/dingtalk', () => {
  it('answers the URL check with the sealed success and records nothing', async () => {
    const { server, notices } = await start();
    await expectSuccessReply(await deliver(server, { EventType: 'check_url' }));
    expect(notices).toEqual([]);
  });

  it('hands a finished approval to the sink once and answers success; a redelivery is answered success and logged', async () => {
    const { server, notices, lines } = await start();
    await expectSuccessReply(await deliver(server, { ...FINISH, eventId: 'ev-1' }));
    expect(notices).toEqual([{ kind: 'approval', platform: 'dingtalk', eventId: 'ev-1', instanceId: 'pi-42', via: 'http', processCode: 'PROC-ONBOARD' }]);
    expect(lines.some((line) => line.msg === 'notice recorded' && line.eventId === 'ev-1')).toBe(true);

    await expectSuccessReply(await deliver(server, { ...FINISH, eventId: 'ev-1' }, { nonce: 'another1' }));
    expect(notices).toHaveLength(2);
    expect(lines.some((line) => line.msg === 'redelivery ignored' && line.eventId === 'ev-1')).toBe(true);
  });

  it('dedupes pushes without an eventId on their content', async () => {
    const { server, notices, lines } = await start();
    await expectSuccessReply(await deliver(server, FINISH));
    await expectSuccessReply(await deliver(server, FINISH));
    expect(notices.map((notice) => notice.eventId)).toEqual(['bpms_instance_change:pi-42:finish', 'bpms_instance_change:pi-42:finish']);
    expect(lines.filter((line) => line.msg === 'redelivery ignored')).toHaveLength(1);
  });

  it('records a departure and ignores other events, answering success to both', async () => {
    const { server, notices, lines } = await start();
    await expectSuccessReply(await deliver(server, { EventType: 'user_leave_org', UserId: ['u-7'], TimeStamp: '1764291600000', eventId: 'leave-1' }));
    await expectSuccessReply(await deliver(server, { ...FINISH, type: 'start', eventId: 'ev-2' }));
    await expectSuccessReply(await deliver(server, { EventType: 'org_dept_create', eventId: 'ev-3' }));
    expect(notices).toEqual([{ kind: 'user-left', platform: 'dingtalk', eventId: 'leave-1', userIds: ['u-7'], at: '2025-11-28T01:00:00.000Z', via: 'http' }]);
    expect(lines.filter((line) => line.msg === 'event ignored')).toHaveLength(2);
  });

  it.each([
    ['a forged signature', { signature: 'f'.repeat(40) }, 'bad-signature'],
    ['another token', { token: 'not-the-token' }, 'bad-signature'],
    ['another AES key', { aesKey: OTHER_AES_KEY }, 'bad-encryption'],
    ['another app', { ownerKey: 'dingsomeoneelse' }, 'wrong-owner'],
    ['a timestamp 6 minutes old', { timestamp: String(NOW.getTime() - 6 * 60_000) }, 'stale'],
    ['a timestamp 6 minutes ahead', { timestamp: String(NOW.getTime() + 6 * 60_000) }, 'stale'],
  ] as const)('refuses %s with 401 and the reason, records nothing, logs a warning without secrets', async (_name, options, reason) => {
    const { server, notices, lines } = await start();
    const response = await deliver(server, { ...FINISH, eventId: 'ev-x' }, options);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: expect.any(String), reason });
    expect(notices).toEqual([]);
    const warning = lines.find((line) => line.msg === 'callback rejected');
    expect(warning).toMatchObject({ level: 40, reason, ingress: 'dingtalk' });
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain(AES_KEY);
  });

  it('answers 500 when the sink cannot record, so DingTalk pushes again; the next push is recorded', async () => {
    const { server, notices, state, lines } = await start();
    state.fail = true;
    const failed = await deliver(server, { ...FINISH, eventId: 'ev-9' });
    expect(failed.status).toBe(500);
    expect(lines.some((line) => line.msg === 'notice not recorded' && line.level === 50)).toBe(true);
    state.fail = false;
    await expectSuccessReply(await deliver(server, { ...FINISH, eventId: 'ev-9' }));
    expect(notices).toHaveLength(1);
  });

  it('refuses a bad AES key when the route is made, not at the first push', () => {
    const log = createLogger({ ROLLCALL_LOG_LEVEL: 'silent' });
    expect(() => dingtalkCallbackRoute({ token: TOKEN, encodingAesKey: 'short', appKey: APP_KEY, sink: () => true, log })).toThrow(/43 base64 characters/);
  });
});
