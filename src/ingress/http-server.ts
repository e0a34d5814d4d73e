import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';

/** A request as a route sees it: the whole body read, the URL parsed. */
export interface HttpRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  remoteAddress?: string;
}

/**
 * What a route answers. `body`: a string (text/plain unless `headers` say otherwise), a Buffer
 * (application/octet-stream unless they do), or any other object, sent as JSON (application/json).
 */
export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
}

/** One endpoint: a method on an exact path (no patterns, no query matching). */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  handle(request: HttpRequest): Promise<HttpResponse> | HttpResponse;
}

/** A listening server. */
export interface HttpServer {
  /** `http://127.0.0.1:P` (the host it listens on; loopback when that is every address). */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, waits for requests in flight (5 s at most), then closes every connection. */
  close(): Promise<void>;
}

export interface HttpServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  routes: readonly Route[];
  log: Logger;
  /** A bigger body gets 413 and the connection closed. Default 1 MiB. */
  maxBodyBytes?: number;
  /** How long `close()` waits for requests in flight before cutting them off. Default 5000. */
  closeTimeoutMs?: number;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Starts the daemon's one HTTP server, on `node:http` alone. A route is picked by exact path and
 * method: an unknown path gets 404, a known path with another method 405 with `Allow`, a body over
 * `maxBodyBytes` 413 (from `content-length` before reading, or as soon as the count passes it),
 * a handler that throws 500 `{"error":"internal error"}` with the error logged, never sent. Each
 * request is logged at debug with method, path, status and ms; never the query string, which may
 * carry secrets (signatures, tokens).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const host = options.host ?? DEFAULT_HOST;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  const routes = routeTable(options.routes);
  const { log } = options;

  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  let base = '';

  const server = createServer((request, response) => {
    inFlight++;
    const started = performance.now();
    const served = serve(request, response, { routes, maxBodyBytes, log, base, closing: () => closing }).catch((error: unknown) => log.error({ err: error }, 'http response failed'));
    // In flight until the handler is done and the answer is out (or the client gone): close() must not cut either short.
    const answered = new Promise((resolve) => response.once('close', resolve));
    void Promise.all([served, answered]).then(() => {
      log.debug({ method: request.method, path: pathOf(request.url), status: response.headersSent ? response.statusCode : 0, ms: Math.round(performance.now() - started) }, 'http request');
      inFlight--;
      if (inFlight === 0) drained?.();
    });
  });

  const port = await listen(server, options.port, host);
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  base = `http://${urlHost}:${port}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections with no request on them would hold close() up until they time out.
      server.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, closeTimeoutMs);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      if (inFlight > 0) log.warn({ inFlight, closeTimeoutMs }, 'http requests still running at shutdown were cut off');
      server.closeAllConnections();
      await stopped;
    })();
    return closed;
  };

  return { url: base, port, close };
}

interface ServeContext {
  routes: ReadonlyMap<string, ReadonlyMap<string, Route>>;
  maxBodyBytes: number;
  log: Logger;
  /** `http://host:port`, against which request targets are resolved. */
  base: string;
  closing: () => boolean;
}

async function serve(request: IncomingMessage, response: ServerResponse, context: ServeContext): Promise<void> {
  const send = (answer: HttpResponse) => sendAnswer(response, answer, context.closing());
  const url = parseTarget(request.url ?? '/', context.base);
  if (url === undefined) return send({ status: 400, body: { error: 'bad request target' } });
  const byMethod = context.routes.get(url.pathname);
  if (byMethod === undefined) return send({ status: 404, body: { error: `not found: ${url.pathname}` } });
  const route = byMethod.get(request.method ?? '');
  if (route === undefined) {
    return send({ status: 405, headers: { allow: [...byMethod.keys()].join(', ') }, body: { error: `method ${request.method} not allowed on ${url.pathname}` } });
  }

  const body = await readBody(request, context.maxBodyBytes);
  if (body === 'too-large') {
    // The rest of the body is not read: the connection closes once the answer is out.
    return sendAnswer(response, { status: 413, body: { error: `request body larger than ${context.maxBodyBytes} bytes` } }, true);
  }
  if (body === 'aborted') return;

  let answer: HttpResponse;
  try {
    answer = await route.handle({
      method: request.method ?? '',
      url,
      headers: request.headers,
      body,
      ...(request.socket.remoteAddress !== undefined ? { remoteAddress: request.socket.remoteAddress } : {}),
    });
  } catch (error) {
    context.log.error({ err: error, method: request.method, path: url.pathname }, 'http handler failed');
    answer = { status: 500, body: { error: 'internal error' } };
  }
  send(answer);
}

