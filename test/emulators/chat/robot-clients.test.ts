import { describe, expect, it } from 'vitest';
import { DingtalkRobot } from '../../../src/notify/robots/dingtalk-robot.js';
import { LarkBot } from '../../../src/notify/robots/lark-bot.js';
import { robotServers } from './robot-fixture.js';

/*
 * rollcall's own robot clients (src/notify/robots) against the emulator's robots: the signatures
 * each side computes agree, and each reply the emulator gives reads as the client expects.
 */

const start = robotServers();

describe("rollcall's robot clients against the emulated robots", () => {
  it('DingTalk: signed sends are taken, the 21st in a minute is a 10-minute throttle, a wrong secret is refused with a fix', async () => {
    const clock = { at: 1_800_000_000_000 };
    const now = () => clock.at;
    const server = await start({ robots: { dingtalk: [{ accessToken: 'tok', secret: 'SECright', group: 'ops' }], lark: [] }, now });
    const robot = new DingtalkRobot({ webhookUrl: `${server.url}/robot/send?access_token=tok`, secret: 'SECright', now });
    for (let index = 0; index < 20; index += 1) expect(await robot.send({ msgtype: 'text', text: { content: `n${index}` } })).toEqual({ ok: true });
    expect(await robot.send({ msgtype: 'text', text: { content: 'n20' } })).toMatchObject({ ok: false, retry: 'after', reason: 'throttled', code: 130101, afterMs: 10 * 60_000 });
    expect(server.webhooks.messages()).toHaveLength(20);

    clock.at += 10 * 60_000;
    const wrong = new DingtalkRobot({ webhookUrl: `${server.url}/robot/send?access_token=tok`, secret: 'SECwrong', now });
    const refused = await wrong.send({ msgtype: 'text', text: { content: 'x' } });
    expect(refused).toMatchObject({ ok: false, retry: 'never', code: 310000 });
    expect(refused.ok === false && refused.retry === 'never' ? refused.fix : '').toMatch(/sign|secret/i);
  });

  it('Lark: signed sends are taken, the sixth in a second is throttled, a wrong secret is refused', async () => {
    const clock = { at: 1_800_000_000_000 };
    const now = () => clock.at;
    const server = await start({ robots: { dingtalk: [], lark: [{ hookToken: 'hook', secret: 'right', group: 'ops' }] }, now });
    const bot = new LarkBot({ webhookUrl: `${server.url}/open-apis/bot/v2/hook/hook`, secret: 'right', now });
    const card = { msg_type: 'interactive', card: { header: { title: { tag: 'plain_text', content: 'applied' }, template: 'green' }, elements: [{ tag: 'hr' }] } };
    for (let index = 0; index < 5; index += 1) expect(await bot.send(card)).toEqual({ ok: true });
    expect(await bot.send(card)).toMatchObject({ ok: false, retry: 'after', code: 11232 });
    expect(server.webhooks.messages().map((message) => message.body)).toEqual(Array.from({ length: 5 }, () => card));

    clock.at += 60_000;
    const wrong = new LarkBot({ webhookUrl: `${server.url}/open-apis/bot/v2/hook/hook`, secret: 'wrong', now });
    expect(await wrong.send(card)).toMatchObject({ ok: false, retry: 'never', code: 19021 });
  });
});
