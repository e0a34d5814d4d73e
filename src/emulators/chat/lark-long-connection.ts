import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { decodeLarkFrame, encodeLarkFrame, frameHeader, LARK_FRAME_METHOD, type LarkFrame } from './lark-frame.js';
import type { Answer } from './open-api-emulator.js';
import { RedeliveryQueue, type PushOutcome } from './redelivery.js';
import { SOCKET_DELIVERY_DEFAULTS, TicketedSockets, type SocketDeliveryOptions } from './ticketed-sockets.js';

/*
 * Lark's long connection ("persistent connection" event subscription): `POST /callback/ws/endpoint`
 * gives a WebSocket URL and the client's timing settings; on the socket every message is a
 * protobuf `pbbp2.Frame` (lark-frame.ts). Events are data frames whose payload is the event JSON;
 * the client answers each with the same frame carrying `{"code": 200}` (or 500 when its handler
 * threw). The SDK's WSClient (node_modules/@larksuiteoapi/node-sdk, class WSClient) is the contract.
 */

/** The endpoint-discovery path (relative to the Lark domain). */
export const LARK_ENDPOINT_PATH = '/callback/ws/endpoint';
/** The WebSocket path of the URL handed out (`wss://msg-frontier.feishu.cn/ws/v2` on the platform). */
export const LARK_WS_PATH = '/ws/v2';

/** The client settings the endpoint and every pong carry (seconds; ReconnectCount -1 = forever). */
export interface LarkClientConfig {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
}

/** Lark's defaults, as the SDK assumes before it is told otherwise. */
export const LARK_DEFAULT_CLIENT_CONFIG: LarkClientConfig = { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30 };

export interface LarkLongConnectionOptions extends SocketDeliveryOptions {
  appId: string;
  appSecret: string;
  clientConfig?: Partial<LarkClientConfig>;
}

export interface LarkLongConnection {
  /** `POST /callback/ws/endpoint`. */
  endpoint(body: unknown): Answer;
  /** Takes the upgrade when it is for the WebSocket path; returns false otherwise. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Pushes the event JSON to one open connection, again until acknowledged. */
  push(eventId: string, payload: object): Promise<PushOutcome>;
  readonly connections: number;
  /** Pings answered so far, for tests. */
  readonly pings: number;
  /** Cuts every connection, as the platform does now and then. */
  dropConnections(): void;
  close(): void;
}

const EndpointBody = z.looseObject({ AppID: z.string(), AppSecret: z.string() });
/** Lark's "auth failed" code (the SDK's ErrorCode.auth_failed): not retryable, so the SDK stops. */
const AUTH_FAILED = 514;

interface Connection {
  socket: WebSocket;
  serviceId: number;
}