/** Reads the whole body, unless it is (or declares itself) bigger than `max`. */
function readBody(request: IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > max) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        request.off('data', onData);
        request.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    // A client that goes away mid-body gets no answer: there is no one to send it to.
    request.once('close', () => {
      if (!request.complete) resolve('aborted');
    });
    request.once('error', () => resolve('aborted'));
  });
}

/** Writes the answer; `closeConnection` (a shutdown, an unread body) ends the connection after it. */
function sendAnswer(response: ServerResponse, answer: HttpResponse, closeConnection: boolean): void {
  if (response.headersSent || response.destroyed) return;
  const headers: Record<string, string> = { ...answer.headers };
  if (closeConnection) headers['connection'] = 'close';
  const has = (name: string) => Object.keys(headers).some((key) => key.toLowerCase() === name);
  let payload: Buffer | undefined;
  if (typeof answer.body === 'string') {
    payload = Buffer.from(answer.body, 'utf8');
    if (!has('content-type')) headers['content-type'] = 'text/plain; charset=utf-8';
  } else if (Buffer.isBuffer(answer.body)) {
    payload = answer.body;
    if (!has('content-type')) headers['content-type'] = 'application/octet-stream';
  } else if (answer.body !== undefined) {
    payload = Buffer.from(JSON.stringify(answer.body), 'utf8');
    if (!has('content-type')) headers['content-type'] = 'application/json; charset=utf-8';
  }
  headers['content-length'] = String(payload?.length ?? 0);
  response.writeHead(answer.status, headers);
  response.end(payload);
}

/** Routes by path, then by method; a second route for the same method and path is a bug. */
function routeTable(routes: readonly Route[]): Map<string, Map<string, Route>> {
  const table = new Map<string, Map<string, Route>>();
  for (const route of routes) {
    if (!route.path.startsWith('/')) throw new RollcallError('internal', `route path ${JSON.stringify(route.path)} must start with "/"`);
    const byMethod = table.get(route.path) ?? new Map<string, Route>();
    if (byMethod.has(route.method)) throw new RollcallError('internal', `two routes for ${route.method} ${route.path}: keep one`);
    byMethod.set(route.method, route);
    table.set(route.path, byMethod);
  }
  return table;
}

/**
 * The request target as a URL. Origin-form (`/path?q`) is appended to the server's own address
 * rather than resolved against it, so that `//host/x` stays a path and never names another host.
 */
function parseTarget(target: string, base: string): URL | undefined {
  try {
    return target.startsWith('/') ? new URL(base + target) : new URL(target);
  } catch {
    return undefined;
  }
}

/** The path of a request target, without its query string (logged: the query may hold secrets). */
function pathOf(target: string | undefined): string {
  const path = (target ?? '/').split('?', 1)[0]!;
  return path.startsWith('/') ? path : (parseTarget(path, 'http://x')?.pathname ?? '');
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const fix =
        error.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is taken: choose another --port, or stop what listens there`
          : error.code === 'EACCES'
            ? `listening on port ${port} of ${host} is not allowed: choose a port above 1023, or run with the right privileges`
            : `cannot listen on ${host}:${port}: ${error.message}`;
      reject(new RollcallError('invalid-input', fix, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
