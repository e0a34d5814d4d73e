import { once } from 'node:events';
import { DWClient, EventAck, type DWClientDownStream, type EventAckData } from 'dingtalk-stream';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { RollcallError } from '../../config/errors.js';
import type { Logger } from '../../config/logger.js';

/**
 * DingTalk Stream mode: events over a WebSocket the app opens itself, so no public URL is needed.
 * The dingtalk-stream SDK keeps the connection (and reconnects); rollcall points it at `apiBase`,
 * acknowledges each event synchronously, and routes what it says into the logger.
 */

/** One event, as `onEvent` receives it. */
export interface DingtalkStreamEvent {
  /** Frame header `eventType` (`bpms_instance_change`, `user_leave_org`, …). */
  eventType: string;
  /** Frame header `eventId`: the same for every push of one event (the messageId is not). */
  eventId: string;
  /** Frame header `eventBornTime`, epoch ms. */
  bornAt?: number;
  /** The frame's `data`, parsed from its JSON string. */
  data: unknown;
}

export interface DingtalkStreamOptions {
  clientId: string;
  clientSecret: string;
  /** Default https://api.dingtalk.com; the gateway is `POST {apiBase}/v1.0/gateway/connections/open`. */
  apiBase?: string;
  /**
   * Called synchronously for every event, before the ack. True (accepted durably, or a known
   * duplicate) → acknowledged SUCCESS; false or a throw → LATER, and DingTalk pushes it again.
   */
  onEvent(event: DingtalkStreamEvent): boolean;
  log: Logger;
}

/** An open stream; `close()` stops it for good (no reconnect). */
export interface DingtalkStreamConnection {
  close(): Promise<void>;
}

const GATEWAY_PATH = '/v1.0/gateway/connections/open';
const OpenReply = z.looseObject({ endpoint: z.string().min(1), ticket: z.string().min(1) });

/** Why opening the stream failed; `refused` ones (credentials) do not pass by retrying. */
class GatewayError extends RollcallError {
  readonly refused: boolean;

  constructor(message: string, refused: boolean, options: { cause?: unknown } = {}) {
    super(refused ? 'invalid-input' : 'cloud-api', message, options);
    this.refused = refused;
  }
}

type Attempt = { ok: true } | { ok: false; error: GatewayError };

/**
 * The SDK's client with the gateway at `apiBase`. Why a subclass: the SDK posts to a constant URL
 * (GATEWAY_URL) in `getEndpoint()`, which is the only place the WebSocket URL (`dw_url`) is set.
 * Its `connect()` swallows every failure and retries every second; the overrides below report each
 * attempt and make retries no-ops once the stream is closed or its credentials were refused.
 */
class RollcallStreamClient extends DWClient {
  stopped = false;
  readonly #gateway: string;
  readonly #attempted: (outcome: Attempt) => void;

  /** @param attempted told the outcome of every attempt to connect (the SDK tells nobody). */
  constructor(options: DingtalkStreamOptions, attempted: (outcome: Attempt) => void) {
    // debug: false keeps the SDK's printDebug quiet (its connect/disconnect console.info lines are unconditional).
    super({ clientId: options.clientId, clientSecret: options.clientSecret, debug: false, ua: 'rollcall' });
    this.#gateway = `${(options.apiBase ?? 'https://api.dingtalk.com').replace(/\/+$/, '')}${GATEWAY_PATH}`;
    this.#attempted = attempted;
  }

  override async getEndpoint(): Promise<this> {
    try {
      return await this.#openGateway();
    } catch (error) {
      this.#attempted({ ok: false, error: error instanceof GatewayError ? error : new GatewayError((error as Error).message, false, { cause: error }) });
      throw error;
    }
  }

  async #openGateway(): Promise<this> {
    const config = this.getConfig();
    let response: Response;
    try {
      response = await fetch(this.#gateway, {
        method: 'POST',
        // Without Accept: application/json the gateway answers XML (the SDK's comment).
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: config.clientId, clientSecret: config.clientSecret, ua: config.ua, subscriptions: config.subscriptions }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw new GatewayError(`cannot reach the DingTalk stream gateway ${this.#gateway}: ${(error as Error).message}`, false, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      const refused = response.status >= 400 && response.status < 500 && response.status !== 429;
      const code = /"code"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? `HTTP ${response.status}`;
      throw new GatewayError(
        refused
          ? `the DingTalk stream gateway refused the app (${code}): check ROLLCALL_DINGTALK_APP_KEY and ROLLCALL_DINGTALK_APP_SECRET, and that Stream mode is enabled for the app`
          : `the DingTalk stream gateway answered ${code}; retrying`,
        refused,
      );
    }
    let reply: z.infer<typeof OpenReply>;
    try {
      reply = OpenReply.parse(JSON.parse(text));
    } catch (error) {
      throw new GatewayError('the DingTalk stream gateway answered without {endpoint, ticket}', false, { cause: error });
    }
    // `dw_url` is private in the SDK's types; it is the URL `_connect()` opens.
    (this as unknown as { dw_url: string }).dw_url = `${reply.endpoint}?ticket=${encodeURIComponent(reply.ticket)}`;
    return this;
  }

