import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import type { Channel, Platform } from '../../src/desired/schema.js';
import { startChatEmulator, type ChatEmulator } from '../../src/emulators/chat/chat-emulator.js';
import { ChatNotifier, renderIn } from '../../src/notify/chat-notifier.js';
import type { NotifyEvent } from '../../src/notify/events.js';
import { dingtalkSign, larkSign } from '../../src/notify/robots/sign.js';
import { Outbox, type Notification } from '../../src/reconcile/outbox.js';
import { StateStore } from '../../src/reconcile/state-store.js';

/**
 * A channel whose secret variable holds the wrong secret, against the chat emulator's robots
 * (which check signatures as the platforms do): DingTalk answers 310000, Lark 19021. Over ten
 * simulated minutes the outbox tries a handful of times (backing off to once every 5 minutes, no
 * storm), keeps the notification unsent and does not lose it: once the variable holds the right
 * secret, the next try delivers it, once. The robot's status entry and the log say the signature
 * is wrong and what to change; nothing captured (log, status, the outbox's last error) holds the
 * webhook's token, either secret or any signature sent.
 *
 * Only `Date` is faked (the store, outbox, notifier, signatures and the emulator read it); timers
 * and HTTP are real.
 */

const T0 = Date.UTC(2026, 10, 2, 10, 0, 0);
const STEP_MS = 1_000;
const MINUTE = 60_000;
const LOGIN = 'wrongsecret01';

const ROBOTS = {
  dingtalk: { accessToken: 'dtWrongSecretAccessToken0123456789ab', secret: 'SECrightDingtalkSecret0123456789abcdef', wrong: 'SECwrongDingtalkSecret9876543210fedcba' },
  lark: { hookToken: '3a9e51c4-wrong-secret-lark-hook', secret: 'rightLarkSecret0123', wrong: 'wrongLarkSecret9876' },
} as const;
const REFUSAL: Record<Platform, number> = { dingtalk: 310000, lark: 19021 };

let emulator: ChatEmulator;
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  emulator = await startChatEmulator({
    dingtalk: { appKey: 'dingwrongsecret01', appSecret: 'unused' },
    lark: { appId: 'cli_wrongsecret0001', appSecret: 'unused' },
    robots: {
      dingtalk: [{ accessToken: ROBOTS.dingtalk.accessToken, secret: ROBOTS.dingtalk.secret, group: 'ops-dingtalk' }],
      lark: [{ hookToken: ROBOTS.lark.hookToken, secret: ROBOTS.lark.secret, group: 'ops-lark' }],
    },
  });
});
afterEach(async () => {
  await emulator.close();
  vi.useRealTimers();
});

function applied(login: string): NotifyEvent {
  return {
    kind: 'applied',
    revision: { sha: 'f'.repeat(40), subject: `Onboard ${login}` },
    trigger: 'revision',
    durationMs: 800,
    accounts: { created: [login], updated: [], locked: [], deleted: [] },
    instances: [{ id: 'i-bp1web0000001', ok: true }],
    links: {},
  };
}

interface LogLine {
  level: number;
  msg: string;
  code?: unknown;
  fix?: string;
  robot?: string;
  err?: { message?: string };
}

