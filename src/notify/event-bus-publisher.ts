import { createRequire } from 'node:module';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import type { Notification } from '../reconcile/outbox.js';

/*
 * rollcall's own events on an EventBridge bus, for other systems (a SIEM, ticketing, a data lake)
 * to subscribe to with their own rules. Best effort: a bounded queue in memory, batches of at
 * most 16 (PutEvents' limit), retries with back-off; publishing never blocks or fails a
 * reconcile, and a full queue drops its oldest event with a warning rather than grow.
 */

/** The CloudEvent types rollcall publishes, by the notification kinds they come from. */
export const ROLLCALL_EVENT_TYPES = {
  'request-submitted': 'rollcall:Request:Committed',
  applied: 'rollcall:Revision:Applied',
  'apply-failed': 'rollcall:Revision:Applied',
  'break-glass': 'rollcall:Revision:Applied',
  'drift-detected': 'rollcall:Drift:Detected',
  'drift-corrected': 'rollcall:Drift:Corrected',
  stalled: 'rollcall:Reconcile:Stalled',
} as const satisfies Partial<Record<Notification['kind'], string>>;

/** The `source` of every event rollcall publishes. */
export const ROLLCALL_EVENT_SOURCE = 'rollcall';

/** One event as PutEvents takes it (the SDK's CloudEvent fields). */
export interface RollcallCloudEvent {
  id: string;
  source: typeof ROLLCALL_EVENT_SOURCE;
  type: (typeof ROLLCALL_EVENT_TYPES)[keyof typeof ROLLCALL_EVENT_TYPES];
  subject: string;
  time: string;
  datacontenttype: 'application/json; charset=utf-8';
  /** `aliyuneventbusname`: the bus it goes to. */
  extensions: { aliyuneventbusname: string };
  data: {
    kind: Notification['kind'];
    title: string;
    text: string;
    revision?: string;
    channel: string;
    /** The structured event the chat message was rendered from (logins, instances, outcomes). */
    event?: Notification['event'];
  };
}

/** What the publisher needs of `@alicloud/eventbridge`'s client. */
export interface PutEventsClient {
  putEvents(events: RollcallCloudEvent[]): Promise<{ failedEntryCount?: number; entryList?: { eventId?: string; errorCode?: string; errorMessage?: string }[] }>;
}

export interface EventBusPublisherOptions {
  client: PutEventsClient;
  busName: string;
  log: Logger;
  /** Events held while the bus cannot take them; the oldest go first when it is full. Default 1,000. */
  maxQueued?: number;
  /** The first wait after a failed PutEvents; it doubles up to `maxRetryMs`. Default 1 s. */
  retryBaseMs?: number;
  /** Default 60 s. */
  maxRetryMs?: number;
  now?: () => Date;
}

/** PutEvents takes at most 16 events a call. */
const BATCH = 16;

/** For status: how publishing goes. */
export interface EventBusPublisherStatus {
  bus: string;
  queued: number;
  published: number;
  dropped: number;
  lastError?: string;
}

/** The CloudEvent for a notification, or undefined for the kinds rollcall does not publish (plans, reminders, refusals). */
export function rollcallCloudEvent(key: string, notification: Notification, busName: string, now: Date): RollcallCloudEvent | undefined {
  const type = (ROLLCALL_EVENT_TYPES as Partial<Record<Notification['kind'], RollcallCloudEvent['type']>>)[notification.kind];
  if (!type) return undefined;
  return {
    // The outbox key names the notification once and for all: a subscriber can dedupe on it.
    id: key,
    source: ROLLCALL_EVENT_SOURCE,
    type,
    subject: notification.revision ? `rollcall:revision/${notification.revision}` : `rollcall:${notification.kind}`,
    time: now.toISOString(),
    datacontenttype: 'application/json; charset=utf-8',
    extensions: { aliyuneventbusname: busName },
    data: {
      kind: notification.kind,
      title: notification.title,
      text: notification.text,
      channel: notification.channel,
      ...(notification.revision ? { revision: notification.revision } : {}),
      ...(notification.event ? { event: notification.event } : {}),
    },
  };
}

/** Publishes rollcall's events to one bus; see the file's comment. */
export class EventBusPublisher {
  readonly #options: EventBusPublisherOptions;
  readonly #queue: RollcallCloudEvent[] = [];
  #sending: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #published = 0;
  #dropped = 0;
  #lastError: string | undefined;
  #stopped = false;

  constructor(options: EventBusPublisherOptions) {
    this.#options = options;
  }

