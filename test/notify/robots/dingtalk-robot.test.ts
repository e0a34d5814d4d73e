import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { DingtalkRobot } from '../../../src/notify/robots/dingtalk-robot.js';
import type { RobotReply } from '../../../src/notify/robots/robot.js';
import { startFakeRobots, type FakeRobots } from './fake-robots.js';

const TOKEN = 'd1n9ta1kAccessT0ken0123456789abcdef';
const SECRET = 'SECd1n9ta1kS1gn1ngSecret0123456789';
const NOW = 1_700_000_000_000;
const MESSAGE = { msgtype: 'markdown', markdown: { title: 'rollcall', text: '**plan** for abc1234' } };

let fake: FakeRobots;
beforeEach(async () => {
  fake = await startFakeRobots({ dingtalk: { token: TOKEN, secret: SECRET }, lark: { token: 'unused' }, now: () => NOW });
});
afterEach(() => fake.close());

const robot = (options: { secret?: string; now?: number; url?: string } = {}) =>
  new DingtalkRobot({ webhookUrl: options.url ?? fake.dingtalkUrl(), secret: 'secret' in options ? options.secret : SECRET, now: () => options.now ?? NOW });

describe('DingtalkRobot', () => {
  it('signs in the query (ms timestamp, sign checked by the fake) and posts the message as the body', async () => {
    expect(await robot().send(MESSAGE)).toEqual({ ok: true });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.query.get('access_token')).toBe(TOKEN);
    expect(request?.query.get('timestamp')).toBe(String(NOW));
    const expected = createHmac('sha256', SECRET).update(`${NOW}\n${SECRET}`).digest('base64');
    expect(request?.query.get('sign')).toBe(expected);
    // Encoded once: the raw query holds %3D etc., never %253D.
    expect(request?.url).toContain(`sign=${encodeURIComponent(expected)}`);
    expect(request?.body).toEqual(MESSAGE);
  });

  it('replaces a timestamp and sign already in the configured URL, keeps other parameters', async () => {
    const url = `${fake.dingtalkUrl()}&timestamp=1&sign=stale&lang=en`;
    expect(await robot({ url }).send(MESSAGE)).toEqual({ ok: true });
    const query = fake.requests[0]?.query;
    expect(query?.getAll('timestamp')).toEqual([String(NOW)]);
    expect(query?.getAll('sign')).toHaveLength(1);
    expect(query?.get('lang')).toBe('en');
  });

  it('sends no timestamp or sign without a secret (keyword or IP security)', async () => {
    const open = await startFakeRobots({ dingtalk: { token: TOKEN }, lark: { token: 'unused' } });
    try {
      const reply = await new DingtalkRobot({ webhookUrl: open.dingtalkUrl() }).send(MESSAGE);
      expect(reply).toEqual({ ok: true });
      expect([...(open.requests[0]?.query.keys() ?? [])]).toEqual(['access_token']);
    } finally {
      await open.close();
    }
  });

  it('a wrong secret → 310000 sign, never retried, says to fix the secret', async () => {
    const reply = await robot({ secret: 'SECwrong' }).send(MESSAGE);
    expect(reply).toMatchObject({ ok: false, retry: 'never', code: 310000 });
    expect(reply.ok === false && reply.retry === 'never' && reply.fix).toMatch(/secret/);
  });

  it('a clock two hours off → 310000 invalid timestamp, says to fix the clock', async () => {
    const reply = await robot({ now: NOW - 2 * 60 * 60_000 }).send(MESSAGE);
    expect(reply).toMatchObject({ ok: false, retry: 'never', code: 310000 });
    expect(reply.ok === false && reply.retry === 'never' && reply.fix).toMatch(/clock/);
  });

  it('a wrong access_token → 300001, never, says to copy the webhook again', async () => {
    const reply = await robot({ url: fake.dingtalkUrl('n0tTheT0ken') }).send(MESSAGE);
    expect(reply).toMatchObject({ ok: false, retry: 'never', code: 300001 });
    expect(reply.ok === false && reply.retry === 'never' && reply.fix).toMatch(/webhook/);
  });

  const cases: { name: string; answer: Parameters<FakeRobots['answerNext']>[0]; expected: Partial<Record<string, unknown>>; fix?: RegExp }[] = [
    { name: '130101 → pause 10 minutes', answer: { body: { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' } }, expected: { retry: 'after', reason: 'throttled', afterMs: 600_000, code: 130101 } },
    { name: '130101 as a string errcode', answer: { body: { errcode: '130101', errmsg: 'send too fast' } }, expected: { retry: 'after', afterMs: 600_000, code: 130101 } },
    { name: '310000 sign', answer: { body: { errcode: 310000, errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' } }, expected: { retry: 'never', code: 310000 }, fix: /signature does not match/ },
    { name: '310000 timestamp', answer: { body: { errcode: 310000, errmsg: 'invalid timestamp' } }, expected: { retry: 'never', code: 310000 }, fix: /clock/ },
    { name: '310000 keyword', answer: { body: { errcode: 310000, errmsg: 'keywords not in content' } }, expected: { retry: 'never', code: 310000 }, fix: /keyword/ },
    { name: '310000 IP', answer: { body: { errcode: 310000, errmsg: 'ip 203.0.113.7 not in whitelist' } }, expected: { retry: 'never', code: 310000 }, fix: /IP list/ },
    { name: '310000 unknown wording', answer: { body: { errcode: 310000, errmsg: '安全设置校验失败' } }, expected: { retry: 'never', code: 310000 }, fix: /secret.*clock.*keywords.*IP/ },
    { name: '-1 busy → backoff', answer: { body: { errcode: -1, errmsg: 'system busy' } }, expected: { retry: 'after', reason: 'transient', afterMs: 1_000, code: -1 } },
    { name: 'another errcode → never with the errmsg', answer: { body: { errcode: 400013, errmsg: 'group is disbanded' } }, expected: { retry: 'never', code: 400013, message: expect.stringContaining('group is disbanded') }, fix: /errcode/ },
    { name: '503 → backoff', answer: { status: 503, body: 'busy' }, expected: { retry: 'after', reason: 'transient', afterMs: 1_000, code: 'http-status' } },
    { name: '429 with Retry-After → that long', answer: { status: 429, headers: { 'retry-after': '7' }, body: '' }, expected: { retry: 'after', reason: 'throttled', afterMs: 7_000, code: 'http-status' } },
    { name: '404 → never, check the URL', answer: { status: 404, body: '<h1>nope</h1>' }, expected: { retry: 'never', code: 'http-status' }, fix: /webhook URL/ },
    { name: '200 without errcode → never, not a robot', answer: { body: '<html>login</html>' }, expected: { retry: 'never', code: 'bad-reply' }, fix: /webhook URL/ },
  ];
  for (const { name, answer, expected, fix } of cases) {
    it(`classifies ${name}`, async () => {
      fake.answerNext(answer);
      const reply: RobotReply = await robot().send(MESSAGE);
      expect(reply).toMatchObject({ ok: false, ...expected });
      if (fix) expect(reply.ok === false && reply.retry === 'never' ? reply.fix : '').toMatch(fix);
    });
  }

  it('a server that does not answer → network, retry after a backoff', async () => {
    const url = fake.dingtalkUrl();
    await fake.close();
    const reply = await robot({ url }).send(MESSAGE);
    expect(reply).toMatchObject({ ok: false, retry: 'after', reason: 'transient', code: 'network', afterMs: 1_000 });
    fake = await startFakeRobots({ dingtalk: { token: TOKEN }, lark: { token: 'x' } });
  });

  it('refuses a webhook that is not a URL, without echoing it', () => {
    expect(() => new DingtalkRobot({ webhookUrl: `oapi.dingtalk.com/robot/send?access_token=${TOKEN}` })).toThrow(RollcallError);
    try {
      new DingtalkRobot({ webhookUrl: `oapi.dingtalk.com/robot/send?access_token=${TOKEN}` });
    } catch (error) {
      expect((error as Error).message).not.toContain(TOKEN);
      expect((error as Error).message).toMatch(/webhook/);
    }
  });

  it('its target is the redacted webhook', () => {
    expect(robot().target).toBe(`${fake.base}/robot/send?access_token=***`);
  });
});
