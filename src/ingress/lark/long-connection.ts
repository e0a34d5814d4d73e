import { EventDispatcher, LoggerLevel, WSClient, type Logger as LarkLogger } from '@larksuiteoapi/node-sdk';
import { RollcallError } from '../../config/errors.js';
import type { Logger } from '../../config/logger.js';
import { LarkOpenApi } from './open-api.js';

/**
 * Lark's long connection ("receive events through persistent connection"): the SDK's WSClient opens
 * a WebSocket to Lark, so no public URL is needed. rollcall subscribes its approval codes first
 * (Lark sends `approval_instance` only for subscribed codes), then lets WSClient keep the connection
 * (and reconnect), with its logging routed into pino.
 */

/** One event, as `onEvent` receives it. */
export interface LarkLongConnectionEvent {
  /** `approval_instance` (v1) or `contact.user.deleted_v3` (v2). */
  eventType: string;
  /**
   * The delivery's id, the same on every push of one event: v1 the envelope's `uuid`, v2
   * `header.event_id`. (The SDK flattens envelope, header and event into one object; both ids
   * survive that.)
   */
  eventId: string;
  /**
   * The event's fields as the SDK hands them: for v1 the inner event (`instance_code`, `status`,
   * `approval_code`, …; the SDK overwrites the inner `uuid` with the envelope's, and `type` is set
   * back to the event type here); for v2 the `event` fields (`object`, …) with the header's
   * (`event_id`, `create_time`, `app_id`, `tenant_key`). Never the verification token.
   */
  event: Record<string, unknown>;
}

export interface LarkLongConnectionOptions {
  appId: string;
  appSecret: string;
  /** Default https://open.feishu.cn (https://open.larksuite.com for Lark). */
  domain?: string;
  /** Approval codes whose `approval_instance` events rollcall needs; each is subscribed once. */
  approvalCodes: string[];
  /**
   * Called for every event before it is acknowledged. True (accepted durably, or a known duplicate)
   * → acknowledged; false or a throw → answered 500, and Lark pushes it again.
   */
  onEvent(event: LarkLongConnectionEvent): boolean;
  log: Logger;
  /** The open-API client to subscribe with; default one built from appId, appSecret and domain. */
  openApi?: LarkOpenApi;
}

export interface LarkLongConnectionHandle {
  /** Closes the connection for good (no reconnect). */
  close(): Promise<void>;
}

/** The event types rollcall handles; others get the SDK's "no handle" answer (still acked). */
export const LARK_LONG_CONNECTION_EVENTS = ['approval_instance', 'contact.user.deleted_v3'] as const;

/** WSClient.start() refuses other app ids, but only by logging: checked here to fail loudly. */
const APP_ID = /^cli_[0-9a-fA-F]{16}$/;
/** Envelope fields the SDK merges into the handler's object that are not the event's. */
const ENVELOPE_ONLY = new Set(['token', 'schema', 'ts']);

/**
 * Subscribes the approval codes, then opens the long connection. Resolves once connected, or once a
 * first attempt failed for a reason that may pass (logged; WSClient keeps retrying at the interval
 * Lark's endpoint sets); rejects with an `invalid-input` RollcallError when the app id is malformed
 * or Lark refuses the credentials (then nothing keeps running).
 */
