/*
 * What DingTalk's Stream gateway and Lark's long connection share: an event pushed over a
 * WebSocket counts as delivered only when the client acknowledges it; until then it is pushed again
 * (possibly to another connection of the same app), so a client can see it twice.
 */

/** How one event's delivery over a long-lived connection ended. */
export interface PushOutcome {
  ok: boolean;
  /** Times the event was pushed (1 when the first push was acknowledged). */
  pushes: number;
  error?: string;
}

export interface RedeliveryOptions {
  /** How long a push waits for its ack before it is pushed again. */
  ackTimeoutMs: number;
  /** After this long without a successful ack, the delivery is given up (reported failed). */
  giveUpAfterMs: number;
  /**
   * Pushes `eventId` once over some open connection, as a new message; returns that message's id,
   * or undefined when no connection is open (the event waits for one).
   */
  send(eventId: string): string | undefined;
}

interface Pending {
  eventId: string;
  pushes: number;
  messageIds: Set<string>;
  timer?: NodeJS.Timeout;
  deadline: NodeJS.Timeout;
  settle(outcome: PushOutcome): void;
}

/** Events pushed and not yet acknowledged, each pushed again until it is or its time is up. */
export class RedeliveryQueue {
  readonly #options: RedeliveryOptions;
  readonly #pending = new Map<string, Pending>();
  /** message id → event id, for acks (which name the message, not the event). */
  readonly #messages = new Map<string, string>();

  constructor(options: RedeliveryOptions) {
    this.#options = options;
  }

  /** Pushes an event now (or when a connection opens) and until acknowledged. */
  deliver(eventId: string): Promise<PushOutcome> {
    return new Promise((resolve) => {
      const pending: Pending = {
        eventId,
        pushes: 0,
        messageIds: new Set(),
        deadline: setTimeout(() => {
          const error =
            pending.pushes === 0
              ? `no connection was open within ${this.#options.giveUpAfterMs} ms`
              : `not acknowledged with success after ${pending.pushes} push(es) in ${this.#options.giveUpAfterMs} ms`;
          this.#finish(pending, { ok: false, pushes: pending.pushes, error });
        }, this.#options.giveUpAfterMs),
        settle: resolve,
      };
      this.#pending.set(eventId, pending);
      this.#push(pending);
    });
  }

  /**
   * The client answered message `messageId`: success settles the event; anything else (a LATER,
   * a 500) leaves it to be pushed again when its ack time is up. Unknown ids are ignored.
   */
  answer(messageId: string, success: boolean): void {
    const eventId = this.#messages.get(messageId);
    const pending = eventId === undefined ? undefined : this.#pending.get(eventId);
    if (pending === undefined || !success) return;
    this.#finish(pending, { ok: true, pushes: pending.pushes });
  }

  /** A connection opened: events waiting for one are pushed now. */
  connectionOpened(): void {
    for (const pending of this.#pending.values()) {
      if (pending.timer === undefined) this.#push(pending);
    }
  }

  /** Gives up every pending delivery (the emulator is closing). */
  close(): void {
    for (const pending of [...this.#pending.values()]) this.#finish(pending, { ok: false, pushes: pending.pushes, error: 'the emulator closed' });
  }

  #push(pending: Pending): void {
    pending.timer = undefined;
    const messageId = this.#options.send(pending.eventId);
    if (messageId === undefined) return; // waits for connectionOpened
    pending.pushes += 1;
    pending.messageIds.add(messageId);
    this.#messages.set(messageId, pending.eventId);
    pending.timer = setTimeout(() => this.#push(pending), this.#options.ackTimeoutMs);
  }

  #finish(pending: Pending, outcome: PushOutcome): void {
    if (this.#pending.get(pending.eventId) !== pending) return;
    this.#pending.delete(pending.eventId);
    clearTimeout(pending.timer);
    clearTimeout(pending.deadline);
    for (const messageId of pending.messageIds) this.#messages.delete(messageId);
    pending.settle(outcome);
  }
}
