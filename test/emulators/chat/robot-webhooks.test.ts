import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { createRobotWebhooks, dingtalkRobotSign, larkBotSign, type AcceptedMessage } from '../../../src/emulators/chat/robot-webhooks.js';
import { post, robotServers } from './robot-fixture.js';

const start = robotServers();

/** A clock tests move by hand. */
function fakeClock(at: number) {
  const clock = { at, now: () => clock.at };
  return clock;
}

// The reference's computed vectors (/work/shared/reference/dingtalk-lark.md).
const DINGTALK_VECTOR = { timestamp: '1700000000000', secret: 'SECtest', sign: 'aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D' };
const LARK_VECTOR = { timestamp: '1700000000', secret: 'test', sign: 'eSJQnOl8XqPTMPHWz9e5IzeHS/tqoc68g2967ekIPmg=' };

const dingText = (content: string) => ({ msgtype: 'text', text: { content } });
const larkText = (text: string) => ({ msg_type: 'text', content: { text } });

describe('robot signatures', () => {
  it('computes the reference vectors', () => {
    expect(encodeURIComponent(dingtalkRobotSign(DINGTALK_VECTOR.timestamp, DINGTALK_VECTOR.secret))).toBe(DINGTALK_VECTOR.sign);
    expect(larkBotSign(LARK_VECTOR.timestamp, LARK_VECTOR.secret)).toBe(LARK_VECTOR.sign);
  });
});

