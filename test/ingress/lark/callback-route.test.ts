import { describe, expect, it } from 'vitest';
import type { HttpServer } from '../../../src/ingress/http-server.js';
import { encryptLark, larkSignature } from '../../../src/ingress/lark/callback-crypto.js';
import { larkCallbackRoute } from '../../../src/ingress/lark/callback-route.js';
import { routeHarness } from '../route-harness.js';

const ENCRYPT_KEY = 'lark-route-encrypt-key';
const VERIFICATION_TOKEN = 'lark-route-verification-token';
const NOW = new Date('2026-11-28T01:00:00.000Z');

const serve = routeHarness();
const start = (encrypted = true) => serve((sink, log) => larkCallbackRoute({ ...(encrypted ? { encryptKey: ENCRYPT_KEY } : {}), verificationToken: VERIFICATION_TOKEN, sink, log, now: () => NOW }));

interface DeliveryOptions {
  encryptKey?: string | null;
  signKey?: string;
  timestamp?: string;
  signature?: string;
}

/** A callback as Lark sends it: the payload encrypted (unless encryptKey is null), the raw body signed. */
function deliver(server: HttpServer, payload: object, options: DeliveryOptions = {}) {
  const encryptKey = options.encryptKey === undefined ? ENCRYPT_KEY : options.encryptKey;
  const body = Buffer.from(encryptKey === null ? JSON.stringify(payload) : JSON.stringify({ encrypt: encryptLark(encryptKey, JSON.stringify(payload)) }));
  const timestamp = options.timestamp ?? String(Math.floor(NOW.getTime() / 1000) - 1);
  const nonce = 'lark-nonce-1';
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (encryptKey !== null) {
    headers['x-lark-request-timestamp'] = timestamp;
    headers['x-lark-request-nonce'] = nonce;
    headers['x-lark-signature'] = options.signature ?? larkSignature(timestamp, nonce, options.signKey ?? encryptKey, body);
  }
  return fetch(`${server.url}/ingress/lark`, { method: 'POST', headers, body });
}

const v1Approval = (status: string, uuid = 'uuid-1') => ({
  ts: '1764291600.5',
  uuid,
  token: VERIFICATION_TOKEN,
  type: 'event_callback',
  event: { app_id: 'cli_x', tenant_key: 't', type: 'approval_instance', approval_code: 'AC', instance_code: 'IC-1', status, operate_time: '1764291600000', uuid: 'inner-uuid' },
});

const v2UserDeleted = (eventId: string, token = VERIFICATION_TOKEN) => ({
  schema: '2.0',
  header: { event_id: eventId, event_type: 'contact.user.deleted_v3', create_time: '1764291600000', token, app_id: 'cli_x', tenant_key: 't' },
  event: { object: { open_id: 'ou_9', user_id: 'u9', union_id: 'on_9', name: 'Li Si' } },
});

describe('POST /ingress/lark', () => {
  it('answers the encrypted URL check with the challenge', async () => {
    const { server, notices } = await start();
    const response = await deliver(server, { challenge: 'ch-123', token: VERIFICATION_TOKEN, type: 'url_verification' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ challenge: 'ch-123' });
    expect(notices).toEqual([]);
  });

  it('hands an approved v1 instance to the sink once (the outer uuid as event id); a redelivery is answered 200 and logged', async () => {
    const { server, notices, lines } = await start();
    const first = await deliver(server, v1Approval('APPROVED'));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({});
    expect(notices).toEqual([{ kind: 'approval', platform: 'lark', eventId: 'uuid-1', instanceId: 'IC-1', processCode: 'AC', via: 'http' }]);
    const again = await deliver(server, v1Approval('APPROVED'));
    expect(again.status).toBe(200);
    expect(lines.some((line) => line.msg === 'redelivery ignored' && line.eventId === 'uuid-1')).toBe(true);
  });

  it('records a v2 departure with every id, ignores a pending instance', async () => {
    const { server, notices, lines } = await start();
    expect((await deliver(server, v2UserDeleted('ev-del-1'))).status).toBe(200);
    expect((await deliver(server, v1Approval('PENDING', 'uuid-2'))).status).toBe(200);
    expect(notices).toEqual([{ kind: 'user-left', platform: 'lark', eventId: 'ev-del-1', userIds: ['ou_9', 'u9', 'on_9'], at: NOW.toISOString(), via: 'http' }]);
    expect(lines.some((line) => line.msg === 'event ignored')).toBe(true);
  });

  it('accepts plain (unencrypted) callbacks when no Encrypt Key is configured', async () => {
    const { server, notices } = await start(false);
    const response = await deliver(server, v1Approval('APPROVED'), { encryptKey: null });
    expect(response.status).toBe(200);
    expect(notices).toHaveLength(1);
  });

  it.each([
    ['a forged signature', { signature: '0'.repeat(64) }, 'bad-signature'],
    ['a signature made with another key', { signKey: 'other-key' }, 'bad-signature'],
    ['a body encrypted with another key (signed with ours)', { encryptKey: 'other-key', signKey: ENCRYPT_KEY }, 'bad-encryption'],
    ['a timestamp 10 minutes old', { timestamp: String(Math.floor(NOW.getTime() / 1000) - 600) }, 'stale'],
  ] as const)('refuses %s with 401, records nothing', async (_name, options, reason) => {
    const { server, notices, lines } = await start();
    const response = await deliver(server, v1Approval('APPROVED'), options);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: expect.any(String), reason });
    expect(notices).toEqual([]);
    expect(lines.find((line) => line.msg === 'callback rejected')).toMatchObject({ level: 40, reason, ingress: 'lark' });
    expect(JSON.stringify(lines)).not.toContain(ENCRYPT_KEY);
  });

  it('refuses a wrong verification token with 401, with or without encryption', async () => {
    const encrypted = await start();
    const response = await deliver(encrypted.server, v2UserDeleted('ev-1', 'not-the-token'));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ reason: 'bad-signature' });
    const plain = await start(false);
    expect((await deliver(plain.server, { ...v1Approval('APPROVED'), token: 'forged' }, { encryptKey: null })).status).toBe(401);
    expect(encrypted.notices).toEqual([]);
    expect(plain.notices).toEqual([]);
    expect(JSON.stringify([...encrypted.lines, ...plain.lines])).not.toContain(VERIFICATION_TOKEN);
  });

  it('answers 500 when the sink cannot record, so Lark retries', async () => {
    const { server, state, notices } = await start();
    state.fail = true;
    expect((await deliver(server, v1Approval('APPROVED'))).status).toBe(500);
    state.fail = false;
    expect((await deliver(server, v1Approval('APPROVED'))).status).toBe(200);
    expect(notices).toHaveLength(1);
  });
});
