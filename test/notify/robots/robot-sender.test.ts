import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/config/logger.js';
import { DingtalkRobot } from '../../../src/notify/robots/dingtalk-robot.js';
import { LarkBot } from '../../../src/notify/robots/lark-bot.js';
import { createRobotSender, RobotSender } from '../../../src/notify/robots/robot-sender.js';
import type { RobotReply } from '../../../src/notify/robots/robot.js';
import { startFakeRobots, type FakeRobots } from './fake-robots.js';

const DT_TOKEN = 'dt0kenABCDEF0123456789abcdef012345';
const DT_SECRET = 'SECdtSecretGHIJKL0123456789';
const LK_TOKEN = '0a1b2c3d-lark-hook-token-4e5f6a7b8c9d';
const LK_SECRET = 'lkSecretMNOPQR987654';
/** The start of a minute. */
const NOW = 1_700_000_040_000;
const DT_MESSAGE = { msgtype: 'text', text: { content: 'rollcall: applied abc1234' } };
const LK_MESSAGE = { msg_type: 'text', content: { text: 'rollcall: applied abc1234' } };

let fake: FakeRobots;
let clock: number;
beforeEach(async () => {
  clock = NOW;
  fake = await startFakeRobots({ dingtalk: { token: DT_TOKEN, secret: DT_SECRET }, lark: { token: LK_TOKEN, secret: LK_SECRET }, now: () => clock });
});
afterEach(() => fake.close());

/** A logger whose lines land in `lines`. */
function capturedLog() {
  const lines: string[] = [];
  return { lines, log: createLogger({ ROLLCALL_LOG_LEVEL: 'debug' }, { write: (line: string) => lines.push(line) }) };
}

const dingtalk = (extra: { fetch?: typeof fetch; webhookUrl?: string } = {}) =>
  createRobotSender('dingtalk', { webhookUrl: fake.dingtalkUrl(), secret: DT_SECRET, now: () => clock, ...extra });
const lark = (extra: { fetch?: typeof fetch; webhookUrl?: string } = {}) =>
  createRobotSender('lark', { webhookUrl: fake.larkUrl(), secret: LK_SECRET, now: () => clock, ...extra });