export async function connectLarkLongConnection(options: LarkLongConnectionOptions): Promise<LarkLongConnectionHandle> {
  if (!APP_ID.test(options.appId)) {
    throw new RollcallError('invalid-input', `the Lark app id ${JSON.stringify(options.appId)} is not cli_ and 16 hex digits: copy the App ID from the app's Credentials page (ROLLCALL_LARK_APP_ID)`);
  }
  const log = options.log.child({ component: 'lark-long-connection' });
  const openApi = options.openApi ?? new LarkOpenApi({ appId: options.appId, appSecret: options.appSecret, ...(options.domain !== undefined ? { domain: options.domain } : {}) });
  for (const code of new Set(options.approvalCodes)) await openApi.subscribe(code);

  const logger = larkLogger(log);
  const handle = (eventType: string) => (data: Record<string, unknown>) => {
    const event = eventOf(eventType, data);
    if (event === undefined) {
      log.warn({ eventType }, 'Lark event without uuid or event_id; acknowledged and ignored');
      return undefined;
    }
    let accepted: boolean;
    try {
      accepted = options.onEvent(event);
    } catch (error) {
      log.error({ err: error, eventType, eventId: event.eventId }, 'Lark event failed; Lark will push it again');
      throw error;
    }
    if (!accepted) {
      log.warn({ eventType, eventId: event.eventId }, 'Lark event not accepted; Lark will push it again');
      // A throw is the only way to make WSClient answer 500 instead of 200.
      throw new Error(`event ${event.eventId} not accepted yet`);
    }
    return undefined;
  };
  const dispatcher = new EventDispatcher({ logger, loggerLevel: LoggerLevel.trace }).register(Object.fromEntries(LARK_LONG_CONNECTION_EVENTS.map((type) => [type, handle(type)])));

  let settle: ((outcome: { ok: true } | { ok: false; error: Error }) => void) | undefined;
  const first = new Promise<{ ok: true } | { ok: false; error: Error }>((resolve) => (settle = resolve));
  const client = new WSClient({
    appId: options.appId,
    appSecret: options.appSecret,
    ...(options.domain !== undefined ? { domain: options.domain.replace(/\/+$/, '') } : {}),
    logger,
    loggerLevel: LoggerLevel.trace,
    autoReconnect: true,
    handshakeTimeoutMs: 15_000,
    // After a first failed try, the first success is onReady too (not onReconnected).
    onReady: () => (settle !== undefined ? settle({ ok: true }) : log.info('Lark long connection connected')),
    onError: (error) => {
      log.error({ err: error.message }, 'Lark long connection gave up');
      settle?.({ ok: false, error });
    },
    onReconnecting: () => log.warn('Lark long connection lost; reconnecting'),
    onReconnected: () => log.info('Lark long connection connected again'),
  });
  await client.start({ eventDispatcher: dispatcher });
  // The SDK says nothing when a first attempt fails and it retries; its status does (a retry is scheduled).
  const watch = setInterval(() => {
    const status = client.getConnectionStatus();
    if (status.state !== 'connected' && status.nextConnectTime !== undefined) settle?.({ ok: false, error: new Error('retrying') });
  }, 100);
  const outcome = await first;
  settle = undefined;
  clearInterval(watch);
  if (outcome.ok) {
    log.info('Lark long connection connected');
  } else if (client.getConnectionStatus().state === 'failed') {
    client.close({ force: true });
    throw new RollcallError('invalid-input', `Lark refused the long connection (${outcome.error.message}): check ROLLCALL_LARK_APP_ID and ROLLCALL_LARK_APP_SECRET, and that the app receives events through the persistent connection`, { cause: outcome.error });
  } else {
    log.warn('Lark long connection failed; retrying');
  }

  return {
    close() {
      // force: terminate now; a polite close() detaches the socket's listeners and leaves it to linger.
      client.close({ force: true });
      return Promise.resolve();
    },
  };
}

/** The id and fields of an event as the SDK's dispatcher flattened it (see LarkLongConnectionEvent). */
function eventOf(eventType: string, data: Record<string, unknown>): LarkLongConnectionEvent | undefined {
  const v2 = data.event_type === eventType;
  const eventId = v2 ? data.event_id : data.uuid;
  if (typeof eventId !== 'string' || eventId === '') return undefined;
  // Object.entries skips the SDK's symbol key (its event type marker).
  const event = Object.fromEntries(Object.entries(data).filter(([key]) => !ENVELOPE_ONLY.has(key)));
  if (!v2) event.type = eventType; // the SDK let the envelope's `type: "event_callback"` win
  return { eventType, eventId, event };
}

/**
 * The SDK's logger interface onto pino. Its `info` lines (a banner on every start, "ws client
 * ready") go to debug, and its `error` lines to warn: WSClient logs every failed try as an error
 * and then retries, and the outcomes that matter are logged above.
 */
function larkLogger(log: Logger): LarkLogger {
  // The SDK's LoggerProxy passes its arguments on as one array.
  const text = (parts: unknown[]) => parts.flat().map((part) => (typeof part === 'string' ? part : part instanceof Error ? part.message : JSON.stringify(part))).join(' ');
  return {
    error: (...parts: unknown[]) => log.warn({ sdk: 'lark' }, text(parts)),
    warn: (...parts: unknown[]) => log.warn({ sdk: 'lark' }, text(parts)),
    info: (...parts: unknown[]) => log.debug({ sdk: 'lark' }, text(parts)),
    debug: (...parts: unknown[]) => log.debug({ sdk: 'lark' }, text(parts)),
    trace: (...parts: unknown[]) => log.trace({ sdk: 'lark' }, text(parts)),
  };
}
