import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/config/logger.js';
import { startChatEmulator, type ChatEmulator } from '../../../src/emulators/chat/chat-emulator.js';
import { ChatNotifier, renderIn } from '../../../src/notify/chat-notifier.js';

const emulators: ChatEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
});

describe('the chat emulator serves its robots and the group page on its one server', () => {
  it("takes rollcall's signed messages on both platforms, keeps them per group, and the page lists the groups", async () => {
    const emulator = await startChatEmulator({
      dingtalk: { appKey: 'dingrobotsmount01', appSecret: 'x' },
      lark: { appId: 'cli_00112233445566aa', appSecret: 'x' },
      robots: {
        dingtalk: [{ accessToken: 'dt-token-1', secret: 'SECdt', group: 'HR onboarding' }],
        lark: [{ hookToken: 'lark-hook-1', secret: 'larksecret', group: 'Platform ops' }],
      },
    });
    emulators.push(emulator);
    const chat = new ChatNotifier({
      channels: async () => ({
        hr: { platform: 'dingtalk', webhookEnv: 'DT_HOOK', secretEnv: 'DT_SECRET' },
        ops: { platform: 'lark', webhookEnv: 'LARK_HOOK', secretEnv: 'LARK_SECRET' },
      }),
      opsChannel: 'ops',
      render: renderIn('en'),
      env: { DT_HOOK: `${emulator.url}/robot/send?access_token=dt-token-1`, DT_SECRET: 'SECdt', LARK_HOOK: `${emulator.url}/open-apis/bot/v2/hook/lark-hook-1`, LARK_SECRET: 'larksecret' },
      log: createLogger({ ROLLCALL_LOG_LEVEL: 'silent' }),
    });
    await chat.deliver({ kind: 'request-refused', channel: 'hr', title: 'refused', text: '', event: { kind: 'request-refused', approval: { platform: 'dingtalk', id: 'PI-1', requester: { id: 'hr-lin' }, approvers: [] }, reason: 'the login wangwu already belongs to E1003' } });
    await chat.deliver({ kind: 'stalled', channel: 'ops', title: 'stalled', text: '', event: { kind: 'stalled', reason: 'unreachable', message: 'Cloud Assistant is not running on i-web1', links: {} } });
    expect(emulator.robots.messages().map((message) => [message.group, message.platform])).toEqual([
      ['HR onboarding', 'dingtalk'],
      ['Platform ops', 'lark'],
    ]);
    expect(JSON.stringify(emulator.robots.messages('HR onboarding')[0]!.body)).toContain('wangwu');
    const page = await fetch(`${emulator.url}/chat`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    // The open APIs are still there beside them.
    expect((await fetch(`${emulator.url}/v1.0/oauth2/accessToken`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).not.toBe(404);
  });
});
