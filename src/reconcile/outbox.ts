import type { Logger } from '../config/logger.js';
import type { NotifyEvent } from '../notify/events.js';
import type { OutboxRow, StateStore } from './state-store.js';

/** What the reconciler tells people about: the notifier turns it into a chat message. */
export interface Notification {
  kind: 'plan' | 'applied' | 'apply-failed' | 'stalled' | 'drift-detected' | 'drift-corrected' | 'break-glass' | 'request-submitted' | 'request-refused' | 'reminder';
  /** The channel of `approvals.yaml` it goes to; `ops` is the operators' channel. */
  channel: string;
  /** One line. */
  title: string;
  /** The details, plain text. */
  text: string;
  revision?: string;
  /** The same, as data: what the chat renderers make each platform's message from. */
  event?: NotifyEvent;
}

/** The port the chat notifier implements. Each `deliver…` resolves only when the platform confirmed it. */
export interface Notifier {
  deliver(notification: Notification): Promise<void>;
  /**
   * Several notifications of one channel as one message (a digest), when the channel's rate limit
   * let them pile up. Without it they are delivered one by one. Resolves with how many of them,
   * from the first, the message carried when it could not carry them all (a message has a size
   * limit, and a digest must name everything in it): the rest stay queued for the next message.
   * Nothing (or their number): all of them.
   */
  deliverDigest?(channel: string, notifications: readonly Notification[]): Promise<number | void>;
  /** How long until the channel can take a message (its rate limit, or a pause the platform imposed); 0: now. */
  readyIn?(channel: string): number;
}

/** Until chat delivery is configured, notifications are written to the log, which counts as sent. */
export class LogNotifier implements Notifier {
  constructor(private readonly log: Logger) {}

  async deliver(notification: Notification): Promise<void> {
    this.log.info({ notification }, 'notification');
  }
}

const FIRST_RETRY_MS = 1_000;
/** Due entries read per round: a digest is offered at most this many, and carries as many as one message names whole (the rest go in the next). */
const DRAIN_BATCH = 500;
const MAX_RETRY_MS = 5 * 60_000;

/**
 * The durable outbox: a notification is stored (under a key that names it, so that the same one
 * is never stored twice) before anything tries to send it, and marked sent only once the notifier
 * confirmed it. A restart sends what was stored and not confirmed.
 */
export class Outbox {
  private draining: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners: ((key: string, notification: Notification) => void)[] = [];

  constructor(
    private readonly store: StateStore,
    private readonly notifier: Notifier,
    private readonly log: Logger,
    private readonly onPending: (count: number) => void = () => {},
  ) {}

  /** Stores the notification (once per key) and starts sending it; false when the key was stored before. */
  enqueue(key: string, notification: Notification): boolean {
    if (!this.store.enqueue({ key, channel: notification.channel, kind: notification.kind, payload: JSON.stringify(notification) })) return false;
    for (const listener of this.listeners) {
      try {
        listener(key, notification);
      } catch (error) {
        // Whoever else hears of notifications (the event bus) never stands in the chat's way.
        this.log.warn({ err: error, key }, 'a notification listener failed');
      }
    }
    void this.kick();
    return true;
  }

  /** Tells `listener` of each notification newly stored (once per key), synchronously: it must not block. */
  onStored(listener: (key: string, notification: Notification) => void): void {
    this.listeners.push(listener);
  }

  /** Sends everything due; a call while sending makes one more round after it. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.again) {
        this.again = false;
        void this.kick();
      }
    });
    return this.draining;
  }

  /** Waits for the round in progress, then stops retrying (what is left is sent after a restart). */
  async stop(): Promise<void> {
    await this.kick();
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * Sends what is due, channel by channel: a channel that cannot take a message yet (`readyIn`) is
   * left to collect, and when it can, everything due for it goes as one digest. Nothing is dropped:
   * an entry is marked sent only once the notifier confirmed it.
   */
  private async drain(): Promise<void> {
    let nextCheck = FIRST_RETRY_MS;
    for (;;) {
      const due = this.store.dueNotifications(Date.now(), DRAIN_BATCH);
      const channels = new Map<string, OutboxRow[]>();
      for (const entry of due) channels.set(entry.channel, [...(channels.get(entry.channel) ?? []), entry]);
      let progressed = false;
      for (const [channel, entries] of channels) {
        if (this.stopped) return;
        const wait = this.notifier.readyIn?.(channel) ?? 0;
        if (wait > 0) {
          nextCheck = Math.min(nextCheck, wait);
          continue;
        }
        const batch = entries.length > 1 && this.notifier.deliverDigest ? entries : entries.slice(0, 1);
        const notifications = batch.map((entry) => JSON.parse(entry.payload) as Notification);
        try {
          let carried = batch.length;
          if (batch.length > 1) carried = deliveredCount(await this.notifier.deliverDigest!(channel, notifications), batch.length);
          else await this.notifier.deliver(notifications[0]!);
          // Only what the message carried is sent; the rest is due at once and goes in the next one.
          for (const entry of batch.slice(0, carried)) this.store.markSent(entry.id);
          progressed = true;
        } catch (error) {
          for (const entry of batch) {
            const retry = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** entry.attempts);
            this.store.markFailed(entry.id, (error as Error).message, Date.now() + retry);
          }
          this.log.warn({ err: error, channel, notifications: batch.length, retryInMs: Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** batch[0]!.attempts) }, 'notification not delivered; will retry');
        }
      }
      if (!progressed) break;
    }
    const pending = this.store.pendingCount();
    this.onPending(pending);
    // Failed sends wait for their retry time, channels for their rate limit; look again then.
    clearTimeout(this.timer);
    if (pending > 0 && !this.stopped) this.timer = setTimeout(() => void this.kick(), nextCheck).unref();
  }
}

/** How many of a digest's `offered` notifications the notifier says it carried: all of them unless it said fewer (at least one, as it resolved). */
function deliveredCount(said: number | void, offered: number): number {
  if (typeof said !== 'number' || !Number.isFinite(said)) return offered;
  return Math.min(offered, Math.max(1, Math.floor(said)));
}