/** The long connection's state and handlers; the caller routes requests and upgrades to it. */
export function createLarkLongConnection(options: LarkLongConnectionOptions): LarkLongConnection {
  const clientConfig: LarkClientConfig = { ...LARK_DEFAULT_CLIENT_CONFIG, ...options.clientConfig };
  const payloads = new Map<string, object>();
  let sequence = 0n;
  let pings = 0;

  const queue = new RedeliveryQueue({
    ackTimeoutMs: options.ackTimeoutMs ?? SOCKET_DELIVERY_DEFAULTS.ackTimeoutMs,
    giveUpAfterMs: options.giveUpAfterMs ?? SOCKET_DELIVERY_DEFAULTS.giveUpAfterMs,
    send(eventId) {
      const payload = payloads.get(eventId);
      const connection = sockets.pick();
      if (payload === undefined || connection === undefined) return undefined;
      const messageId = randomUUID();
      sequence += 1n;
      connection.socket.send(
        encodeLarkFrame({
          seqId: sequence,
          logId: BigInt(`0x${randomBytes(6).toString('hex')}`),
          service: connection.serviceId,
          method: LARK_FRAME_METHOD.data,
          headers: [
            { key: 'type', value: 'event' },
            { key: 'message_id', value: messageId },
            { key: 'sum', value: '1' },
            { key: 'seq', value: '0' },
            { key: 'trace_id', value: randomUUID() },
          ],
          payload: Buffer.from(JSON.stringify(payload), 'utf8'),
        }),
      );
      return messageId;
    },
  });

  const sockets = new TicketedSockets<number, Connection>({
    path: LARK_WS_PATH,
    lifetimeMs: options.ticketLifetimeMs ?? SOCKET_DELIVERY_DEFAULTS.ticketLifetimeMs,
    refusal: 'HTTP/1.1 403 Forbidden\r\nhandshake-status: 403\r\nhandshake-msg: ticket unknown, used or expired\r\nconnection: close\r\n\r\n',
    // The platform reports the handshake's outcome in these headers of the 101 answer.
    handshakeHeaders: ['handshake-status: 200', 'handshake-msg: ok'],
    open: (socket, serviceId) => ({ socket, serviceId }),
    received: (connection, raw) => received(connection, raw),
    opened: () => queue.connectionOpened(),
  });

  function received(connection: Connection, raw: RawData): void {
    let frame: LarkFrame;
    try {
      frame = decodeLarkFrame(Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer));
    } catch {
      return; // the platform drops what it cannot decode
    }
    const type = frameHeader(frame, 'type');
    if (frame.method === LARK_FRAME_METHOD.control && type === 'ping') {
      pings += 1;
      connection.socket.send(
        encodeLarkFrame({
          seqId: 0n,
          logId: 0n,
          service: connection.serviceId,
          method: LARK_FRAME_METHOD.control,
          headers: [{ key: 'type', value: 'pong' }],
          payload: Buffer.from(JSON.stringify(clientConfig), 'utf8'),
        }),
      );
      return;
    }
    if (frame.method === LARK_FRAME_METHOD.data) {
      const messageId = frameHeader(frame, 'message_id');
      if (messageId === undefined) return;
      let code: unknown;
      try {
        code = (JSON.parse(Buffer.from(frame.payload ?? []).toString('utf8')) as { code?: unknown }).code;
      } catch {
        code = undefined;
      }
      queue.answer(messageId, code === 200);
    }
  }

  return {
    get connections() {
      return sockets.size;
    },
    get pings() {
      return pings;
    },
    endpoint(body) {
      const parsed = EndpointBody.safeParse(body);
      if (!parsed.success || parsed.data.AppID !== options.appId || parsed.data.AppSecret !== options.appSecret) {
        // HTTP 200 with a code, as Lark answers: the SDK reads the code.
        return { status: 200, body: { code: AUTH_FAILED, msg: 'auth failed: check the AppID and AppSecret', data: {} } };
      }
      const serviceId = 33_554_000 + Math.floor(Math.random() * 1000);
      const ticket = sockets.issue(serviceId);
      const query = new URLSearchParams({ fpid: '493', aid: '552564', device_id: randomBytes(8).readBigUInt64BE().toString(), access_key: randomBytes(16).toString('hex'), service_id: String(serviceId), ticket });
      return { status: 200, body: { code: 0, msg: 'ok', data: { URL: `${options.wsBase()}${LARK_WS_PATH}?${query}`, ClientConfig: clientConfig } } };
    },
    upgrade: (request, socket, head) => sockets.upgrade(request, socket, head),
    async push(eventId, payload) {
      payloads.set(eventId, payload);
      try {
        return await queue.deliver(eventId);
      } finally {
        payloads.delete(eventId);
      }
    },
    dropConnections() {
      for (const { socket } of sockets.values()) socket.terminate();
    },
    close() {
      queue.close();
      sockets.close(({ socket }) => {
        socket.close(1001, 'going away');
        setTimeout(() => socket.terminate(), 500).unref();
      });
    },
  };
}
