import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LARK_MAX_BODY_BYTES, LarkBot } from '../../../src/notify/robots/lark-bot.js';
import type { RobotReply } from '../../../src/notify/robots/robot.js';
import { startFakeRobots, type FakeRobots } from './fake-robots.js';

const TOKEN = '5f0e2c1a-9b7d-4e1f-8a2b-0c3d4e5f6a7b';
const SECRET = 'l4rkB0tS1gn1ngSecretXYZ';
/** 45 s into a minute, so the rest of the minute is 15 s. */
const NOW = 1_700_000_040_000 + 45_000;
const MESSAGE = { msg_type: 'text', content: { text: 'rollcall: plan for abc1234' } };

let fake: FakeRobots;
beforeEach(async () => {
  fake = await startFakeRobots({ dingtalk: { token: 'unused' }, lark: { token: TOKEN, secret: SECRET }, now: () => NOW });
});
afterEach(() => fake.close());

const bot = (options: { secret?: string; now?: number; url?: string } = {}) =>
  new LarkBot({ webhookUrl: options.url ?? fake.larkUrl(), secret: 'secret' in options ? options.secret : SECRET, now: () => options.now ?? NOW });

describe('LarkBot', () => {
  it('signs in the body (timestamp in seconds as a string; key = timestamp\\nsecret, empty message)', async () => {
    expect(NOW % 60_000).toBe(45_000);
    expect(await bot().send(MESSAGE)).toEqual({ ok: true });
    const [request] = fake.requests;
    const timestamp = String(Math.floor(NOW / 1_000));
    expect(request?.token).toBe(TOKEN);
    expect(request?.body).toEqual({ ...MESSAGE, timestamp, sign: createHmac('sha256', `${timestamp}\n${SECRET}`).update('').digest('base64') });
    expect([...(request?.query.keys() ?? [])]).toEqual([]);
  });

  it('sends the message alone without a secret', async () => {
    const open = await startFakeRobots({ dingtalk: { token: 'x' }, lark: { token: TOKEN } });
    try {
      expect(await new LarkBot({ webhookUrl: open.larkUrl() }).send(MESSAGE)).toEqual({ ok: true });
      expect(open.requests[0]?.body).toEqual(MESSAGE);
    } finally {
      await open.close();
    }
  });

  it('a wrong secret → 19021, never, says to fix the secret or the clock', async () => {
    const reply = await bot({ secret: 'wrong' }).send(MESSAGE);
    expect(reply).toMatchObject({ ok: false, retry: 'never', code: 19021 });
    expect(reply.ok === false && reply.retry === 'never' && reply.fix).toMatch(/secret.*clock/);
  });

  it('a clock two hours off → 19021', async () => {
    expect(await bot({ now: NOW + 2 * 60 * 60_000 }).send(MESSAGE)).toMatchObject({ ok: false, retry: 'never', code: 19021 });
  });

  it('a wrong hook token → 19001, never, says to copy the webhook again', async () => {
    const reply = await bot({ url: fake.larkUrl('n0t-the-t0ken') }).send(MESSAGE);
    expect(reply).toMatchObject({ ok: false, retry: 'never', code: 19001 });
    expect(reply.ok === false && reply.retry === 'never' && reply.fix).toMatch(/webhook/);
  });

  it('refuses a body over 20 KB before sending', async () => {
    const big = { msg_type: 'text', content: { text: '启'.repeat(7_000) } };
    const reply = await bot().send(big);
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(LARK_MAX_BODY_BYTES);
    expect(reply).toMatchObject({ ok: false, retry: 'never', code: 'body-too-large' });
    expect(fake.requests).toHaveLength(0);
    // Just under the limit, signature included, still goes out.
    const room = LARK_MAX_BODY_BYTES - Buffer.byteLength(JSON.stringify(bot().signedBody({ msg_type: 'text', content: { text: '' } }, NOW)));
    expect(await bot().send({ msg_type: 'text', content: { text: 'a'.repeat(room) } })).toEqual({ ok: true });
    expect(await bot().send({ msg_type: 'text', content: { text: 'a'.repeat(room + 1) } })).toMatchObject({ code: 'body-too-large' });
  });

  const cases: { name: string; answer: Parameters<FakeRobots['answerNext']>[0]; expected: Partial<Record<string, unknown>>; fix?: RegExp; now?: number }[] = [
    { name: 'StatusCode 0 (older replies) → ok', answer: { body: { Extra: null, StatusCode: 0, StatusMessage: 'success' } }, expected: { ok: true } },
    { name: '11232 → the rest of the minute', answer: { body: { code: 11232, msg: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]', data: {} } }, expected: { ok: false, retry: 'after', reason: 'throttled', afterMs: 15_000, code: 11232 } },
    { name: '11232 in the last second → at least 1 s', now: 1_700_000_040_000 + 59_700, answer: { body: { code: 11232, msg: 'frequency limited' } }, expected: { ok: false, retry: 'after', afterMs: 1_000 } },
    { name: '9499 frequency → pause', answer: { body: { code: 9499, msg: 'too many request', data: {} } }, expected: { ok: false, retry: 'after', afterMs: 15_000, code: 9499 } },
    { name: '9499 otherwise → never, check the message', answer: { body: { code: 9499, msg: 'Bad Request', data: {} } }, expected: { ok: false, retry: 'never', code: 9499 }, fix: /msg_type/ },
    { name: '19022 → IP', answer: { body: { code: 19022, msg: 'Ip Not Allowed', data: {} } }, expected: { ok: false, retry: 'never', code: 19022 }, fix: /IP allowlist/ },
    { name: '19024 → keyword', answer: { body: { code: 19024, msg: 'Key Words Not Found', data: {} } }, expected: { ok: false, retry: 'never', code: 19024 }, fix: /keyword/ },
    { name: '19021 sent with HTTP 400', answer: { status: 400, body: { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' } }, expected: { ok: false, retry: 'never', code: 19021 }, fix: /secret/ },
    { name: 'another code → never with the msg', answer: { body: { code: 19002, msg: 'param invalid: bot not enabled', data: {} } }, expected: { ok: false, retry: 'never', code: 19002, message: expect.stringContaining('bot not enabled') }, fix: /code/ },
    { name: '502 → backoff', answer: { status: 502, body: '<html>bad gateway</html>' }, expected: { ok: false, retry: 'after', reason: 'transient', code: 'http-status' } },
    { name: '200 that is not JSON → never', answer: { body: 'ok' }, expected: { ok: false, retry: 'never', code: 'bad-reply' }, fix: /webhook URL/ },
  ];
  for (const { name, answer, expected, fix, now } of cases) {
    it(`classifies ${name}`, async () => {
      fake.answerNext(answer);
      const reply: RobotReply = await bot(now === undefined ? {} : { now }).send(MESSAGE);
      expect(reply).toMatchObject(expected);
      if (fix) expect(reply.ok === false && reply.retry === 'never' ? reply.fix : '').toMatch(fix);
    });
  }

  it('its target is the redacted webhook', () => {
    expect(bot().target).toBe(`${fake.base}/open-apis/bot/v2/hook/***`);
  });
});