  override async connect(): Promise<void> {
    if (this.stopped) return; // a retry the SDK scheduled before close() or a refusal
    await super.connect();
  }

  override async _connect(): Promise<void> {
    try {
      await super._connect();
    } catch (error) {
      this.#attempted({ ok: false, error: new GatewayError(`cannot open the DingTalk stream WebSocket: ${(error as Error).message}`, false, { cause: error }) });
      throw error;
    }
    this.#attempted({ ok: true });
  }

  /** The SDK's socket, private in its types, for a clean close. */
  get openSocket(): WebSocket | undefined {
    return (this as unknown as { socket?: WebSocket }).socket;
  }
}

/**
 * Opens DingTalk's event stream. Resolves once connected, or after a first attempt that failed for
 * a reason that may pass (network, 5xx; logged, the SDK keeps retrying every second); rejects with
 * an `invalid-input` RollcallError when the gateway refuses the credentials (and stops).
 *
 * The SDK's `keepAlive` stays off: its heartbeat interval is not cleared when it reconnects, so each
 * reconnect would add one. A connection that dies without TCP noticing is therefore found only by
 * the gateway (it stops getting ping answers and pushes elsewhere), not by this client.
 */
export async function connectDingtalkStream(options: DingtalkStreamOptions): Promise<DingtalkStreamConnection> {
  const log = options.log.child({ component: 'dingtalk-stream' });
  let first: ((outcome: Attempt) => void) | undefined;
  const firstAttempt = new Promise<Attempt>((resolve) => (first = resolve));
  let failing = false;

  const client = new RollcallStreamClient(options, (outcome) => {
    if (outcome.ok) {
      if (failing) log.info('DingTalk stream connected again');
      failing = false;
    } else {
      // One line per outage, not one a second.
      if (!failing) log.warn({ err: outcome.error.message }, outcome.error.refused ? 'DingTalk stream gateway refused the app' : 'DingTalk stream connection failed; retrying');
      failing = true;
      if (outcome.error.refused) client.stopped = true;
    }
    first?.(outcome);
    first = undefined;
  });
  client.registerAllEventListener((message) => acknowledge(message, options.onEvent, log));
  void client.connect();
  const outcome = await firstAttempt;
  if (!outcome.ok && outcome.error.refused) throw outcome.error;
  if (outcome.ok) log.info('DingTalk stream connected');

  return {
    async close() {
      client.stopped = true;
      const socket = client.openSocket;
      client.disconnect();
      if (socket !== undefined && socket.readyState !== socket.CLOSED) {
        const timer = setTimeout(() => socket.terminate(), 2000);
        await once(socket, 'close');
        clearTimeout(timer);
      }
    },
  };
}

/**
 * The SDK's listener: synchronous, because the SDK sends `JSON.stringify(listener(message))` as the
 * ack right away (a Promise would be acked as `{}`, which DingTalk does not count as SUCCESS).
 */
function acknowledge(message: DWClientDownStream, onEvent: DingtalkStreamOptions['onEvent'], log: Logger): EventAckData {
  const { eventType, eventId, eventBornTime, messageId } = message.headers;
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    log.warn({ eventType, eventId, messageId }, 'DingTalk stream event data is not JSON; acknowledged and ignored');
    return { status: EventAck.SUCCESS };
  }
  if (eventType === undefined || eventId === undefined) {
    log.warn({ messageId, topic: message.headers.topic }, 'DingTalk stream event without eventType or eventId; acknowledged and ignored');
    return { status: EventAck.SUCCESS };
  }
  const bornAt = Number(eventBornTime);
  try {
    if (onEvent({ eventType, eventId, ...(Number.isFinite(bornAt) && eventBornTime !== undefined ? { bornAt } : {}), data })) return { status: EventAck.SUCCESS };
    log.warn({ eventType, eventId }, 'DingTalk stream event not accepted; DingTalk will push it again');
  } catch (error) {
    log.error({ err: error, eventType, eventId }, 'DingTalk stream event failed; DingTalk will push it again');
  }
  return { status: EventAck.LATER, message: 'not accepted yet' };
}
