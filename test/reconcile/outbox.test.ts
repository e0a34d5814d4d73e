import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { LogNotifier, Outbox, type Notification, type Notifier } from '../../src/reconcile/outbox.js';
import { StateStore } from '../../src/reconcile/state-store.js';

/** A logger whose lines the test reads. */
function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ ROLLCALL_LOG_LEVEL: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

function notification(title: string, extra: Partial<Notification> = {}): Notification {
  return { kind: 'applied', channel: 'ops', title, text: `${title}: details`, ...extra };
}

/** A notifier that records what it delivered; `failures` are thrown first, one per call. */
function recordingNotifier(failures: string[] = []): Notifier & { delivered: Notification[]; calls: number } {
  return {
    delivered: [],
    calls: 0,
    async deliver(sent) {
      this.calls++;
      const failure = failures.shift();
      if (failure !== undefined) throw new Error(failure);
      this.delivered.push(sent);
    },
  };
}

/** Waits for the round in progress and the one a call during it asked for. */
async function settle(outbox: Outbox): Promise<void> {
  await outbox.kick();
  await outbox.kick();
}

let store: StateStore;
const outboxes: Outbox[] = [];

beforeEach(() => {
  // Date.now read at each call: the tests that fake the clock fake it for the store and the outbox alike.
  store = StateStore.inMemory({ now: () => Date.now() });
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(outboxes.splice(0).map((outbox) => outbox.stop()));
  store.close();
});

function makeOutbox(notifier: Notifier, onPending?: (count: number) => void) {
  const { log, lines } = captureLog();
  const outbox = new Outbox(store, notifier, log, onPending);
  outboxes.push(outbox);
  return { outbox, lines };
}

describe('Outbox', () => {
  it('stores a notification once per key and delivers it once', async () => {
    const notifier = recordingNotifier();
    const { outbox } = makeOutbox(notifier);
    outbox.enqueue('result:a-1', notification('applied a'));
    outbox.enqueue('result:a-1', notification('applied a, again'));
    await settle(outbox);
    expect(notifier.delivered).toEqual([notification('applied a')]);
    expect(store.pendingCount()).toBe(0);

    // The key stays taken after the send: the same notification is never stored or sent again.
    outbox.enqueue('result:a-1', notification('applied a, a third time'));
    await settle(outbox);
    expect(notifier.delivered).toHaveLength(1);
    expect(notifier.calls).toBe(1);
  });

  it('delivers in the order they were queued', async () => {
    const notifier = recordingNotifier();
    const { outbox } = makeOutbox(notifier);
    for (const title of ['one', 'two', 'three']) outbox.enqueue(`k:${title}`, notification(title));
    await settle(outbox);
    expect(notifier.delivered.map((sent) => sent.title)).toEqual(['one', 'two', 'three']);
  });

  it('keeps every field of the notification through the store', async () => {
    const notifier = recordingNotifier();
    const { outbox } = makeOutbox(notifier);
    const full = notification('Drift from abc', { kind: 'drift-detected', channel: 'ops-lark', text: 'i-web1: create user lisi\n中文', revision: 'c'.repeat(40) });
    outbox.enqueue('drift:c', full);
    await settle(outbox);
    expect(notifier.delivered).toEqual([full]);
  });

  it('retries a failed send after its backoff, and then delivers it exactly once', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const notifier = recordingNotifier(['robot webhook answered 500']);
    const pending: number[] = [];
    const { outbox, lines } = makeOutbox(notifier, (count) => pending.push(count));
    const queuedAt = Date.now();
    outbox.enqueue('result:b-1', notification('applied b'));
    outbox.enqueue('result:b-2', notification('applied b2'));
    await settle(outbox);

    // The failure does not hold the other back.
    expect(notifier.delivered.map((sent) => sent.title)).toEqual(['applied b2']);
    expect(store.pendingCount()).toBe(1);
    // markFailed: counted, the error kept, not due before the first backoff (1 s).
    expect(store.dueNotifications(queuedAt + 999)).toEqual([]);
    const [waiting] = store.dueNotifications(queuedAt + 1_000);
    expect(waiting).toMatchObject({ key: 'result:b-1', attempts: 1, lastError: 'robot webhook answered 500', notBefore: queuedAt + 1_000 });
    expect(lines.find((line) => line.msg === 'notification not delivered; will retry')).toMatchObject({ level: 40, channel: 'ops', notifications: 1, retryInMs: 1_000 });

    await vi.advanceTimersByTimeAsync(1_000);
    await settle(outbox);
    expect(notifier.delivered.map((sent) => sent.title)).toEqual(['applied b2', 'applied b']);
    expect(store.pendingCount()).toBe(0);

    // Nothing is sent twice once sent, however often the outbox is woken.
    await vi.advanceTimersByTimeAsync(10_000);
    await settle(outbox);
    expect(notifier.calls).toBe(3);
    expect(pending.at(-1)).toBe(0);
    expect(pending).toContain(1);
  });

  it('doubles the wait after each failed try', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const notifier = recordingNotifier(['down', 'down', 'down']);
    const { outbox, lines } = makeOutbox(notifier);
    outbox.enqueue('k', notification('x'));
    await settle(outbox);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle(outbox);
    await vi.advanceTimersByTimeAsync(2_000);
    await settle(outbox);
    const waits = lines.filter((line) => line.msg === 'notification not delivered; will retry').map((line) => line.retryInMs);
    expect(waits).toEqual([1_000, 2_000, 4_000]);
    expect(notifier.delivered).toEqual([]);
    await vi.advanceTimersByTimeAsync(4_000);
    await settle(outbox);
    expect(notifier.delivered.map((sent) => sent.title)).toEqual(['x']);
    expect(notifier.calls).toBe(4);
  });

  it('after a crash during a send, a new Outbox on the same store delivers what was pending', async () => {
    const hung: Notification[] = [];
    // The process "dies" while the platform has not answered: the first outbox never finishes.
    const crashed = new Outbox(store, { deliver: (sent) => (hung.push(sent), new Promise<void>(() => {})) }, captureLog().log);
    crashed.enqueue('result:c-1', notification('applied c'));
    await Promise.resolve();
    expect(hung.map((sent) => sent.title)).toEqual(['applied c']);
    expect(store.pendingCount()).toBe(1);

    const notifier = recordingNotifier();
    const pending: number[] = [];
    const { outbox } = makeOutbox(notifier, (count) => pending.push(count));
    await outbox.kick();
    expect(notifier.delivered.map((sent) => sent.title)).toEqual(['applied c']);
    expect(store.pendingCount()).toBe(0);
    expect(pending).toEqual([0]);
  });

  it('tells onPending how many are left after each round', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const notifier = recordingNotifier(['no', 'no']);
    const pending: number[] = [];
    const { outbox } = makeOutbox(notifier, (count) => pending.push(count));
    outbox.enqueue('a', notification('a'));
    outbox.enqueue('b', notification('b'));
    outbox.enqueue('c', notification('c'));
    await settle(outbox);
    expect(pending.at(-1)).toBe(2);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle(outbox);
    expect(pending.at(-1)).toBe(0);
    expect(notifier.delivered.map((sent) => sent.title).sort()).toEqual(['a', 'b', 'c']);
  });

  it('stop() ends the retries: what is left waits for the next start', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const notifier = recordingNotifier(['no']);
    const { outbox } = makeOutbox(notifier);
    outbox.enqueue('a', notification('a'));
    await outbox.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(notifier.calls).toBe(1);
    expect(store.pendingCount()).toBe(1);
    outbox.enqueue('b', notification('b'));
    await outbox.kick();
    expect(notifier.calls).toBe(1);
    expect(store.pendingCount()).toBe(2);
  });
});

