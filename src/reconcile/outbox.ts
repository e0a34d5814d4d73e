import type { Logger } from '../config/logger.js';
import type { NotifyEvent } from '../notify/events.js';
import type { StateStore } from './state-store.js';

/** What the reconciler tells people about: the notifier turns it into a chat message. */
export interface Notification {
  kind: 'applied' | 'apply-failed' | 'stalled' | 'drift-detected' | 'drift-corrected' | 'break-glass' | 'request-submitted' | 'request-refused';
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

/** The port the chat notifier implements. `deliver` resolves only when the platform confirmed it. */
export interface Notifier {
  deliver(notification: Notification): Promise<void>;
}

/** Until chat delivery is configured, notifications are written to the log, which counts as sent. */
export class LogNotifier implements Notifier {
  constructor(private readonly log: Logger) {}

  async deliver(notification: Notification): Promise<void> {
    this.log.info({ notification }, 'notification');
  }
}

const FIRST_RETRY_MS = 1_000;
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

  constructor(
    private readonly store: StateStore,
    private readonly notifier: Notifier,
    private readonly log: Logger,
    private readonly onPending: (count: number) => void = () => {},
  ) {}

  /** Stores the notification (once per key) and starts sending it. */
  enqueue(key: string, notification: Notification): void {
    if (!this.store.enqueue({ key, channel: notification.channel, kind: notification.kind, payload: JSON.stringify(notification) })) return;
    this.kick();
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

  private async drain(): Promise<void> {
    for (;;) {
      const due = this.store.dueNotifications(Date.now(), 20);
      if (due.length === 0) break;
      for (const entry of due) {
        try {
          await this.notifier.deliver(JSON.parse(entry.payload) as Notification);
          this.store.markSent(entry.id);
        } catch (error) {
          const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** entry.attempts);
          this.store.markFailed(entry.id, (error as Error).message, Date.now() + wait);
          this.log.warn({ err: error, channel: entry.channel, kind: entry.kind, retryInMs: wait }, 'notification not delivered; will retry');
        }
      }
    }
    const pending = this.store.pendingCount();
    this.onPending(pending);
    // Failed sends wait for their retry time; look again then.
    clearTimeout(this.timer);
    if (pending > 0 && !this.stopped) this.timer = setTimeout(() => void this.kick(), FIRST_RETRY_MS).unref();
  }
}