describe('DingTalk custom robot, POST /robot/send', () => {
  it('accepts the reference vector within the hour, and refuses a wrong, missing or stale signature with 310000', async () => {
    const clock = fakeClock(Number(DINGTALK_VECTOR.timestamp) + 59 * 60_000);
    const server = await start({ robots: { dingtalk: [{ accessToken: 'T1', secret: DINGTALK_VECTOR.secret, group: 'ops' }], lark: [] }, now: clock.now });
    const send = (query: string) => post(`${server.url}/robot/send?access_token=T1${query}`, dingText('hello'));

    expect(await send(`&timestamp=${DINGTALK_VECTOR.timestamp}&sign=${DINGTALK_VECTOR.sign}`)).toEqual({ status: 200, body: { errcode: 0, errmsg: 'ok' } });

    const wrong = await send(`&timestamp=${DINGTALK_VECTOR.timestamp}&sign=${encodeURIComponent(dingtalkRobotSign(DINGTALK_VECTOR.timestamp, 'SECother'))}`);
    expect(wrong.status).toBe(200);
    expect(wrong.body).toEqual({ errcode: 310000, errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' });
    expect((await send(`&timestamp=${DINGTALK_VECTOR.timestamp}`)).body['errcode']).toBe(310000);
    // The sign's "+" and "/" must be URL-encoded: sent raw, "+" reads as a space and the sign fails.
    const rawSign = dingtalkRobotSign('1700000000001', DINGTALK_VECTOR.secret);
    expect(rawSign).toMatch(/\+/);
    expect((await send(`&timestamp=1700000000001&sign=${rawSign}`)).body['errmsg']).toMatch(/^sign not match/);
    expect((await send(`&timestamp=1700000000001&sign=${encodeURIComponent(rawSign)}`)).body['errcode']).toBe(0);

    clock.at = Number(DINGTALK_VECTOR.timestamp) + 60 * 60_000 + 1;
    const stale = await send(`&timestamp=${DINGTALK_VECTOR.timestamp}&sign=${DINGTALK_VECTOR.sign}`);
    expect(stale.body).toEqual({ errcode: 310000, errmsg: 'invalid timestamp, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' });
    const future = String(clock.at + 60 * 60_000 + 1);
    expect((await send(`&timestamp=${future}&sign=${encodeURIComponent(dingtalkRobotSign(future, DINGTALK_VECTOR.secret))}`)).body['errmsg']).toMatch(/^invalid timestamp/);
    expect(server.webhooks.messages().map((message) => message.at)).toEqual([Number(DINGTALK_VECTOR.timestamp) + 59 * 60_000, Number(DINGTALK_VECTOR.timestamp) + 59 * 60_000]);
  });

  it('answers an unknown token, a GET, and a robot without a secret as the platform does', async () => {
    const server = await start({ robots: { dingtalk: [{ accessToken: 'open', group: 'ops' }], lark: [] } });
    expect((await post(`${server.url}/robot/send?access_token=nope`, dingText('x'))).body).toEqual({ errcode: 300001, errmsg: 'token is not exist' });
    expect((await post(`${server.url}/robot/send`, dingText('x'))).body['errcode']).toBe(300001);
    expect(await (await fetch(`${server.url}/robot/send?access_token=open`)).json()).toEqual({ errcode: 43002, errmsg: '需要POST请求' });
    expect((await post(`${server.url}/robot/send?access_token=open`, dingText('no signature needed'))).body['errcode']).toBe(0);
  });

  it('accepts each message type with its fields, and names the missing field with 40035', async () => {
    const server = await start({ robots: { dingtalk: [{ accessToken: 'T', group: 'ops' }], lark: [] } });
    const send = (body: unknown) => post(`${server.url}/robot/send?access_token=T`, body);
    const valid = [
      dingText('plain'),
      { msgtype: 'markdown', markdown: { title: 't', text: '# hi' }, at: { atUserIds: ['u1'] } },
      { msgtype: 'link', link: { title: 't', text: 'x', messageUrl: 'https://example.com', picUrl: '' } },
      { msgtype: 'actionCard', actionCard: { title: 't', text: 'x', singleTitle: 'Open', singleURL: 'https://example.com' } },
      { msgtype: 'actionCard', actionCard: { title: 't', text: 'x', btnOrientation: '0', btns: [{ title: 'PR', actionURL: 'https://example.com/pr' }] } },
      { msgtype: 'feedCard', feedCard: { links: [{ title: 'one', messageURL: 'https://example.com/1', picURL: 'https://example.com/1.png' }] } },
    ];
    for (const body of valid) expect((await send(body)).body, JSON.stringify(body)).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(server.webhooks.messages().map((message) => message.type)).toEqual(['text', 'markdown', 'link', 'actionCard', 'actionCard', 'feedCard']);

    expect((await send({ msgtype: 'text', text: {} })).body).toEqual({ errcode: 40035, errmsg: '缺少参数 text.content' });
    expect((await send({ msgtype: 'markdown', markdown: { title: 't' } })).body).toEqual({ errcode: 40035, errmsg: '缺少参数 markdown.text' });
    expect((await send({ msgtype: 'actionCard', actionCard: { title: 't', text: 'x', btns: [] } })).body['errcode']).toBe(40035);
    expect((await send({ msgtype: 'feedCard', feedCard: { links: [{ title: 'x' }] } })).body['errcode']).toBe(40035);
    expect((await send({ text: { content: 'x' } })).body).toEqual({ errcode: 40035, errmsg: '缺少参数 msgtype' });
    expect((await send({ msgtype: 'toString' })).body).toEqual({ errcode: 40035, errmsg: '缺少参数 json' });
    expect((await send('not json')).body).toEqual({ errcode: 40035, errmsg: '缺少参数 json' });
    expect((await send(dingText('x'.repeat(20_001)))).body).toEqual({ errcode: 460101, errmsg: 'message too long, exceed 20000 bytes' });
    expect(server.webhooks.messages()).toHaveLength(valid.length);
  });

  it('wants one of its keywords anywhere in the message', async () => {
    const server = await start({ robots: { dingtalk: [{ accessToken: 'T', keywords: ['rollcall', '告警'], group: 'ops' }], lark: [] } });
    const send = (body: unknown) => post(`${server.url}/robot/send?access_token=T`, body);
    expect((await send(dingText('hello'))).body).toEqual({ errcode: 310000, errmsg: 'keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' });
    expect((await send(dingText('服务器告警'))).body['errcode']).toBe(0);
    expect((await send({ msgtype: 'markdown', markdown: { title: 'rollcall: applied', text: 'done' } })).body['errcode']).toBe(0);
    expect((await send({ msgtype: 'actionCard', actionCard: { title: 't', text: 'x', singleTitle: 'rollcall status', singleURL: 'https://e' } })).body['errcode']).toBe(0);
    expect(server.webhooks.messages()).toHaveLength(3);
  });

  it('takes 20 messages a minute; the 21st gets 130101 and the robot stays silent for 10 minutes', async () => {
    const clock = fakeClock(1_000_000);
    const server = await start({
      robots: { dingtalk: [{ accessToken: 'busy', group: 'ops' }, { accessToken: 'calm', group: 'ops' }], lark: [] },
      now: clock.now,
    });
    const send = (token: string) => post(`${server.url}/robot/send?access_token=${token}`, dingText('tick'));
    for (let index = 0; index < 20; index += 1) {
      clock.at = 1_000_000 + index * 1000;
      expect((await send('busy')).body['errcode']).toBe(0);
    }
    clock.at = 1_000_000 + 30_000;
    expect((await send('busy')).body).toEqual({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' });
    // Another robot has its own count.
    expect((await send('calm')).body['errcode']).toBe(0);
    // The minute has long passed, but the robot is silenced: every send gets 130101 for 10 minutes.
    for (const offset of [2 * 60_000, 9 * 60_000, 10 * 60_000 - 1]) {
      clock.at = 1_030_000 + offset;
      expect((await send('busy')).body['errcode']).toBe(130101);
    }
    clock.at = 1_030_000 + 10 * 60_000;
    expect((await send('busy')).body['errcode']).toBe(0);
    expect(server.webhooks.messages().filter((message) => message.robot === 'DingTalk robot')).toHaveLength(22);
  });

  it('counts a sliding minute: 20 a second apart, then one more a minute after the first', async () => {
    const clock = fakeClock(0);
    const server = await start({ robots: { dingtalk: [{ accessToken: 'T', group: 'ops' }], lark: [] }, now: clock.now });
    const send = () => post(`${server.url}/robot/send?access_token=T`, dingText('tick'));
    for (let index = 0; index < 20; index += 1) {
      clock.at = index * 1000;
      expect((await send()).body['errcode']).toBe(0);
    }
    clock.at = 60_000;
    expect((await send()).body['errcode']).toBe(0);
    expect((await send()).body['errcode']).toBe(130101);
  });
});

describe('Lark custom bot, POST /open-apis/bot/v2/hook/:token', () => {
  const signed = (timestamp: string, secret: string, message: object) => ({ timestamp, sign: larkBotSign(timestamp, secret), ...message });

  it('accepts the reference vector within the hour; a swapped key and message, a stale or a missing sign get 19021', async () => {
    const clock = fakeClock(Number(LARK_VECTOR.timestamp) * 1000 + 30 * 60_000);
    const server = await start({ robots: { dingtalk: [], lark: [{ hookToken: 'h-1', secret: LARK_VECTOR.secret, group: 'ops' }] }, now: clock.now });
    const send = (body: unknown) => post(`${server.url}/open-apis/bot/v2/hook/h-1`, body);

    expect(await send({ timestamp: LARK_VECTOR.timestamp, sign: LARK_VECTOR.sign, ...larkText('hello') })).toEqual({
      status: 200,
      body: { StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' },
    });
    // A number timestamp is taken as well.
    expect((await send({ timestamp: Number(LARK_VECTOR.timestamp), sign: LARK_VECTOR.sign, ...larkText('hello') })).body['code']).toBe(0);

    const { createHmac } = await import('node:crypto');
    const swapped = createHmac('sha256', LARK_VECTOR.secret).update(`${LARK_VECTOR.timestamp}\n${LARK_VECTOR.secret}`).digest('base64');
    const refused = { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time', data: {} };
    expect((await send({ timestamp: LARK_VECTOR.timestamp, sign: swapped, ...larkText('hello') })).body).toEqual(refused);
    expect((await send(larkText('hello'))).body).toEqual(refused);

    clock.at = Number(LARK_VECTOR.timestamp) * 1000 + 60 * 60_000 + 1000;
    expect((await send({ timestamp: LARK_VECTOR.timestamp, sign: LARK_VECTOR.sign, ...larkText('hello') })).body).toEqual(refused);
    const now = String(Math.floor(clock.at / 1000));
    expect((await send(signed(now, LARK_VECTOR.secret, larkText('fresh')))).body['code']).toBe(0);

    // Kept without the transport fields.
    expect(server.webhooks.messages().map((message) => message.body)).toEqual([larkText('hello'), larkText('hello'), larkText('fresh')]);
  });

  it('answers an unknown hook, bad requests (type, fields, size, not JSON) with 9499, and keywords with 19024', async () => {
    const server = await start({ robots: { dingtalk: [], lark: [{ hookToken: 'h', keywords: ['rollcall'], group: 'ops' }] } });
    const send = (body: unknown) => post(`${server.url}/open-apis/bot/v2/hook/h`, body);
    expect((await post(`${server.url}/open-apis/bot/v2/hook/nope`, larkText('rollcall'))).body).toEqual({ code: 19001, msg: 'param invalid: incoming webhook access token invalid', data: {} });
    expect((await post(`${server.url}/open-apis/bot/v2/hook/%E0%A4%A`, larkText('rollcall'))).body['code']).toBe(19001);

    const bad = { code: 9499, msg: 'Bad Request', data: {} };
    expect((await send({ msg_type: 'sticker', content: { text: 'rollcall' } })).body).toEqual(bad);
    expect((await send({ msg_type: 'toString', content: { text: 'rollcall' } })).body).toEqual(bad);
    expect((await send({ msg_type: 'text', content: {} })).body).toEqual(bad);
    expect((await send({ msg_type: 'interactive' })).body).toEqual(bad);
    expect((await send({ content: { text: 'rollcall' } })).body).toEqual(bad);
    expect((await send('{not json')).body).toEqual(bad);
    expect((await send(larkText(`rollcall ${'x'.repeat(20 * 1024)}`))).body).toEqual(bad);
    expect((await fetch(`${server.url}/open-apis/bot/v2/hook/h`)).status).toBe(200);

    expect((await send(larkText('hello'))).body).toEqual({ code: 19024, msg: 'Key Words Not Found', data: {} });
    expect((await send(larkText('rollcall says hello'))).body['code']).toBe(0);
    const card = { header: { title: { tag: 'plain_text', content: 'rollcall applied' }, template: 'green' }, elements: [{ tag: 'hr' }] };
    expect((await send({ msg_type: 'interactive', card })).body['code']).toBe(0);
    expect((await send({ msg_type: 'interactive', card: JSON.stringify(card) })).body['code']).toBe(0);
    const postBody = { msg_type: 'post', content: { post: { zh_cn: { title: 'rollcall', content: [[{ tag: 'text', text: 'hi' }]] } } } };
    expect((await send(postBody)).body['code']).toBe(0);
    expect(server.webhooks.messages().map((message) => message.type)).toEqual(['text', 'interactive', 'interactive', 'post']);
    expect(server.webhooks.messages()[2]!.body['card']).toEqual(card);
  });

  it('takes 5 a second, with 11232 for the sixth, and no silence after', async () => {
    const clock = fakeClock(5_000_000);
    const server = await start({ robots: { dingtalk: [], lark: [{ hookToken: 'h', group: 'ops' }] }, now: clock.now });
    const send = () => post(`${server.url}/open-apis/bot/v2/hook/h`, larkText('tick'));
    for (let index = 0; index < 5; index += 1) expect((await send()).body['code']).toBe(0);
    clock.at += 999;
    expect((await send()).body).toEqual({ code: 11232, msg: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]', data: {} });
    clock.at += 1;
    expect((await send()).body['code']).toBe(0);
    expect(server.webhooks.messages()).toHaveLength(6);
  });

  it('takes 100 a minute even at 5 a second, with 11232 until the minute has room', async () => {
    const clock = fakeClock(0);
    const server = await start({ robots: { dingtalk: [], lark: [{ hookToken: 'h', group: 'ops' }] }, now: clock.now });
    const send = () => post(`${server.url}/open-apis/bot/v2/hook/h`, larkText('tick'));
    for (let index = 0; index < 100; index += 1) {
      clock.at = Math.floor(index / 5) * 1000;
      expect((await send()).body['code'], `message ${index}`).toBe(0);
    }
    clock.at = 30_000;
    expect((await send()).body['code']).toBe(11232);
    clock.at = 59_999;
    expect((await send()).body['code']).toBe(11232);
    clock.at = 60_000;
    expect((await send()).body['code']).toBe(0);
  });
});

describe('kept messages', () => {
  it('keeps every accepted message in order per group, with its platform, robot, time and body, and tells listeners', async () => {
    const clock = fakeClock(1_700_000_000_000);
    const server = await start({
      robots: {
        dingtalk: [{ accessToken: 'd', group: 'ops', name: 'deploys' }],
        lark: [
          { hookToken: 'l', group: 'hr' },
          { hookToken: 'l2', group: 'ops' },
        ],
      },
      now: clock.now,
    });
    const heard: AcceptedMessage[] = [];
    const stop = server.webhooks.onMessage((message) => heard.push(message));
    await post(`${server.url}/robot/send?access_token=d`, dingText('one'));
    clock.at += 10;
    await post(`${server.url}/open-apis/bot/v2/hook/l`, larkText('two'));
    clock.at += 10;
    await post(`${server.url}/open-apis/bot/v2/hook/l2`, larkText('three'));
    await post(`${server.url}/robot/send?access_token=d`, { msgtype: 'text' }); // refused: not kept
    stop();
    await post(`${server.url}/robot/send?access_token=d`, dingText('four'));

    expect(server.webhooks.groups()).toEqual(['ops', 'hr']);
    expect(server.webhooks.messages('ops')).toEqual([
      { seq: 1, group: 'ops', platform: 'dingtalk', robot: 'deploys', at: 1_700_000_000_000, type: 'text', body: dingText('one') },
      { seq: 3, group: 'ops', platform: 'lark', robot: 'Lark bot', at: 1_700_000_000_020, type: 'text', body: larkText('three') },
      { seq: 4, group: 'ops', platform: 'dingtalk', robot: 'deploys', at: 1_700_000_000_020, type: 'text', body: dingText('four') },
    ]);
    expect(server.webhooks.messages('hr').map((message) => message.seq)).toEqual([2]);
    expect(server.webhooks.messages().map((message) => message.seq)).toEqual([1, 2, 3, 4]);
    expect(heard.map((message) => message.seq)).toEqual([1, 2, 3]);
  });

  it('leaves other paths alone and refuses robots that share a token or lack a group', () => {
    const webhooks = createRobotWebhooks({ robots: { dingtalk: [{ accessToken: 'd', group: 'ops' }], lark: [] } });
    expect(webhooks.handle({ method: 'POST', url: '/v1.0/oauth2/accessToken', headers: {}, body: Buffer.from('{}') })).toBeUndefined();
    expect(() => createRobotWebhooks({ robots: { dingtalk: [{ accessToken: 'd', group: 'a' }, { accessToken: 'd', group: 'b' }], lark: [] } })).toThrow(RollcallError);
    expect(() => createRobotWebhooks({ robots: { dingtalk: [], lark: [{ hookToken: 'h', group: '' }] } })).toThrow(/name the group/);
  });
});