describe('Outbox: channels with a rate limit', () => {
  /** A notifier whose channels take one message per `gapMs`, and that can send digests. */
  function limitedNotifier(gapMs: number) {
    const nextFree = new Map<string, number>();
    const messages: { channel: string; titles: string[] }[] = [];
    const take = (channel: string) => nextFree.set(channel, Date.now() + gapMs);
    const notifier: Notifier = {
      readyIn: (channel) => Math.max(0, (nextFree.get(channel) ?? 0) - Date.now()),
      async deliver(sent) {
        take(sent.channel);
        messages.push({ channel: sent.channel, titles: [sent.title] });
      },
      async deliverDigest(channel, sent) {
        take(channel);
        messages.push({ channel, titles: sent.map((one) => one.title) });
      },
    };
    return { notifier, messages };
  }

  it('merges what piles up while a channel waits into one digest, drops nothing, and never exceeds the rate', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const { notifier, messages } = limitedNotifier(3_000);
    const { outbox } = makeOutbox(notifier);
    outbox.enqueue('r-0', notification('r-0'));
    await settle(outbox);
    for (let n = 1; n <= 40; n++) outbox.enqueue(`r-${n}`, notification(`r-${n}`));
    outbox.enqueue('other', notification('other channel', { channel: 'ops-lark' }));
    await settle(outbox);
    // The other channel is not held back by the busy one.
    expect(messages.map((message) => message.channel)).toEqual(['ops', 'ops-lark']);
    await vi.advanceTimersByTimeAsync(3_000);
    await settle(outbox);
    expect(messages.slice(2)).toEqual([{ channel: 'ops', titles: Array.from({ length: 40 }, (_, n) => `r-${n + 1}`) }]);
    expect(store.pendingCount()).toBe(0);
  });

  it('a digest that fails is retried whole, and sent once', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const { notifier, messages } = limitedNotifier(1_000);
    let failures = 1;
    const original = notifier.deliverDigest!;
    notifier.deliverDigest = async (channel, sent) => {
      if (failures-- > 0) throw new Error('robot answered 500');
      return original(channel, sent);
    };
    const { outbox } = makeOutbox(notifier);
    outbox.enqueue('a', notification('a'));
    await settle(outbox);
    outbox.enqueue('b', notification('b'));
    outbox.enqueue('c', notification('c'));
    await vi.advanceTimersByTimeAsync(1_000);
    await settle(outbox);
    expect(messages).toEqual([{ channel: 'ops', titles: ['a'] }]);
    expect(store.pendingCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    await settle(outbox);
    expect(messages).toEqual([{ channel: 'ops', titles: ['a'] }, { channel: 'ops', titles: ['b', 'c'] }]);
    expect(store.pendingCount()).toBe(0);
  });
});

describe('LogNotifier', () => {
  it('writes the notification to the log and counts it as sent', async () => {
    const { log, lines } = captureLog();
    const sent = notification('applied d', { revision: 'd'.repeat(40) });
    await new LogNotifier(log).deliver(sent);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'notification', notification: sent });

    const outbox = new Outbox(store, new LogNotifier(log), log);
    outboxes.push(outbox);
    outbox.enqueue('log:d', sent);
    await settle(outbox);
    expect(store.pendingCount()).toBe(0);
  });
});