describe.each(['dingtalk', 'lark'] as const)('%s: a channel with the wrong secret', (platform) => {
  it(`is refused (${REFUSAL[platform]}) a few times with back-off, says what to fix, then delivers once the secret is right, with no secret in the log or status`, async () => {
    const robot = ROBOTS[platform];
    const lines: string[] = [];
    const log = createLogger({ ROLLCALL_LOG_LEVEL: 'debug' }, { write: (line: string) => lines.push(line) });
    const store = StateStore.inMemory();
    const channel = `ops-${platform}`;
    const channels: Record<string, Channel> = { [channel]: { platform, webhookEnv: 'ROBOT_WEBHOOK', secretEnv: 'ROBOT_SECRET' } };
    const webhook = platform === 'dingtalk' ? `${emulator.url}/robot/send?access_token=${ROBOTS.dingtalk.accessToken}` : `${emulator.url}/open-apis/bot/v2/hook/${ROBOTS.lark.hookToken}`;
    // The notifier reads the variables each time a channel resolves: fixing one needs no restart.
    const env: NodeJS.ProcessEnv = { ROBOT_WEBHOOK: webhook, ROBOT_SECRET: robot.wrong };
    const chat = new ChatNotifier({ channels: async () => channels, render: renderIn('en'), env, log });
    const outbox = new Outbox(store, chat, log);
    const stepTimes: number[] = [];
    const captured: string[] = [];
    const step = async (now: number) => {
      vi.setSystemTime(now);
      stepTimes.push(now);
      await outbox.kick();
      // What the status page would show, and the outbox's own record of the last error.
      captured.push(JSON.stringify(chat.robots()), ...store.dueNotifications(now).map((row) => row.lastError ?? ''));
    };

    try {
      expect(outbox.enqueue('applied-1', { kind: 'applied', channel, title: `applied ${LOGIN}`, text: '', event: applied(LOGIN) })).toBe(true);
      for (let now = T0; now <= T0 + 10 * MINUTE; now += STEP_MS) await step(now);

      const parsed = lines.map((line) => JSON.parse(line) as LogLine);
      const refusals = parsed.filter((line) => line.msg === 'robot refused a message');
      // Every attempt reached the platform and was refused for the signature; none got through.
      expect(refusals.length).toBeGreaterThanOrEqual(3);
      expect(refusals.every((line) => line.code === REFUSAL[platform])).toBe(true);
      expect(emulator.robots.messages(channel)).toEqual([]);
      expect(store.pendingCount()).toBe(1);
      // No storm: back-off 1 s, 2 s, 4 s … capped at 5 minutes: about ten tries in ten minutes,
      // at most two in the last five.
      const tries = parsed.filter((line) => line.msg === 'notification not delivered; will retry');
      expect(tries).toHaveLength(refusals.length);
      expect(refusals.length).toBeLessThanOrEqual(11);
      const attemptsAt = loggedAt(lines, 'robot refused a message');
      expect(attemptsAt.filter((at) => at > T0 + 5 * MINUTE).length).toBeLessThanOrEqual(2);
      const gaps = attemptsAt.slice(1).map((at, n) => at - attemptsAt[n]!);
      for (const [n, gap] of gaps.entries()) {
        expect(gap).toBeLessThanOrEqual(5 * MINUTE + STEP_MS);
        if (n > 0) expect(gap).toBeGreaterThanOrEqual(gaps[n - 1]!);
      }

      // What to fix, in the log and in the status entry.
      const fixSays = platform === 'dingtalk' ? /signature does not match: set the secret/ : /signature does not match .*set the secret/;
      expect(refusals[0]!.fix).toMatch(fixSays);
      // … and where rollcall reads the secret from: the variable to correct.
      const where = /channel ops-\w+ of approvals\.yaml: its webhook URL is read from ROBOT_WEBHOOK, its secret from ROBOT_SECRET/;
      expect(tries[0]!.err?.message).toMatch(new RegExp(`${channel} robot refused the message \\(${REFUSAL[platform]}.*signature does not match`));
      expect(tries[0]!.err?.message).toMatch(where);
      expect(chat.robots()).toEqual([
        expect.objectContaining({ channel, lastFailure: expect.objectContaining({ code: REFUSAL[platform], fix: expect.stringMatching(fixSays) }) }),
      ]);
      expect(chat.robots()[0]!.lastFailure!.fix).toMatch(where);
      expect(chat.robots()[0]!.target).not.toContain(webhook);

      // The right secret: delivered at the next try (within 5 minutes), once, and never again.
      env.ROBOT_SECRET = robot.secret;
      const fixedAt = T0 + 10 * MINUTE + STEP_MS;
      for (let now = fixedAt; now <= fixedAt + 7 * MINUTE; now += STEP_MS) await step(now);
      const delivered = emulator.robots.messages(channel);
      expect(delivered).toHaveLength(1);
      expect(JSON.stringify(delivered[0]!.body)).toContain(LOGIN);
      expect(delivered[0]!.at - fixedAt).toBeLessThanOrEqual(5 * MINUTE);
      expect(store.pendingCount()).toBe(0);
    } finally {
      await outbox.stop();
      store.close();
    }

    // No credential anywhere: the token, both secrets, and every signature any step could have sent.
    const secrets: string[] = [platform === 'dingtalk' ? ROBOTS.dingtalk.accessToken : ROBOTS.lark.hookToken, robot.secret, robot.wrong];
    for (const at of stepTimes) {
      for (const secret of [robot.secret, robot.wrong]) {
        if (platform === 'dingtalk') secrets.push(dingtalkSign(at, secret), decodeURIComponent(dingtalkSign(at, secret)));
        else secrets.push(larkSign(Math.floor(at / 1000), secret));
      }
    }
    const all = [...lines, ...captured, JSON.stringify(chat.robots())].join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(all).not.toMatch(/sign=(?!\*\*\*)/);
    expect(all).not.toContain('access_token=' + ROBOTS.dingtalk.accessToken.slice(0, 8));
    for (const secret of new Set(secrets)) expect(all.includes(secret), `a credential is in the log or status: ${secret.slice(0, 6)}…`).toBe(false);
  }, 60_000);
});

/** The simulated time of each log line with this message (pino's `time` is Date.now, faked). */
function loggedAt(lines: readonly string[], msg: string): number[] {
  return lines.map((line) => JSON.parse(line) as { msg: string; time: number }).filter((line) => line.msg === msg).map((line) => line.time);
}
