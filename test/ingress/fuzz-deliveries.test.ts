import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { firstHeartbeatEvent } from '../../src/emulators/ecs/first-heartbeat-event.js';
import { dingtalkSignature, encryptDingtalk } from '../../src/ingress/dingtalk/callback-crypto.js';
import { dingtalkCallbackRoute } from '../../src/ingress/dingtalk/callback-route.js';
import { checkEventBridgeSecret, readCloudEvents } from '../../src/ingress/eventbridge/cloud-events.js';
import { startHttpServer, type HttpServer, type Route } from '../../src/ingress/http-server.js';
import type { IngressNotice } from '../../src/ingress/ingress-notice.js';
import { encryptLark, larkSignature } from '../../src/ingress/lark/callback-crypto.js';
import { larkCallbackRoute } from '../../src/ingress/lark/callback-route.js';
import { seededRandom } from '../reliability/seeded-random.js';

/*
 * Thousands of hostile or broken deliveries, generated from a seeded PRNG, against a real server
 * with both platform routes and an EventBridge route: each must get exactly the status decided
 * for its kind, the sink must never be called, no secret may reach the log, and the server must
 * still serve a valid delivery afterwards.
 *
 * Statuses: any delivery that fails verification → 401 (platform routes), a wrong or missing
 * X-Rollcall-Secret → 401, a body that is not CloudEvents → 400, a content type that cannot hold
 * them → 415, a body over the limit → 413, an unknown path → 404, another method → 405.
 */

const SEED = 0x5eed_1234;
const DELIVERIES = 3000;
const CONCURRENCY = 24;
const MAX_BODY = 8 * 1024;

const DT = { token: 'fuzz-dt-token', aesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7', appKey: 'dingfuzzappkey' };
const DT_OTHER_AES = 'ZZZ0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7';
const LARK = { encryptKey: 'fuzz-lark-encrypt-key', verificationToken: 'fuzz-lark-verification' };
const EB_SECRET = 'fuzz-eventbridge-secret';
const SECRETS = [DT.token, DT.aesKey, LARK.encryptKey, LARK.verificationToken, EB_SECRET];
const NOW = new Date('2026-11-28T01:00:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

/** The suite's seeded generator, with the byte and word helpers the deliveries are made of. */
function prng(seed: number) {
  const random = seededRandom(seed);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => random.int(0, 255)));
  const word = (n: number) => Array.from({ length: n }, () => random.pick([...'abcdefghijklmnopqrstuvwxyz0123456789'])).join('');
  return { next: () => random.next(), int: (min: number, max: number) => random.int(min, max), bytes, pick: <T>(values: readonly T[]): T => random.pick(values), word };
}
type Random = ReturnType<typeof prng>;

interface Delivery {
  kind: string;
  method: string;
  path: string;
  query?: string;
  headers: Record<string, string>;
  body?: Buffer;
  expected: number;
}

