/**
 * A process that holds a state store and sends what it produces through the real outbox and chat
 * notifier: what `rollcall serve` does with notifications, without the fleet around it, so that a
 * test can SIGKILL it mid-burst (notify-kill.test.ts). Run with `node --import tsx`.
 *
 * Environment: NOTIFY_STATE_DIR, NOTIFY_PLATFORM (dingtalk | lark), NOTIFY_WEBHOOK, NOTIFY_SECRET,
 * NOTIFY_COUNT (results to produce), NOTIFY_EVERY_MS (between two). The results are `applied`
 * events for logins `kill000`, `kill001`, …, under keys `result-<n>`: a restart produces the same
 * ones again, and the outbox stores each key once, so what was stored before the kill is not
 * stored twice. Prints `{"done":true}` on stdout and exits when everything was produced and
 * nothing is pending; SIGTERM stops it gracefully.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/config/logger.js';
import type { Channel } from '../../src/desired/schema.js';
import { ChatNotifier, renderIn } from '../../src/notify/chat-notifier.js';
import type { NotifyEvent } from '../../src/notify/events.js';
import { Outbox } from '../../src/reconcile/outbox.js';
import { StateStore } from '../../src/reconcile/state-store.js';

const env = process.env;
const platform = env.NOTIFY_PLATFORM === 'dingtalk' ? 'dingtalk' : 'lark';
const count = Number(env.NOTIFY_COUNT ?? '100');
const everyMs = Number(env.NOTIFY_EVERY_MS ?? '20');

/** Fixed width, so that no login is a prefix of another. */
export const killLogin = (n: number) => `kill${String(n).padStart(3, '0')}`;

function applied(login: string): NotifyEvent {
  return {
    kind: 'applied',
    revision: { sha: 'e'.repeat(40), subject: `Onboard ${login}` },
    trigger: 'revision',
    durationMs: 700,
    accounts: { created: [login], updated: [], locked: [], deleted: [] },
    instances: [{ id: 'i-bp1web0000001', ok: true }],
    links: {},
  };
}

async function main(): Promise<void> {
  const log = createLogger({ ROLLCALL_LOG_LEVEL: env.ROLLCALL_LOG_LEVEL ?? 'info' });
  const store = StateStore.open(env.NOTIFY_STATE_DIR ?? '');
  const channels: Record<string, Channel> = { onboarding: { platform, webhookEnv: 'NOTIFY_WEBHOOK', secretEnv: 'NOTIFY_SECRET' } };
  const chat = new ChatNotifier({ channels: async () => channels, render: renderIn('zh'), env, log });
  const outbox = new Outbox(store, chat, log);
  let stopping = false;
  process.once('SIGTERM', () => {
    stopping = true;
    void outbox.stop().finally(() => {
      store.close();
      process.exit(0);
    });
  });

  // What was stored before a kill is skipped at once: only new results take time to "arrive".
  for (let n = 0; n < count && !stopping; n++) {
    const login = killLogin(n);
    if (outbox.enqueue(`result-${n}`, { kind: 'applied', channel: 'onboarding', title: `applied ${login}`, text: '', event: applied(login) })) await sleep(everyMs);
  }
  // The outbox retries on its own timer; this only watches for the end.
  await outbox.kick();
  while (!stopping && store.pendingCount() > 0) await sleep(50);
  if (stopping) return;
  await outbox.stop();
  store.close();
  process.stdout.write(`${JSON.stringify({ done: true })}\n`);
}

await main();
