import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import type { Channel, Platform } from '../../src/desired/schema.js';
import { startChatEmulator, type ChatEmulator } from '../../src/emulators/chat/chat-emulator.js';
import type { AcceptedMessage } from '../../src/emulators/chat/robot-webhooks.js';
import { ChatNotifier, renderIn } from '../../src/notify/chat-notifier.js';
import type { NotifyEvent } from '../../src/notify/events.js';
import { Outbox, type Notification } from '../../src/reconcile/outbox.js';
import { StateStore } from '../../src/reconcile/state-store.js';
import { seededRandom } from './seeded-random.js';

/**
 * The issue's burst: 500 results (one `applied` event each, each its own login) arrive within one
 * minute for one channel, whose robot is the chat emulator's (signed, real limits, real error
 * codes). Every login must appear in some accepted message, the platform must never have had to
 * throttle (no 130101 / 11232: every reply was a success), and the accepted messages, slid over,
 * stay within the platform's windows.
 *
 * The clock is simulated: only `Date` is faked (`vi.setSystemTime`), so the store, the outbox, the
 * notifier, the robots' signatures and the emulator's limits all read the same simulated time,
 * while timers and HTTP stay real. The test advances the clock in small steps, enqueues the results
 * due by then and waits for the outbox's round; a minute (and the digests after it) takes seconds.
 *
 * Seed: ROLLCALL_BURST_SEED replays the arrival times.
 */

const RESULTS = 500;
const ARRIVAL_SPAN_MS = 60_000;
const STEP_MS = 250;
/** Far beyond what delivery needs (about a minute): a run past it has stalled. */
const GIVE_UP_AFTER_MS = 5 * 60_000;
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const SEED = Number(process.env.ROLLCALL_BURST_SEED ?? Date.now() % 1_000_000);

const DT = { accessToken: 'dtBurstAccessToken0123456789abcdef', secret: 'SECburstDingtalkSecret0123456789' };
const LK = { hookToken: '5f1c2a9e-burst-lark-hook-token', secret: 'burstLarkSecret0123' };

let emulator: ChatEmulator;
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  emulator = await startChatEmulator({
    dingtalk: { appKey: 'dingburstnotify01', appSecret: 'unused' },
    lark: { appId: 'cli_burstnotify0001', appSecret: 'unused' },
    robots: {
      dingtalk: [{ ...DT, group: 'burst-dingtalk' }],
      lark: [{ ...LK, group: 'burst-lark' }],
    },
  });
});
afterEach(async () => {
  await emulator.close();
  vi.useRealTimers();
});

/** Fixed width, so that no login is a prefix of another (`u007` is not in `u0071`). */
const login = (n: number) => `burst${String(n).padStart(3, '0')}`;

function applied(name: string): NotifyEvent {
  return {
    kind: 'applied',
    revision: { sha: 'd'.repeat(40), subject: `Onboard ${name}` },
    trigger: 'revision',
    durationMs: 900,
    accounts: { created: [name], updated: [], locked: [], deleted: [] },
    instances: [{ id: 'i-bp1web0000001', ok: true }],
    links: {},
  };
}

interface BurstRun {
  messages: AcceptedMessage[];
  /** The daemon's log lines, JSON. */
  lines: string[];
  robots: ReturnType<ChatNotifier['robots']>;
  /** Simulated ms from the first arrival to the last message accepted. */
  lastDeliveredAfterMs: number;
  seed: number;
  /** How many of the platform's replies were not a success, as the robot reported them. */
  refusals: { msg: string; code?: unknown }[];
}

/** 500 results at seeded random moments within a minute (`spanMs`), to one channel of `platform`. */
async function burst(platform: Platform, spanMs = ARRIVAL_SPAN_MS): Promise<BurstRun> {
  const lines: string[] = [];
  const log = createLogger({ ROLLCALL_LOG_LEVEL: 'info' }, { write: (line: string) => lines.push(line) });
  const store = StateStore.inMemory();
  const channels: Record<string, Channel> = { onboarding: { platform, webhookEnv: 'BURST_WEBHOOK', secretEnv: 'BURST_SECRET' } };
  const env =
    platform === 'dingtalk'
      ? { BURST_WEBHOOK: `${emulator.url}/robot/send?access_token=${DT.accessToken}`, BURST_SECRET: DT.secret }
      : { BURST_WEBHOOK: `${emulator.url}/open-apis/bot/v2/hook/${LK.hookToken}`, BURST_SECRET: LK.secret };
  const chat = new ChatNotifier({ channels: async () => channels, render: renderIn('zh'), env, log });
  const outbox = new Outbox(store, chat, log);
  const random = seededRandom(SEED);
  const arrivals = Array.from({ length: RESULTS }, () => T0 + random.int(0, spanMs - 1)).sort((a, b) => a - b);
  try {
    let next = 0;
    for (let now = T0; ; now += STEP_MS) {
      if (now - T0 > GIVE_UP_AFTER_MS) throw new Error(`${store.pendingCount()} results still undelivered after ${GIVE_UP_AFTER_MS / 60_000} simulated minutes (seed ${SEED})`);
      vi.setSystemTime(now);
      for (; next < RESULTS && arrivals[next]! <= now; next++) {
        const notification: Notification = { kind: 'applied', channel: 'onboarding', title: `applied ${login(next)}`, text: '', event: applied(login(next)) };
        expect(outbox.enqueue(`result-${next}`, notification)).toBe(true);
      }
      await outbox.kick();
      if (next === RESULTS && store.pendingCount() === 0) break;
    }
  } finally {
    await outbox.stop();
    store.close();
  }
  const group = platform === 'dingtalk' ? 'burst-dingtalk' : 'burst-lark';
  const messages = emulator.robots.messages(group);
  const parsed = lines.map((line) => JSON.parse(line) as { msg: string; code?: unknown });
  return {
    messages,
    lines,
    robots: chat.robots(),
    lastDeliveredAfterMs: messages.at(-1)!.at - arrivals[0]!,
    seed: SEED,
    refusals: parsed.filter((line) => line.msg === 'robot paused' || line.msg === 'robot refused a message'),
  };
}

