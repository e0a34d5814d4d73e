import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import type { Answer } from './open-api-emulator.js';
import { RedeliveryQueue, type PushOutcome } from './redelivery.js';
import { SOCKET_DELIVERY_DEFAULTS, TicketedSockets, type SocketDeliveryOptions } from './ticketed-sockets.js';

/*
 * DingTalk's Stream-mode gateway: `POST /v1.0/gateway/connections/open` hands out a one-use ticket
 * for a WebSocket on which events arrive as JSON frames and are acknowledged by messageId. What the
 * dingtalk-stream SDK sends and expects (src: node_modules/dingtalk-stream/dist/client.mjs) is the
 * contract; see README.md for the choices the docs leave open.
 */

/** The path the SDK posts to (its GATEWAY_URL, relative to api.dingtalk.com). */
export const DINGTALK_GATEWAY_PATH = '/v1.0/gateway/connections/open';
/** The WebSocket path of the endpoint handed out (`wss://wss-open-connection.dingtalk.com/connect` on the platform). */
export const DINGTALK_STREAM_PATH = '/connect';

export interface DingtalkStreamGatewayOptions extends SocketDeliveryOptions {
  appKey: string;
  appSecret: string;
  corpId: string;
  /** The app's unified app id (frame header `appId`, `eventUnifiedAppId`). */
  unifiedAppId: string;
  /** SYSTEM ping frames, each to be echoed. Default 30 000. */
  pingIntervalMs?: number;
}

/** One event to push, as the platform would. */
export interface DingtalkStreamEvent {
  eventType: string;
  eventId: string;
  bornAt: number;
  /** Sent as its JSON; a string is sent as it is (tests of clients that meet data that is not JSON). */
  data: object | string;
}

export interface DingtalkStreamGateway {
  /** `POST /v1.0/gateway/connections/open`. */
  open(body: unknown): Answer;
  /** Takes the upgrade when it is for the stream path; returns false otherwise. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Pushes an event to one open connection (round robin), again until acknowledged. */
  push(event: DingtalkStreamEvent): Promise<PushOutcome>;
  /** Open connections. */
  readonly connections: number;
  /** Messages the clients sent that are not acks of a push or answers to a ping, for tests. */
  readonly stray: readonly unknown[];
  /** Says `disconnect` to every connection and cuts it, as the platform does now and then. */
  dropConnections(): void;
  close(): void;
}

const OpenBody = z.looseObject({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  subscriptions: z.array(z.looseObject({ type: z.string(), topic: z.string() })).min(1),
});

const Reply = z.looseObject({
  code: z.number().optional(),
  headers: z.looseObject({ messageId: z.string() }),
  data: z.string().optional(),
});

interface Connection {
  id: string;
  socket: WebSocket;
  subscriptions: Array<{ type: string; topic: string }>;
  unansweredPings: number;
}