describe('RobotSender', () => {
  it('never sends faster than the bucket: DingTalk sends 6 at once, then says to wait 5 s, without a request', async () => {
    const sender = dingtalk();
    const outcomes = [];
    for (let i = 0; i < 8; i++) outcomes.push(await sender.trySend(DT_MESSAGE, NOW));
    expect(outcomes).toEqual([...Array(6).fill('sent'), { wait: 5_000 }, { wait: 5_000 }]);
    expect(fake.requests).toHaveLength(6);
    expect(await sender.trySend(DT_MESSAGE, NOW + 5_000)).toBe('sent');
  });

  it('resumes from the sends an earlier process made: a restart grants no burst the platform\'s minute still counts', async () => {
    const sends: number[] = [];
    const first = createRobotSender('dingtalk', { webhookUrl: fake.dingtalkUrl(), secret: DT_SECRET, now: () => clock, onSend: (at) => sends.push(at) });
    for (let i = 0; i < 6; i++) expect(await first.trySend(DT_MESSAGE, NOW)).toBe('sent');
    expect(sends).toEqual(Array(6).fill(NOW));
    // The process restarts 2 s later: its robot knows the 6 and waits for the next token.
    const restarted = createRobotSender('dingtalk', { webhookUrl: fake.dingtalkUrl(), secret: DT_SECRET, now: () => clock, sentBefore: sends });
    expect(await restarted.trySend(DT_MESSAGE, NOW + 2_000)).toEqual({ wait: 3_000 });
    expect(fake.requests).toHaveLength(6);
    // Without the memory, it would have sent 6 more at once: 12 in 2 s, on the way to DingTalk's 20.
    const forgetful = createRobotSender('dingtalk', { webhookUrl: fake.dingtalkUrl(), secret: DT_SECRET, now: () => clock });
    expect(await forgetful.trySend(DT_MESSAGE, NOW + 2_000)).toBe('sent');
  });

  it('readyIn says how long until a send could go, without taking a token', async () => {
    const sender = dingtalk();
    for (let i = 0; i < 6; i++) {
      expect(sender.readyIn(NOW)).toBe(0);
      await sender.trySend(DT_MESSAGE, NOW);
    }
    expect(sender.readyIn(NOW)).toBe(5_000);
    expect(sender.readyIn(NOW)).toBe(5_000);
    expect(sender.readyIn(NOW + 5_000)).toBe(0);
    fake.answerNext({ body: { errcode: 130101, errmsg: 'send too fast' } });
    await sender.trySend(DT_MESSAGE, NOW + 5_000);
    expect(sender.readyIn(NOW + 5_000)).toBe(600_000);
  });

  it('concurrent sends share the bucket: 10 at once → 6 requests', async () => {
    const sender = dingtalk();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => sender.trySend(DT_MESSAGE, NOW)));
    expect(outcomes.filter((outcome) => outcome === 'sent')).toHaveLength(6);
    expect(fake.requests).toHaveLength(6);
  });

  it('Lark: 2 at once, then the per-second bucket; the per-minute one over a minute', async () => {
    const sender = lark();
    expect(await sender.trySend(LK_MESSAGE, NOW)).toBe('sent');
    expect(await sender.trySend(LK_MESSAGE, NOW)).toBe('sent');
    expect(await sender.trySend(LK_MESSAGE, NOW)).toEqual({ wait: 500 });
    expect(fake.requests.map((request) => request.platform)).toEqual(['lark', 'lark']);
    expect(fake.requests[0]?.body).toMatchObject({ ...LK_MESSAGE, timestamp: String(NOW / 1_000) });
  });

  it('DingTalk 130101 pauses the robot 10 minutes: nothing is sent until then', async () => {
    const sender = dingtalk();
    fake.answerNext({ body: { errcode: 130101, errmsg: 'send too fast' } });
    const throttled = await sender.trySend(DT_MESSAGE, NOW);
    expect(throttled).toMatchObject({ wait: 600_000, reply: { retry: 'after', code: 130101 } });
    expect(await sender.trySend(DT_MESSAGE, NOW + 60_000)).toEqual({ wait: 540_000 });
    expect(sender.status(NOW + 60_000)).toMatchObject({ pausedUntil: NOW + 600_000, lastFailure: { code: 130101 } });
    expect(fake.requests).toHaveLength(1);
    clock = NOW + 600_000;
    expect(await sender.trySend(DT_MESSAGE, NOW + 600_000)).toBe('sent');
    expect(sender.status(NOW + 600_000).pausedUntil).toBeUndefined();
  });

  it('Lark 11232 pauses the bot until the minute turns', async () => {
    const sender = lark();
    fake.answerNext({ body: { code: 11232, msg: 'frequency limited' } });
    clock = NOW + 20_000;
    expect(await sender.trySend(LK_MESSAGE, clock)).toMatchObject({ wait: 40_000, reply: { code: 11232 } });
    expect(await sender.trySend(LK_MESSAGE, clock + 39_999)).toEqual({ wait: 1 });
    expect(fake.requests).toHaveLength(1);
    clock = NOW + 60_000;
    expect(await sender.trySend(LK_MESSAGE, clock)).toBe('sent');
  });

  it('network failures and 5xx back off, doubling up to the cap; a success resets the backoff', async () => {
    let failures = 3;
    const flaky: typeof fetch = (input, init) => (failures-- > 0 ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init));
    const robot = new DingtalkRobot({ webhookUrl: fake.dingtalkUrl(), secret: DT_SECRET, fetch: flaky, now: () => clock });
    const sender = new RobotSender({ robot, buckets: [{ capacity: 100, refill: { tokens: 100, everyMs: 1_000 } }], maxBackoffMs: 3_000 });
    const waits: number[] = [];
    let now = NOW;
    for (;;) {
      const outcome = await sender.trySend(DT_MESSAGE, now);
      if (outcome === 'sent') break;
      expect(outcome).toMatchObject({ reply: { code: 'network', reason: 'transient' } });
      const wait = (outcome as { wait: number }).wait;
      // Trying before the backoff ends sends nothing.
      expect(await sender.trySend(DT_MESSAGE, now + wait - 1)).toEqual({ wait: 1 });
      waits.push(wait);
      now += wait;
    }
    expect(waits).toEqual([1_000, 2_000, 3_000]);
    fake.answerNext({ status: 503, body: 'unavailable' });
    expect(await sender.trySend(DT_MESSAGE, now)).toMatchObject({ wait: 1_000, reply: { code: 'http-status' } });
  });

  it('a refusal fails the message at once, does not pause the robot, and shows in status with its fix', async () => {
    const sender = dingtalk();
    fake.answerNext({ body: { errcode: 310000, errmsg: 'keywords not in content' } });
    const outcome = await sender.trySend(DT_MESSAGE, NOW);
    expect(outcome).toMatchObject({ failed: { retry: 'never', code: 310000, fix: expect.stringMatching(/keyword/) } });
    expect(sender.status(NOW)).toEqual({
      target: `${fake.base}/robot/send?access_token=***`,
      lastFailure: { at: NOW, code: 310000, message: expect.stringContaining('keywords not in content'), fix: expect.stringMatching(/keyword/) },
    });
    expect(await sender.trySend(DT_MESSAGE, NOW)).toBe('sent');
  });

  it('createRobotSender picks the platform adapter', () => {
    expect(dingtalk().robot).toBeInstanceOf(DingtalkRobot);
    expect(lark().robot).toBeInstanceOf(LarkBot);
  });
});