/** The most accepted messages in any window of `windowMs` (a window starts at each message). */
function busiestWindow(messages: readonly AcceptedMessage[], windowMs: number): number {
  let most = 0;
  let end = 0;
  for (let start = 0; start < messages.length; start++) {
    while (end < messages.length && messages[end]!.at < messages[start]!.at + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

/** Every login named in any accepted message's body. */
function loginsShown(messages: readonly AcceptedMessage[]): Set<string> {
  const shown = new Set<string>();
  for (const message of messages) for (const match of JSON.stringify(message.body).matchAll(/burst\d{3}/g)) shown.add(match[0]);
  return shown;
}

function expectEveryLogin(run: BurstRun): void {
  const shown = loginsShown(run.messages);
  const missing = Array.from({ length: RESULTS }, (_, n) => login(n)).filter((name) => !shown.has(name));
  expect(missing, `logins in no message (seed ${run.seed})`).toEqual([]);
}

describe(`a burst of ${RESULTS} results in one minute to one robot (seed ${SEED})`, () => {
  it('DingTalk: every login in some message, never throttled (no 130101), at most 20 messages in any 60 s', async () => {
    const run = await burst('dingtalk');
    expectEveryLogin(run);
    // The robot saw no reply but success: no 130101, nor anything else.
    expect(run.refusals, run.lines.join('\n')).toEqual([]);
    expect(run.robots).toEqual([expect.not.objectContaining({ lastFailure: expect.anything() })]);
    expect(busiestWindow(run.messages, 60_000)).toBeLessThanOrEqual(20);
    // Digests, not one message per result; and not so few that the group waited for nothing.
    expect(run.messages.length).toBeLessThan(40);
    expect(run.messages.length).toBeGreaterThan(10);
    // The last result arrives within the minute; the robot's bucket (one per 5 s) sends its digest soon after.
    expect(run.lastDeliveredAfterMs).toBeLessThan(ARRIVAL_SPAN_MS + 10_000);
  }, 60_000);

  // Results that arrive faster than one step of the clock (a batch of commits applied together)
  // pile up behind the first message: the next message cannot name 499 logins in 20 KB, so
  // the rest must wait for the one after, not be counted in a summary and marked sent.
  it('DingTalk, all at once: every login in some message though no single message can hold them all', async () => {
    const run = await burst('dingtalk', 1);
    expectEveryLogin(run);
    expect(run.refusals, run.lines.join('\n')).toEqual([]);
    expect(busiestWindow(run.messages, 60_000)).toBeLessThanOrEqual(20);
    expect(run.messages.length).toBeLessThanOrEqual(6);
  }, 60_000);

  it('Lark, all at once: every login in some message, each message within the size the bot client sends', async () => {
    const run = await burst('lark', 1);
    expectEveryLogin(run);
    expect(run.refusals, run.lines.join('\n')).toEqual([]);
    expect(busiestWindow(run.messages, 1_000)).toBeLessThanOrEqual(5);
    expect(run.messages.length).toBeLessThanOrEqual(6);
  }, 60_000);

  it('Lark: every login in some message, never throttled (no 11232), at most 5 in any second and 100 in any 60 s', async () => {
    const run = await burst('lark');
    expectEveryLogin(run);
    expect(run.refusals, run.lines.join('\n')).toEqual([]);
    expect(run.robots).toEqual([expect.not.objectContaining({ lastFailure: expect.anything() })]);
    expect(busiestWindow(run.messages, 1_000)).toBeLessThanOrEqual(5);
    expect(busiestWindow(run.messages, 60_000)).toBeLessThanOrEqual(100);
    expect(run.messages.length).toBeLessThan(RESULTS);
    expect(run.lastDeliveredAfterMs).toBeLessThan(ARRIVAL_SPAN_MS + 2_000);
  }, 60_000);
});