/** The gateway's state and handlers; the caller routes requests and upgrades to it. */
export function createDingtalkStreamGateway(options: DingtalkStreamGatewayOptions): DingtalkStreamGateway {
  const events = new Map<string, DingtalkStreamEvent>();
  const pings = new Map<string, Connection>();
  const stray: unknown[] = [];

  const wants = (connection: Connection, eventType: string) => connection.subscriptions.some((s) => s.type === 'EVENT' && (s.topic === '*' || s.topic === eventType));

  const queue = new RedeliveryQueue({
    ackTimeoutMs: options.ackTimeoutMs ?? SOCKET_DELIVERY_DEFAULTS.ackTimeoutMs,
    giveUpAfterMs: options.giveUpAfterMs ?? SOCKET_DELIVERY_DEFAULTS.giveUpAfterMs,
    send(eventId) {
      const event = events.get(eventId);
      if (event === undefined) return undefined;
      const connection = sockets.pick((candidate) => wants(candidate, event.eventType));
      if (connection === undefined) return undefined;
      const messageId = `${randomUUID()}`;
      const now = String(Date.now());
      connection.socket.send(
        JSON.stringify({
          specVersion: '1.0',
          type: 'EVENT',
          headers: {
            appId: options.unifiedAppId,
            connectionId: connection.id,
            contentType: 'application/json',
            messageId,
            time: now,
            topic: '*',
            eventType: event.eventType,
            eventId: event.eventId,
            eventBornTime: String(event.bornAt),
            eventCorpId: options.corpId,
            eventUnifiedAppId: options.unifiedAppId,
          },
          data: typeof event.data === 'string' ? event.data : JSON.stringify(event.data),
        }),
      );
      return messageId;
    },
  });

  const sockets = new TicketedSockets<Connection['subscriptions'], Connection>({
    path: DINGTALK_STREAM_PATH,
    lifetimeMs: options.ticketLifetimeMs ?? SOCKET_DELIVERY_DEFAULTS.ticketLifetimeMs,
    refusal: 'HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nticket unknown, used or expired: open a new connection\n',
    open: (socket, subscriptions) => ({ id: randomUUID(), socket, subscriptions, unansweredPings: 0 }),
    received: (connection, raw) => received(connection, raw),
    opened: () => queue.connectionOpened(),
  });

  const pingTimer = setInterval(() => {
    for (const connection of sockets.values()) {
      // Two pings in a row unanswered: the client is gone (half-open TCP); drop it as the platform does.
      if (connection.unansweredPings >= 2) {
        connection.socket.terminate();
        continue;
      }
      const messageId = randomUUID();
      pings.set(messageId, connection);
      connection.unansweredPings += 1;
      connection.socket.send(
        JSON.stringify({
          specVersion: '1.0',
          type: 'SYSTEM',
          headers: { contentType: 'application/json', messageId, time: String(Date.now()), topic: 'ping' },
          data: JSON.stringify({ opaque: randomUUID() }),
        }),
      );
    }
  }, options.pingIntervalMs ?? 30_000);
  pingTimer.unref();

  function received(connection: Connection, raw: RawData): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString());
    } catch {
      stray.push(raw.toString());
      return;
    }
    const reply = Reply.safeParse(parsed);
    if (!reply.success) {
      stray.push(parsed);
      return;
    }
    const { messageId } = reply.data.headers;
    if (pings.delete(messageId)) {
      connection.unansweredPings = 0;
      return;
    }
    let status: unknown;
    try {
      status = (JSON.parse(reply.data.data ?? '{}') as { status?: unknown }).status;
    } catch {
      status = undefined;
    }
    // `{}` (what the SDK sends for an async listener) or LATER: not delivered, pushed again.
    queue.answer(messageId, reply.data.code === 200 && status === 'SUCCESS');
  }

  return {
    get connections() {
      return sockets.size;
    },
    stray,
    open(body) {
      const parsed = OpenBody.safeParse(body);
      if (!parsed.success) {
        return { status: 400, body: { code: 'MissingParameter', message: 'clientId, clientSecret and a non-empty subscriptions [{type, topic}] are required' } };
      }
      if (parsed.data.clientId !== options.appKey) return { status: 400, body: { code: 'invalidClientId', message: '无效的clientId' } };
      if (parsed.data.clientSecret !== options.appSecret) return { status: 400, body: { code: 'invalidClientSecret', message: '无效的clientSecret' } };
      const ticket = sockets.issue(parsed.data.subscriptions);
      return { status: 200, body: { endpoint: `${options.wsBase()}${DINGTALK_STREAM_PATH}`, ticket } };
    },
    upgrade: (request, socket, head) => sockets.upgrade(request, socket, head),
    async push(event) {
      events.set(event.eventId, event);
      try {
        return await queue.deliver(event.eventId);
      } finally {
        events.delete(event.eventId);
      }
    },
    dropConnections() {
      for (const connection of sockets.values()) {
        connection.socket.send(JSON.stringify({ specVersion: '1.0', type: 'SYSTEM', headers: { contentType: 'application/json', messageId: randomUUID(), time: String(Date.now()), topic: 'disconnect' }, data: '{}' }));
        connection.socket.terminate();
      }
    },
    close() {
      clearInterval(pingTimer);
      queue.close();
      sockets.close(({ socket }) => {
        // The platform says `disconnect` before it closes a connection.
        socket.send(JSON.stringify({ specVersion: '1.0', type: 'SYSTEM', headers: { contentType: 'application/json', messageId: randomUUID(), time: String(Date.now()), topic: 'disconnect' }, data: '{}' }));
        socket.close(1001, 'gateway closing');
        setTimeout(() => socket.terminate(), 500).unref();
      });
    },
  };
}