const approvalEvent = (r: Random) => ({ EventType: 'bpms_instance_change', eventId: r.word(12), processInstanceId: r.word(16), processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree' });
const larkApproval = (r: Random) => ({ uuid: r.word(16), token: LARK.verificationToken, ts: String(NOW_S), type: 'event_callback', event: { type: 'approval_instance', instance_code: r.word(16), status: 'APPROVED' } });

/** A well-formed DingTalk push, for the generators to damage. */
function dingtalkPush(r: Random, overrides: { token?: string; aesKey?: string; owner?: string; timestamp?: number; encrypt?: (encrypt: string) => string; resign?: boolean } = {}) {
  const timestamp = String(overrides.timestamp ?? NOW.getTime() - r.int(0, 60_000));
  const nonce = r.word(8);
  const sealed = encryptDingtalk(overrides.aesKey ?? DT.aesKey, JSON.stringify(approvalEvent(r)), overrides.owner ?? DT.appKey, r.bytes(16));
  const encrypt = overrides.encrypt ? overrides.encrypt(sealed) : sealed;
  const signed = overrides.resign === false ? sealed : encrypt;
  const signature = dingtalkSignature(overrides.token ?? DT.token, timestamp, nonce, signed);
  return { query: `msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`, body: Buffer.from(JSON.stringify({ encrypt })) };
}

/** A well-formed Lark callback (encrypted, signed), for the generators to damage. */
function larkPush(r: Random, overrides: { encryptKey?: string; signKey?: string; timestamp?: number; payload?: object; body?: (body: Buffer) => Buffer; resign?: boolean } = {}) {
  const body = Buffer.from(JSON.stringify({ encrypt: encryptLark(overrides.encryptKey ?? LARK.encryptKey, JSON.stringify(overrides.payload ?? larkApproval(r)), r.bytes(16)) }));
  const sent = overrides.body ? overrides.body(body) : body;
  const timestamp = String(overrides.timestamp ?? NOW_S - r.int(0, 60));
  const nonce = r.word(10);
  const signature = larkSignature(timestamp, nonce, overrides.signKey ?? LARK.encryptKey, overrides.resign === false ? body : sent);
  return { headers: { 'content-type': 'application/json', 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': nonce, 'x-lark-signature': signature }, body: sent };
}

/** Flips one bit of a base64 ciphertext at a byte in [from, to) (negative: from the end). */
function flipBit(r: Random, encrypt: string, fromEnd?: number): string {
  const raw = Buffer.from(encrypt, 'base64');
  const index = fromEnd === undefined ? r.int(0, raw.length - 1) : raw.length - r.int(1, fromEnd);
  raw[index] = raw[index]! ^ (1 << r.int(0, 7));
  return raw.toString('base64');
}

const oversized = (r: Random) => Buffer.alloc(MAX_BODY + r.int(1, 4 * MAX_BODY), 'x');
const cloudEvent = (r: Random) => firstHeartbeatEvent({ accountId: '1', regionId: 'cn-hangzhou', instanceId: `i-${r.word(10)}`, firstHeartbeatTime: NOW });
const ebHeaders = (contentType = 'application/cloudevents+json') => ({ 'content-type': contentType, 'x-rollcall-secret': EB_SECRET });

const GENERATORS: Array<(r: Random) => Delivery> = [
  // DingTalk: every one of these fails verification → 401.
  (r) => ({ kind: 'dt-forged-signature', method: 'POST', path: '/ingress/dingtalk', ...withQuery(dingtalkPush(r), (q) => q.replace(/msg_signature=[0-9a-f]+/, `msg_signature=${r.bytes(20).toString('hex')}`)), headers: { 'content-type': 'application/json' }, expected: 401 }),
  (r) => ({ kind: 'dt-replay-old', method: 'POST', path: '/ingress/dingtalk', ...dingtalkPush(r, { timestamp: NOW.getTime() - 5 * 60_000 - r.int(1_000, 10 ** 9) }), headers: {}, expected: 401 }),
  (r) => ({ kind: 'dt-replay-future', method: 'POST', path: '/ingress/dingtalk', ...dingtalkPush(r, { timestamp: NOW.getTime() + 5 * 60_000 + r.int(1_000, 10 ** 9) }), headers: {}, expected: 401 }),
  (r) => ({ kind: 'dt-wrong-token', method: 'POST', path: '/ingress/dingtalk', ...dingtalkPush(r, { token: r.word(12) }), headers: {}, expected: 401 }),
  (r) => ({ kind: 'dt-wrong-aes-key', method: 'POST', path: '/ingress/dingtalk', ...dingtalkPush(r, { aesKey: DT_OTHER_AES }), headers: {}, expected: 401 }),
  (r) => ({ kind: 'dt-wrong-owner', method: 'POST', path: '/ingress/dingtalk', ...dingtalkPush(r, { owner: `ding${r.word(12)}` }), headers: {}, expected: 401 }),
  (r) => ({ kind: 'dt-bitflip-unsigned', method: 'POST', path: '/ingress/dingtalk', ...dingtalkPush(r, { encrypt: (e) => flipBit(r, e), resign: false }), headers: {}, expected: 401 }),
  // Re-signed (as if the token leaked): a flip in the last block garbles padding and owner key.
  (r) => ({ kind: 'dt-bitflip-resigned', method: 'POST', path: '/ingress/dingtalk', ...dingtalkPush(r, { encrypt: (e) => flipBit(r, e, 16) }), headers: {}, expected: 401 }),
  (r) => ({ kind: 'dt-truncated-encrypt', method: 'POST', path: '/ingress/dingtalk', ...dingtalkPush(r, { encrypt: (e) => e.slice(0, r.int(0, e.length - 1)) }), headers: {}, expected: 401 }),
  (r) => {
    const push = dingtalkPush(r);
    return { kind: 'dt-truncated-body', method: 'POST', path: '/ingress/dingtalk', query: push.query, body: push.body.subarray(0, r.int(0, push.body.length - 1)), headers: {}, expected: 401 };
  },
  (r) => ({ kind: 'dt-random-bytes', method: 'POST', path: '/ingress/dingtalk', query: dingtalkPush(r).query, body: r.bytes(r.int(1, 2048)), headers: { 'content-type': r.pick(['application/json', 'text/plain', 'application/octet-stream']) }, expected: 401 }),
  (r) => ({ kind: 'dt-no-query', method: 'POST', path: '/ingress/dingtalk', body: dingtalkPush(r).body, headers: { 'content-type': 'application/json' }, expected: 401 }),
  (r) => ({ kind: 'dt-not-json', method: 'POST', path: '/ingress/dingtalk', query: dingtalkPush(r).query, body: Buffer.from(`encrypt=${r.word(40)}`), headers: { 'content-type': 'application/x-www-form-urlencoded' }, expected: 401 }),
  (r) => ({ kind: 'dt-oversized', method: 'POST', path: '/ingress/dingtalk', query: dingtalkPush(r).query, body: oversized(r), headers: {}, expected: 413 }),
  (r) => ({ kind: 'dt-wrong-method', method: r.pick(['GET', 'PUT', 'DELETE']), path: '/ingress/dingtalk', headers: {}, expected: 405 }),

  // Lark: every one of these fails verification → 401.
  (r) => ({ kind: 'lark-forged-signature', method: 'POST', path: '/ingress/lark', ...withHeader(larkPush(r), 'x-lark-signature', r.bytes(32).toString('hex')), expected: 401 }),
  (r) => ({ kind: 'lark-no-signature', method: 'POST', path: '/ingress/lark', ...withHeader(larkPush(r), 'x-lark-signature', undefined), expected: 401 }),
  (r) => ({ kind: 'lark-replay-old', method: 'POST', path: '/ingress/lark', ...larkPush(r, { timestamp: NOW_S - 301 - r.int(0, 10 ** 6) }), expected: 401 }),
  (r) => ({ kind: 'lark-replay-future', method: 'POST', path: '/ingress/lark', ...larkPush(r, { timestamp: NOW_S + 301 + r.int(0, 10 ** 6) }), expected: 401 }),
  (r) => ({ kind: 'lark-wrong-sign-key', method: 'POST', path: '/ingress/lark', ...larkPush(r, { signKey: r.word(16) }), expected: 401 }),
  (r) => ({ kind: 'lark-wrong-encrypt-key', method: 'POST', path: '/ingress/lark', ...larkPush(r, { encryptKey: r.word(16) }), expected: 401 }),
  (r) => ({ kind: 'lark-wrong-verification-token', method: 'POST', path: '/ingress/lark', ...larkPush(r, { payload: { ...larkApproval(r), token: r.word(20) } }), expected: 401 }),
  (r) => ({ kind: 'lark-truncated-unsigned', method: 'POST', path: '/ingress/lark', ...larkPush(r, { body: (b) => b.subarray(0, r.int(0, b.length - 1)), resign: false }), expected: 401 }),
  (r) => ({ kind: 'lark-truncated-resigned', method: 'POST', path: '/ingress/lark', ...larkPush(r, { body: (b) => b.subarray(0, r.int(1, b.length - 1)) }), expected: 401 }),
  (r) => ({
    kind: 'lark-bitflip-resigned',
    method: 'POST',
    path: '/ingress/lark',
    ...larkPush(r, { body: (b) => Buffer.from(JSON.stringify({ encrypt: flipBit(r, (JSON.parse(b.toString()) as { encrypt: string }).encrypt, 16) })) }),
    expected: 401,
  }),
  (r) => ({ kind: 'lark-random-bytes-resigned', method: 'POST', path: '/ingress/lark', ...larkPush(r, { body: () => r.bytes(r.int(1, 2048)) }), expected: 401 }),
  (r) => ({ kind: 'lark-plain-unencrypted', method: 'POST', path: '/ingress/lark', ...larkPush(r, { body: () => Buffer.from(JSON.stringify(larkApproval(r))), resign: false }), expected: 401 }),
  (r) => ({ kind: 'lark-wrong-content-type', method: 'POST', path: '/ingress/lark', ...withHeader(withHeader(larkPush(r), 'content-type', r.pick(['text/plain', 'application/xml', 'multipart/form-data'])), 'x-lark-signature', r.bytes(32).toString('hex')), expected: 401 }),
  (r) => ({ kind: 'lark-oversized', method: 'POST', path: '/ingress/lark', headers: { 'content-type': 'application/json' }, body: oversized(r), expected: 413 }),
  (r) => ({ kind: 'lark-wrong-method', method: r.pick(['GET', 'PUT', 'DELETE']), path: '/ingress/lark', headers: {}, expected: 405 }),

  // EventBridge.
  (r) => ({ kind: 'eb-no-secret', method: 'POST', path: '/ingress/eventbridge', headers: { 'content-type': 'application/cloudevents+json' }, body: Buffer.from(JSON.stringify(cloudEvent(r))), expected: 401 }),
  (r) => ({ kind: 'eb-wrong-secret', method: 'POST', path: '/ingress/eventbridge', headers: { ...ebHeaders(), 'x-rollcall-secret': r.word(r.int(1, 40)) }, body: Buffer.from(JSON.stringify(cloudEvent(r))), expected: 401 }),
  (r) => ({ kind: 'eb-not-json', method: 'POST', path: '/ingress/eventbridge', headers: ebHeaders(), body: Buffer.from(`id=${r.word(8)}&source=acs.ecs`), expected: 400 }),
  (r) => ({ kind: 'eb-random-bytes', method: 'POST', path: '/ingress/eventbridge', headers: ebHeaders(r.pick(['application/json', 'application/cloudevents+json'])), body: Buffer.concat([Buffer.from('\x00'), r.bytes(r.int(1, 2048))]), expected: 400 }),
  (r) => {
    const body = Buffer.from(JSON.stringify([cloudEvent(r), cloudEvent(r)]));
    return { kind: 'eb-truncated', method: 'POST', path: '/ingress/eventbridge', headers: ebHeaders('application/cloudevents-batch+json'), body: body.subarray(0, r.int(0, body.length - 1)), expected: 400 };
  },
  (r) => {
    const event: Record<string, unknown> = { ...cloudEvent(r) };
    delete event[r.pick(['id', 'source', 'type'])];
    return { kind: 'eb-not-cloudevent', method: 'POST', path: '/ingress/eventbridge', headers: ebHeaders(), body: Buffer.from(JSON.stringify(event)), expected: 400 };
  },
  (r) => ({ kind: 'eb-wrong-content-type', method: 'POST', path: '/ingress/eventbridge', headers: ebHeaders(r.pick(['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])), body: Buffer.from(JSON.stringify(cloudEvent(r))), expected: 415 }),
  (r) => ({ kind: 'eb-oversized', method: 'POST', path: '/ingress/eventbridge', headers: ebHeaders(), body: oversized(r), expected: 413 }),
  // A valid Cloud Assistant event: accepted, and still no notice.
  (r) => ({ kind: 'eb-heartbeat', method: 'POST', path: '/ingress/eventbridge', headers: ebHeaders(), body: Buffer.from(JSON.stringify(cloudEvent(r))), expected: 200 }),
  (r) => ({ kind: 'unknown-path', method: r.pick(['GET', 'POST']), path: r.pick(['/ingress', '/ingress/dingtalk/', '/ingress/DINGTALK', `/${r.word(6)}`, '/ingress/lark/x']), headers: {}, expected: 404 }),
];

function withQuery(push: { query: string; body: Buffer }, change: (query: string) => string) {
  return { query: change(push.query), body: push.body };
}

function withHeader(push: { headers: Record<string, string>; body: Buffer }, name: string, value: string | undefined) {
  const headers = { ...push.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = value;
  return { headers, body: push.body };
}

let server: HttpServer;
const notices: IngressNotice[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  const log = createLogger({ ROLLCALL_LOG_LEVEL: 'info' }, { write: (line: string) => logLines.push(line) });
  const sink = (notice: IngressNotice) => {
    notices.push(notice);
    return true;
  };
  const eventBridge: Route = {
    method: 'POST',
    path: '/ingress/eventbridge',
    handle(request) {
      if (!checkEventBridgeSecret(request.headers, EB_SECRET)) return { status: 401, body: { error: 'missing or wrong X-Rollcall-Secret header' } };
      const read = readCloudEvents(request.body, { headers: request.headers, receivedAt: NOW });
      if (!read.ok) return { status: read.status, body: { error: read.error } };
      for (const event of read.events) if (event.kind === 'notice') sink(event.notice);
      return { status: 200, body: { accepted: read.events.length } };
    },
  };
  server = await startHttpServer({
    port: 0,
    log,
    maxBodyBytes: MAX_BODY,
    routes: [
      dingtalkCallbackRoute({ token: DT.token, encodingAesKey: DT.aesKey, appKey: DT.appKey, sink, log, now: () => NOW }),
      larkCallbackRoute({ ...LARK, sink, log, now: () => NOW }),
      eventBridge,
    ],
  });
});

afterAll(async () => {
  await server.close();
});

async function send(delivery: Delivery): Promise<number> {
  const url = `${server.url}${delivery.path}${delivery.query ? `?${delivery.query}` : ''}`;
  const response = await fetch(url, { method: delivery.method, headers: delivery.headers, ...(delivery.body !== undefined && delivery.method !== 'GET' ? { body: delivery.body } : {}) });
  await response.arrayBuffer();
  return response.status;
}

describe('fuzzed deliveries', () => {
  it(`answers ${DELIVERIES} broken or hostile deliveries with the decided status and never calls the sink`, { timeout: 30_000 }, async () => {
    const r = prng(SEED);
    const deliveries = Array.from({ length: DELIVERIES }, () => r.pick(GENERATORS)(r));
    const mismatches: string[] = [];
    const byKind = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++]!;
        byKind.set(delivery.kind, (byKind.get(delivery.kind) ?? 0) + 1);
        const status = await send(delivery);
        if (status !== delivery.expected) mismatches.push(`${delivery.kind}: expected ${delivery.expected}, got ${status}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(mismatches.slice(0, 20)).toEqual([]);
    // Every generator ran, several times.
    expect(byKind.size).toBe(GENERATORS.length);
    expect(Math.min(...byKind.values())).toBeGreaterThan(20);
    expect(notices).toEqual([]);
    const log = logLines.join('');
    for (const secret of SECRETS) expect(log).not.toContain(secret);
  });

  it('still serves valid deliveries on every route afterwards', async () => {
    const r = prng(SEED + 1);
    const dingtalk = dingtalkPush(r);
    expect(await send({ kind: 'valid', method: 'POST', path: '/ingress/dingtalk', query: dingtalk.query, body: dingtalk.body, headers: { 'content-type': 'application/json' }, expected: 200 })).toBe(200);
    const lark = larkPush(r);
    expect(await send({ kind: 'valid', method: 'POST', path: '/ingress/lark', ...lark, expected: 200 })).toBe(200);
    const bridged = { id: 'ce-valid', source: 'lark.approval', type: 'lark.event', data: larkApproval(r) };
    expect(await send({ kind: 'valid', method: 'POST', path: '/ingress/eventbridge', headers: ebHeaders(), body: Buffer.from(JSON.stringify(bridged)), expected: 200 })).toBe(200);
    expect(notices.map((notice) => [notice.platform, notice.via])).toEqual([
      ['dingtalk', 'http'],
      ['lark', 'http'],
      ['lark', 'eventbridge'],
    ]);
  });
});
