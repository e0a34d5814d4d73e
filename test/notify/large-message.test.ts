import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import type { Channel } from '../../src/desired/schema.js';
import { startChatEmulator, type ChatEmulator } from '../../src/emulators/chat/chat-emulator.js';
import { ChatNotifier, renderIn } from '../../src/notify/chat-notifier.js';
import type { AppliedEvent } from '../../src/notify/events.js';
import { LARK_MAX_BODY_BYTES } from '../../src/notify/robots/lark-bot.js';
import type { Notification } from '../../src/reconcile/outbox.js';

/**
 * A message that needs the whole size budget (an apply of thousands of logins, summarised to fit)
 * is sent and accepted, signed, by the chat emulator's robots: what the renderer makes must fit
 * what the robot client sends, signature included. (Lark's cards were rendered to 20,000 bytes
 * before the client added ~80 bytes of timestamp and sign and refused anything over 20,000.)
 */

const ROBOTS = {
  dingtalk: { accessToken: 'dtLargeMessageAccessToken012345678', secret: 'SEClargeMessageDingtalkSecret01' },
  lark: { hookToken: '9c4e2f1a-large-message-lark-hook', secret: 'largeMessageLarkSecret' },
} as const;
const CHANNELS: Record<string, Channel> = {
  'ops-dingtalk': { platform: 'dingtalk', webhookEnv: 'DT_WEBHOOK', secretEnv: 'DT_SECRET' },
  'ops-lark': { platform: 'lark', webhookEnv: 'LK_WEBHOOK', secretEnv: 'LK_SECRET' },
};

let emulator: ChatEmulator;
beforeEach(async () => {
  emulator = await startChatEmulator({
    dingtalk: { appKey: 'dinglargemessage01', appSecret: 'unused' },
    lark: { appId: 'cli_largemessage0001', appSecret: 'unused' },
    robots: { dingtalk: [{ ...ROBOTS.dingtalk, group: 'ops-dingtalk' }], lark: [{ ...ROBOTS.lark, group: 'ops-lark' }] },
  });
});
afterEach(() => emulator.close());

function bigApply(logins: number): AppliedEvent {
  return {
    kind: 'applied',
    revision: { sha: 'b'.repeat(40), subject: 'Onboard the new intake' },
    trigger: 'revision',
    durationMs: 61_000,
    accounts: { created: Array.from({ length: logins }, (_, n) => `intake${String(n).padStart(4, '0')}`), updated: [], locked: [], deleted: [] },
    instances: [{ id: 'i-bp1web0000001', ok: true }],
    links: {},
  };
}

describe.each(['dingtalk', 'lark'] as const)('%s: a message as large as a message can be', (platform) => {
  it('is sent, signed, and accepted by the robot', async () => {
    const lines: string[] = [];
    const log = createLogger({ ROLLCALL_LOG_LEVEL: 'info' }, { write: (line: string) => lines.push(line) });
    const env = {
      DT_WEBHOOK: `${emulator.url}/robot/send?access_token=${ROBOTS.dingtalk.accessToken}`,
      DT_SECRET: ROBOTS.dingtalk.secret,
      LK_WEBHOOK: `${emulator.url}/open-apis/bot/v2/hook/${ROBOTS.lark.hookToken}`,
      LK_SECRET: ROBOTS.lark.secret,
    };
    const chat = new ChatNotifier({ channels: async () => CHANNELS, render: renderIn('zh'), env, log });
    const channel = `ops-${platform}`;
    const notification: Notification = { kind: 'applied', channel, title: 'applied the intake', text: '', event: bigApply(3_000) };
    await expect(chat.deliver(notification)).resolves.toBeUndefined();
    const [message, ...more] = emulator.robots.messages(channel);
    expect(more).toEqual([]);
    // It did need the budget: most logins are counted, not listed, and the body is near the limit.
    const body = JSON.stringify(message!.body);
    expect(body).toContain('intake0000');
    expect(body).not.toContain('intake2999');
    expect(Buffer.byteLength(body)).toBeGreaterThan(LARK_MAX_BODY_BYTES - 1_000);
    expect(lines.filter((line) => line.includes('"level":50'))).toEqual([]);
  });
});
