import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/*
 * What DingTalk's Stream gateway and Lark's long connection share besides redelivery: an HTTP call
 * hands out a ticket, the ticket opens one WebSocket on a fixed path (once, before it expires), and
 * events go to the open connections round robin.
 */

/** What DingTalk's Stream gateway and Lark's long connection are both told: where they are, and their timing. */
export interface SocketDeliveryOptions {
  /** `ws://127.0.0.1:P`, known once the server listens. */
  wsBase(): string;
  /** A ticket's lifetime (DingTalk's ticket, Lark's URL); each opens one connection. Default 90 s, as the platforms. */
  ticketLifetimeMs?: number;
  /** An event not acknowledged as handled within this is pushed again. Default 3000 (Lark's ack deadline). */
  ackTimeoutMs?: number;
  /** A delivery still unacknowledged after this is reported failed. Default 60 000 (the DingTalk SDK's "60 s"). */
  giveUpAfterMs?: number;
}

/** The defaults of {@link SocketDeliveryOptions}' timing. */
export const SOCKET_DELIVERY_DEFAULTS = { ticketLifetimeMs: 90_000, ackTimeoutMs: 3000, giveUpAfterMs: 60_000 } as const;

export interface TicketedSocketsOptions<Grant, Connection extends { socket: WebSocket }> {
  /** The WebSocket path tickets open. */
  path: string;
  /** A ticket's lifetime. */
  lifetimeMs: number;
  /** The raw HTTP answer (status line, headers, body) to an upgrade with a ticket unknown, used or expired. */
  refusal: string;
  /** Headers the 101 answer carries besides the WebSocket ones (`name: value`). */
  handshakeHeaders?: readonly string[];
  /** The connection a ticket's upgrade opened, from what the ticket was issued with. */
  open(socket: WebSocket, grant: Grant): Connection;
  /** A message from a client. */
  received(connection: Connection, raw: RawData): void;
  /** After each connection opened (waiting pushes can go out). */
  opened(): void;
}

/** One-use tickets for a WebSocket path, the connections they opened, and a round-robin pick among those open. */
export class TicketedSockets<Grant, Connection extends { socket: WebSocket }> {
  readonly #options: TicketedSocketsOptions<Grant, Connection>;
  readonly #tickets = new Map<string, { expires: number; grant: Grant }>();
  readonly #connections = new Map<WebSocket, Connection>();
  readonly #wss = new WebSocketServer({ noServer: true });
  #turn = 0;

  constructor(options: TicketedSocketsOptions<Grant, Connection>) {
    this.#options = options;
    const extra = options.handshakeHeaders;
    if (extra !== undefined) this.#wss.on('headers', (headers) => headers.push(...extra));
  }

  /** A new ticket that opens one connection with `grant` before it expires. */
  issue(grant: Grant): string {
    const ticket = randomBytes(18).toString('base64url');
    this.#tickets.set(ticket, { expires: Date.now() + this.#options.lifetimeMs, grant });
    return ticket;
  }

  /** Takes the upgrade when it is for the path (`?ticket=`): a connection, or the refusal; false for another path. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== this.#options.path) return false;
    const ticket = url.searchParams.get('ticket') ?? '';
    const issued = this.#tickets.get(ticket);
    this.#tickets.delete(ticket); // one use, whatever happens next
    if (issued === undefined || issued.expires < Date.now()) {
      socket.end(this.#options.refusal);
      return true;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = this.#options.open(ws, issued.grant);
      this.#connections.set(ws, connection);
      ws.on('message', (raw) => this.#options.received(connection, raw));
      ws.on('close', () => this.#connections.delete(ws));
      ws.on('error', () => ws.terminate());
      this.#options.opened();
    });
    return true;
  }

  /** The next open connection that `wanted` accepts, round robin; undefined when there is none. */
  pick(wanted: (connection: Connection) => boolean = () => true): Connection | undefined {
    const open = [...this.#connections.values()].filter((connection) => connection.socket.readyState === connection.socket.OPEN && wanted(connection));
    return open[this.#turn++ % Math.max(open.length, 1)];
  }

  get size(): number {
    return this.#connections.size;
  }

  values(): IterableIterator<Connection> {
    return this.#connections.values();
  }

  /** Forgets every connection (after `each` closed it) and stops taking upgrades. */
  close(each: (connection: Connection) => void): void {
    for (const connection of this.#connections.values()) each(connection);
    this.#connections.clear();
    this.#wss.close();
  }
}