describe('no webhook secret in errors, status or logs', () => {
  /** Answers that echo everything the request carried (URL with token and sign, body with sign). */
  const echo = (request: { url: string; body: unknown }) => `${request.url} ${JSON.stringify(request.body)}`;

  const failingAnswers = (platform: 'dingtalk' | 'lark') =>
    platform === 'dingtalk'
      ? [
          { body: (request: { url: string; body: unknown }) => ({ errcode: 310000, errmsg: `sign not match: ${echo(request)}` }) },
          { body: (request: { url: string; body: unknown }) => ({ errcode: 130101, errmsg: `send too fast: ${echo(request)}` }) },
          { body: (request: { url: string; body: unknown }) => ({ errcode: 400013, errmsg: echo(request) }) },
          { status: 500, body: (request: { url: string; body: unknown }) => ({ error: echo(request) }) },
        ]
      : [
          { body: (request: { url: string; body: unknown }) => ({ code: 19021, msg: `sign match fail: ${echo(request)}` }) },
          { body: (request: { url: string; body: unknown }) => ({ code: 11232, msg: `frequency limited ${echo(request)}` }) },
          { body: (request: { url: string; body: unknown }) => ({ code: 19002, msg: echo(request) }) },
          { status: 404, body: (request: { url: string; body: unknown }) => echo(request) },
        ];

  for (const platform of ['dingtalk', 'lark'] as const) {
    it(`${platform}: failing sends, a fetch that throws with the URL, and a malformed webhook`, async () => {
      const { lines, log } = capturedLog();
      const secrets = platform === 'dingtalk' ? [DT_TOKEN, DT_SECRET] : [LK_TOKEN, LK_SECRET];
      const messages: string[] = [];
      const note = (reply: RobotReply | undefined) => {
        if (reply && !reply.ok) messages.push(reply.message, reply.retry === 'never' ? reply.fix : '');
      };

      const options = { now: () => clock, log, buckets: [{ capacity: 100, refill: { tokens: 1, everyMs: 1 } }] };
      const sender = platform === 'dingtalk'
        ? createRobotSender('dingtalk', { webhookUrl: fake.dingtalkUrl(), secret: DT_SECRET, ...options })
        : createRobotSender('lark', { webhookUrl: fake.larkUrl(), secret: LK_SECRET, ...options });
      const body = platform === 'dingtalk' ? DT_MESSAGE : LK_MESSAGE;
      fake.answerNext(...failingAnswers(platform));
      let now = NOW;
      for (let i = 0; i < 4; i++) {
        const outcome = await sender.trySend(body, now);
        expect(outcome).not.toBe('sent');
        if (typeof outcome === 'object' && 'failed' in outcome) note(outcome.failed);
        if (typeof outcome === 'object' && 'wait' in outcome) {
          note(outcome.reply);
          now += outcome.wait;
        }
      }
      messages.push(JSON.stringify(sender.status(now)));

      // Every sign that went out, in both spellings.
      for (const request of fake.requests) {
        const sign = platform === 'dingtalk' ? request.query.get('sign') : (request.body.sign as string);
        expect(sign).toBeTruthy();
        secrets.push(sign as string, encodeURIComponent(sign as string));
      }
      expect(fake.requests).toHaveLength(4);
      // The echo really carried the secrets: the test would see a leak.
      expect(messages.join('\n')).toContain('***');

      // A fetch whose error names the signed URL and the body, as some HTTP clients do.
      let sentUrl = '';
      const leaky: typeof fetch = (input, init) => {
        sentUrl = String(input);
        return Promise.reject(new TypeError(`request to ${sentUrl} failed`, { cause: new Error(`body ${String(init?.body)}`) }));
      };
      const robot = platform === 'dingtalk'
        ? new DingtalkRobot({ webhookUrl: fake.dingtalkUrl(), secret: DT_SECRET, fetch: leaky, now: () => clock })
        : new LarkBot({ webhookUrl: fake.larkUrl(), secret: LK_SECRET, fetch: leaky, now: () => clock });
      const leakySender = new RobotSender({ robot, buckets: options.buckets, log });
      const failed = await leakySender.trySend(body, now);
      expect(failed).toMatchObject({ reply: { code: 'network' } });
      note((failed as { reply: RobotReply }).reply);
      const leakedSign = platform === 'dingtalk' ? new URL(sentUrl).searchParams.get('sign') : undefined;
      if (leakedSign) secrets.push(leakedSign, encodeURIComponent(leakedSign));

      // A webhook that is not a URL.
      const badUrl = platform === 'dingtalk' ? `oapi.dingtalk.com/robot/send?access_token=${DT_TOKEN}` : `open.feishu.cn/open-apis/bot/v2/hook/${LK_TOKEN}`;
      expect(() => createRobotSender(platform, { webhookUrl: badUrl, secret: 'x', log })).toThrow();
      try {
        createRobotSender(platform, { webhookUrl: badUrl, secret: 'x', log });
      } catch (error) {
        messages.push((error as Error).message, String((error as Error).cause ?? ''));
      }

      const everything = `${messages.join('\n')}\n${lines.join('')}`;
      expect(lines.length).toBeGreaterThanOrEqual(5);
      for (const secret of secrets) expect(everything, `leaked ${secret}`).not.toContain(secret);
    });
  }
});