  /** Queues the notification's event (if its kind is published) and starts sending; returns at once. */
  publish(key: string, notification: Notification): void {
    if (this.#stopped) return;
    const event = rollcallCloudEvent(key, notification, this.#options.busName, (this.#options.now ?? (() => new Date()))());
    if (!event) return;
    this.#queue.push(event);
    const max = this.#options.maxQueued ?? 1_000;
    if (this.#queue.length > max) {
      const dropped = this.#queue.splice(0, this.#queue.length - max);
      this.#dropped += dropped.length;
      this.#options.log.warn({ bus: this.#options.busName, dropped: dropped.length, ids: dropped.map((item) => item.id) }, 'event bus queue full: oldest events dropped (the chat outbox and git keep the record)');
    }
    if (this.#failures === 0) void this.#send();
  }

  /** Tries once more to send what is queued (up to `timeoutMs`), then stops; what is left is dropped with a warning. */
  async stop(timeoutMs = 5_000): Promise<void> {
    clearTimeout(this.#timer);
    if (this.#queue.length > 0 && !this.#sending) void this.#send();
    if (this.#sending) await Promise.race([this.#sending, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#queue.length > 0) this.#options.log.warn({ bus: this.#options.busName, unsent: this.#queue.length }, 'stopping with events not published to the bus');
  }

  status(): EventBusPublisherStatus {
    return { bus: this.#options.busName, queued: this.#queue.length, published: this.#published, dropped: this.#dropped, ...(this.#lastError ? { lastError: this.#lastError } : {}) };
  }

  /** Sends batches until the queue is empty or a call fails (then retries after a back-off). */
  #send(): Promise<void> {
    this.#sending ??= this.#drain().finally(() => (this.#sending = undefined));
    return this.#sending;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopped) {
      const batch = this.#queue.slice(0, BATCH);
      let retry: RollcallCloudEvent[];
      try {
        const reply = await this.#options.client.putEvents(batch);
        // Entries the bus refused one by one are retried; the rest are done.
        const refused = new Set((reply.entryList ?? []).filter((entry) => entry.errorCode).map((entry) => entry.eventId));
        retry = batch.filter((event) => refused.has(event.id));
        if (retry.length > 0) this.#lastError = (reply.entryList ?? []).find((entry) => entry.errorCode)?.errorMessage ?? 'some events were refused';
      } catch (error) {
        retry = batch;
        this.#lastError = error instanceof Error ? error.message : String(error);
      }
      this.#queue.splice(0, batch.length, ...retry);
      this.#published += batch.length - retry.length;
      if (retry.length === 0) {
        this.#failures = 0;
        continue;
      }
      this.#failures += 1;
      const wait = Math.min(this.#options.maxRetryMs ?? 60_000, (this.#options.retryBaseMs ?? 1_000) * 2 ** (this.#failures - 1));
      this.#options.log.warn({ bus: this.#options.busName, events: retry.length, retryInMs: wait, error: this.#lastError }, 'could not publish to the event bus; will retry');
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.#send(), wait).unref();
      return;
    }
  }
}

/**
 * The publisher the environment asks for: `ROLLCALL_EVENT_BUS` (the bus name) and
 * `ROLLCALL_EVENT_BUS_ENDPOINT` (`<account id>.eventbridge.<region>.aliyuncs.com`, or an
 * `http://host:port` such as the emulator's), with the AccessKey in
 * `ROLLCALL_EVENT_BUS_ACCESS_KEY_ID` / `ROLLCALL_EVENT_BUS_ACCESS_KEY_SECRET` when publishing has
 * its own RAM identity, else `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
 * (rollcall's). Undefined when no bus is configured: publishing is off.
 */
export function eventBusPublisherFromEnv(env: NodeJS.ProcessEnv, log: Logger): EventBusPublisher | undefined {
  const busName = env.ROLLCALL_EVENT_BUS;
  if (!busName) return undefined;
  const endpoint = env.ROLLCALL_EVENT_BUS_ENDPOINT;
  if (!endpoint) throw new RollcallError('invalid-input', `ROLLCALL_EVENT_BUS is ${busName} but ROLLCALL_EVENT_BUS_ENDPOINT is not set: set it to the bus's endpoint, <account id>.eventbridge.<region>.aliyuncs.com`);
  const own = env.ROLLCALL_EVENT_BUS_ACCESS_KEY_ID !== undefined || env.ROLLCALL_EVENT_BUS_ACCESS_KEY_SECRET !== undefined;
  const accessKeyId = own ? env.ROLLCALL_EVENT_BUS_ACCESS_KEY_ID : env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = own ? env.ROLLCALL_EVENT_BUS_ACCESS_KEY_SECRET : env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) {
    throw new RollcallError('invalid-input', own
      ? 'set both ROLLCALL_EVENT_BUS_ACCESS_KEY_ID and ROLLCALL_EVENT_BUS_ACCESS_KEY_SECRET (the AccessKey that may PutEvents on the bus), or neither to use ALIBABA_CLOUD_ACCESS_KEY_*'
      : 'ROLLCALL_EVENT_BUS is set but ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET are not: set the AccessKey of the RAM user or role that may PutEvents on the bus');
  }
  const plain = /^http:\/\//i.test(endpoint);
  const host = endpoint.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  return new EventBusPublisher({ client: putEventsClient({ accessKeyId, accessKeySecret, endpoint: host, protocol: plain ? 'http' : 'https' }), busName, log });
}

/** `@alicloud/eventbridge`'s client (CommonJS, loaded only when a bus is configured). */
export function putEventsClient(config: { accessKeyId: string; accessKeySecret: string; endpoint: string; protocol: 'http' | 'https' }): PutEventsClient {
  const sdk = createRequire(import.meta.url)('@alicloud/eventbridge') as {
    default: new (config: unknown) => { putEvents(events: unknown[]): Promise<PutEventsReply> };
    Config: new (map: Record<string, unknown>) => unknown;
    CloudEvent: new (map: Record<string, unknown>) => unknown;
  };
  const client = new sdk.default(new sdk.Config(config));
  return {
    putEvents: async (events) =>
      client.putEvents(events.map((event) => new sdk.CloudEvent({ ...event, data: Buffer.from(JSON.stringify(event.data)) }))),
  };
}

type PutEventsReply = Awaited<ReturnType<PutEventsClient['putEvents']>>;
