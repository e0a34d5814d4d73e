/**
 * Results out: how long does one notification take to reach the group, and how long does a burst
 * take against what the platform's own limit allows?
 *
 *   1. Latency: --events (200) single `applied` events, each enqueued in the durable outbox (SQLite,
 *      WAL) and sent by the chat notifier (render, sign, POST) to the chat emulator's robot; the
 *      clock runs from `enqueue` until the emulator accepted the message (its onMessage, in this
 *      process). The events are 10 s apart on a simulated clock, so nothing queues and the robot's
 *      real buckets (DingTalk 6 + 12/min, Lark 2 + 2/s and 20 + 70/min) and the emulator's real
 *      limits never bite. Baseline (the floor), alternating with it: the same rendered body, signed
 *      and POSTed bare with fetch to the same robot, to the same moment.
 *   2. Burst: 500 results (one login each) to one channel, arriving evenly over one minute, and
 *      all at once; the time (simulated) from the first arrival until the last result is in a
 *      message the emulator accepted. The floor is the platform's limit: ⌈500 / capacity⌉
 *      messages, capacity = the most results one 20 KB digest names whole (measured here, per
 *      platform and language), at 20 a minute (Lark: 5 a second, 100 a minute), and never before
 *      the last result arrives.
 *
 * The simulated clock: `Date.now` is replaced by a value the bench sets (the store, the outbox,
 * the notifier, the signatures and the emulator all read it); real time is `performance.now()`.
 *
 *   node --import tsx bench/notify.ts [--events N] [--runs N]
 *   npm run bench:notify
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/config/logger.js';
import type { Channel, Platform } from '../src/desired/schema.js';
import { startChatEmulator, type ChatEmulator } from '../src/emulators/chat/chat-emulator.js';
import type { AcceptedMessage } from '../src/emulators/chat/robot-webhooks.js';
import { ChatNotifier, renderIn } from '../src/notify/chat-notifier.js';
import type { AppliedEvent, DigestEvent } from '../src/notify/events.js';
import { dingtalkSign, larkSign } from '../src/notify/robots/sign.js';
import { Outbox } from '../src/reconcile/outbox.js';
import { StateStore } from '../src/reconcile/state-store.js';

const { values } = parseArgs({ options: { events: { type: 'string' }, runs: { type: 'string' } } });
const EVENTS = Number(values.events ?? 200);
const RUNS = Number(values.runs ?? 1);
const WARM_UP = 10;
const BURST = 500;
const SPACING_MS = 10_000;
const LANGUAGE = 'zh';
const ROBOTS = {
  dingtalk: { accessToken: 'dtBenchNotifyAccessToken0123456789', secret: 'SECbenchNotifyDingtalkSecret0123' },
  lark: { hookToken: 'b3f1e2d4-bench-notify-lark-hook', secret: 'benchNotifyLarkSecret' },
} as const;
const log = createLogger({ ROLLCALL_LOG_LEVEL: process.env.BENCH_LOG ?? 'silent' });

// The simulated wall clock. Real time is performance.now().
let simulated = Date.UTC(2026, 10, 2, 9, 0, 0);
Date.now = () => simulated;

const login = (n: number) => `bench${String(n).padStart(5, '0')}`;

function applied(name: string): AppliedEvent {
  return {
    kind: 'applied',
    revision: { sha: 'a'.repeat(40), subject: `Onboard ${name}` },
    trigger: 'revision',
    durationMs: 900,
    accounts: { created: [name], updated: [], locked: [], deleted: [] },
    instances: [{ id: 'i-bp1web0000001', ok: true }],
    links: {},
  };
}

/** The most results one digest names whole (every login listed) within the platform's 20 KB. */
function capacity(platform: Platform): number {
  const render = renderIn(LANGUAGE);
  const whole = (count: number) => {
    const events = Array.from({ length: count }, (_, n) => applied(login(n)));
    const body = JSON.stringify(render(platform, { kind: 'digest', events, from: 'x', to: 'x' } satisfies DigestEvent));
    return events.every((_, n) => body.includes(login(n)));
  };
  let low = 1;
  let high = BURST;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (whole(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}

interface Rig {
  emulator: ChatEmulator;
  store: StateStore;
  outbox: Outbox;
  webhook: string;
  group: string;
  close(): Promise<void>;
}

async function rig(platform: Platform): Promise<Rig> {
  const emulator = await startChatEmulator({
    dingtalk: { appKey: 'dingbenchnotify01', appSecret: 'unused' },
    lark: { appId: 'cli_benchnotify0001', appSecret: 'unused' },
    robots: { dingtalk: [{ ...ROBOTS.dingtalk, group: 'bench-dingtalk' }], lark: [{ ...ROBOTS.lark, group: 'bench-lark' }] },
  });
  const webhook = platform === 'dingtalk' ? `${emulator.url}/robot/send?access_token=${ROBOTS.dingtalk.accessToken}` : `${emulator.url}/open-apis/bot/v2/hook/${ROBOTS.lark.hookToken}`;
  // A file, as rollcall serve has it (WAL, synchronous=FULL): the outbox's write is part of the latency.
  const dir = mkdtempSync(path.join(tmpdir(), 'rollcall-bench-notify-'));
  const store = StateStore.open(dir);
  const channels: Record<string, Channel> = { bench: { platform, webhookEnv: 'BENCH_WEBHOOK', secretEnv: 'BENCH_SECRET' } };
  const chat = new ChatNotifier({ channels: async () => channels, render: renderIn(LANGUAGE), env: { BENCH_WEBHOOK: webhook, BENCH_SECRET: ROBOTS[platform].secret }, log });
  const outbox = new Outbox(store, chat, log);
  return {
    emulator,
    store,
    outbox,
    webhook,
    group: `bench-${platform}`,
    async close() {
      await outbox.stop();
      store.close();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves (real ms, performance.now) when the emulator accepts its next message. */
function nextAccepted(emulator: ChatEmulator): Promise<number> {
  return new Promise((resolve) => {
    const stop = emulator.robots.onMessage(() => {
      stop();
      resolve(performance.now());
    });
  });
}

/** The same body rollcall would send, signed and POSTed bare: the floor. */
async function barePost(platform: Platform, webhook: string, body: object): Promise<void> {
  const now = Date.now();
  const response =
    platform === 'dingtalk'
      ? await fetch(`${webhook}&timestamp=${now}&sign=${dingtalkSign(now, ROBOTS.dingtalk.secret)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      : await fetch(webhook, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...body, timestamp: String(Math.floor(now / 1000)), sign: larkSign(Math.floor(now / 1000), ROBOTS.lark.secret) }),
        });
  const reply = (await response.json()) as { errcode?: number; code?: number };
  if ((reply.errcode ?? reply.code) !== 0) throw new Error(`bare POST refused: ${JSON.stringify(reply)}`);
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function latency(platform: Platform): Promise<{ rollcall: number[]; bare: number[] }> {
  const r = await rig(platform);
  try {
    const body = renderIn(LANGUAGE)(platform, applied(login(0)));
    const rollcall: number[] = [];
    const bare: number[] = [];
    for (let n = 0; n < WARM_UP + EVENTS; n++) {
      simulated += SPACING_MS;
      const accepted = nextAccepted(r.emulator);
      const began = performance.now();
      r.outbox.enqueue(`latency-${n}`, { kind: 'applied', channel: 'bench', title: `applied ${login(n)}`, text: '', event: applied(login(n)) });
      const at = await accepted;
      await r.outbox.kick();
      if (r.store.pendingCount() !== 0) throw new Error(`event ${n} not marked sent`);

      simulated += SPACING_MS;
      const bareAccepted = nextAccepted(r.emulator);
      const bareBegan = performance.now();
      await barePost(platform, r.webhook, body);
      const bareAt = await bareAccepted;
      if (n >= WARM_UP) {
        rollcall.push(at - began);
        bare.push(bareAt - bareBegan);
      }
    }
    return { rollcall: rollcall.sort((a, b) => a - b), bare: bare.sort((a, b) => a - b) };
  } finally {
    await r.close();
  }
}

interface BurstOutcome {
  /** Simulated ms from the first arrival to the last result's message accepted. */
  lastMs: number;
  lastArrivalMs: number;
  messages: number;
  realMs: number;
}

/** `results` arriving evenly over `spanMs` (0: all at once), driven in 100 ms steps of the simulated clock. */
async function burst(platform: Platform, results: number, spanMs: number): Promise<BurstOutcome> {
  const r = await rig(platform);
  try {
    const start = (simulated += 60 * 60_000);
    const arrivals = Array.from({ length: results }, (_, n) => start + Math.floor((n * spanMs) / results));
    const named = new Map<string, number>();
    r.emulator.robots.onMessage((message: AcceptedMessage) => {
      for (const match of JSON.stringify(message.body).matchAll(/bench\d{5}/g)) if (!named.has(match[0])) named.set(match[0], message.at);
    });
    const began = performance.now();
    let next = 0;
    for (let now = start; next < results || r.store.pendingCount() > 0; now += 100) {
      if (now - start > 30 * 60_000) throw new Error(`${platform}: ${r.store.pendingCount()} results undelivered after 30 simulated minutes`);
      simulated = now;
      for (; next < results && arrivals[next]! <= now; next++) {
        r.outbox.enqueue(`burst-${next}`, { kind: 'applied', channel: 'bench', title: `applied ${login(next)}`, text: '', event: applied(login(next)) });
      }
      await r.outbox.kick();
    }
    const realMs = performance.now() - began;
    if (named.size !== results) throw new Error(`${platform}: ${results - named.size} results named in no message`);
    return { lastMs: Math.max(...named.values()) - start, lastArrivalMs: arrivals.at(-1)! - start, messages: r.emulator.robots.messages(r.group).length, realMs };
  } finally {
    await r.close();
  }
}

const WINDOWS: Record<Platform, { limit: number; ms: number }[]> = {
  dingtalk: [{ limit: 20, ms: 60_000 }],
  lark: [{ limit: 5, ms: 1_000 }, { limit: 100, ms: 60_000 }],
};

/**
 * The platform's floor for `messages` messages, not before the last result arrived: a sliding
 * window lets a limit's worth go at once, then a window more for each further limit's worth.
 */
function floorMs(platform: Platform, messages: number, lastArrivalMs: number): number {
  const limitMs = Math.max(...WINDOWS[platform].map((window) => (Math.ceil(messages / window.limit) - 1) * window.ms));
  return Math.max(lastArrivalMs, limitMs);
}

/** The same at the platform's sustained rate (20 a minute: 3 s a message; Lark 0.6 s), for comparison. */
function sustainedMs(platform: Platform, messages: number, lastArrivalMs: number): number {
  return Math.max(lastArrivalMs, Math.max(...WINDOWS[platform].map((window) => (messages * window.ms) / window.limit)));
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const s = (value: number) => `${(value / 1000).toFixed(1)} s`;
const machine = `${cpus().length} cores, Node ${process.versions.node}, load ${loadavg()[0]!.toFixed(2)}`;
console.log(`notify bench: ${EVENTS} single events, bursts of ${BURST}, ${RUNS} run(s), language ${LANGUAGE}; ${machine}`);
const capacities = { dingtalk: capacity('dingtalk'), lark: capacity('lark') };
console.log(`capacity: one 20 KB digest names ${capacities.dingtalk} results whole on DingTalk, ${capacities.lark} on Lark`);
for (let run = 1; run <= RUNS; run++) {
  for (const platform of ['dingtalk', 'lark'] as const) {
    const { rollcall, bare } = await latency(platform);
    const [p50, p99, bare50, bare99] = [percentile(rollcall, 50), percentile(rollcall, 99), percentile(bare, 50), percentile(bare, 99)];
    console.log(`latency ${run} ${platform}: enqueue → accepted p50 ${ms(p50)} p99 ${ms(p99)}; bare signed POST p50 ${ms(bare50)} p99 ${ms(bare99)}; ratio p50 ${(p50 / bare50).toFixed(2)}× p99 ${(p99 / bare99).toFixed(2)}×`);
  }
  for (const platform of ['dingtalk', 'lark'] as const) {
    for (const [results, name, spanMs] of [[BURST, 'over a minute', 60_000], [BURST, 'at once', 0], [10 * BURST, 'at once', 0]] as const) {
      const needed = Math.ceil(results / capacities[platform]);
      const outcome = await burst(platform, results, spanMs);
      const floor = floorMs(platform, needed, outcome.lastArrivalMs);
      const ratio = floor > 0 ? `${(outcome.lastMs / floor).toFixed(2)}× the floor` : `${s(outcome.lastMs - floor)} past the floor`;
      console.log(
        `burst ${run} ${platform} ${results} ${name}: last result delivered at ${s(outcome.lastMs)} (simulated; last arrival ${s(outcome.lastArrivalMs)}), ${outcome.messages} messages; ` +
          `floor ${s(floor)} (${needed} messages; at the sustained rate ${s(sustainedMs(platform, needed, outcome.lastArrivalMs))}); ${ratio}; ${(outcome.realMs / 1000).toFixed(2)} s real`,
      );
    }
  }
}
