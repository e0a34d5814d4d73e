import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import { createLogger } from '../../src/config/logger.js';
import { startHttpServer, type HttpRequest, type HttpServer, type Route } from '../../src/ingress/http-server.js';

/** A debug-level logger whose lines the test reads. */
function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ ROLLCALL_LOG_LEVEL: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(routes: readonly Route[], extra: { maxBodyBytes?: number; closeTimeoutMs?: number } = {}) {
  const { log, lines } = captureLog();
  const server = await startHttpServer({ port: 0, routes, log, ...extra });
  servers.push(server);
  return { server, lines };
}

/** A promise with its resolve function, for handlers the test releases. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/** A raw request, for targets fetch would normalise. */
function rawGet(server: HttpServer, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

describe('startHttpServer', () => {
  it('listens on 127.0.0.1 and a free port, and answers a route with JSON', async () => {
    const { server } = await start([{ method: 'GET', path: '/healthz', handle: () => ({ status: 200, body: { ok: true } }) }]);
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({ ok: true });
  });

  it('hands the route the method, parsed URL, headers, whole body and remote address', async () => {
    const seen: HttpRequest[] = [];
    const { server } = await start([
      {
        method: 'POST',
        path: '/hook',
        handle: (request) => {
          seen.push(request);
          return { status: 202 };
        },
      },
    ]);
    const response = await fetch(`${server.url}/hook?x=1&y=two`, { method: 'POST', headers: { 'x-signature': 'abc' }, body: 'payload bytes' });
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
    const request = seen[0]!;
    expect(request.method).toBe('POST');
    expect(request.url.pathname).toBe('/hook');
    expect(request.url.searchParams.get('y')).toBe('two');
    expect(request.headers['x-signature']).toBe('abc');
    expect(request.body.toString('utf8')).toBe('payload bytes');
    expect(request.remoteAddress).toMatch(/127\.0\.0\.1$/);
  });

  it('sends strings as text, Buffers as octet-stream, and lets the route set the content type', async () => {
    const { server } = await start([
      { method: 'GET', path: '/text', handle: () => ({ status: 200, body: 'héllo' }) },
      { method: 'GET', path: '/bytes', handle: () => ({ status: 200, body: Buffer.from([1, 2, 3]) }) },
      { method: 'GET', path: '/metrics', handle: () => ({ status: 200, headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }, body: 'up 1\n' }) },
    ]);
    const text = await fetch(`${server.url}/text`);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('héllo');
    const bytes = await fetch(`${server.url}/bytes`);
    expect(bytes.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await bytes.arrayBuffer())]).toEqual([1, 2, 3]);
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await metrics.text()).toBe('up 1\n');
  });

  it('answers 404 JSON for an unknown path, also one that looks like another host', async () => {
    const { server } = await start([{ method: 'GET', path: '/healthz', handle: () => ({ status: 200 }) }]);
    const response = await fetch(`${server.url}/nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({ error: 'not found: /nope' });
    expect((await rawGet(server, '//evil.example/healthz')).status).toBe(404);
  });

  it('answers 405 with Allow for a known path and another method', async () => {
    const { server } = await start([
      { method: 'GET', path: '/status', handle: () => ({ status: 200 }) },
      { method: 'POST', path: '/status', handle: () => ({ status: 200 }) },
    ]);
    const response = await fetch(`${server.url}/status`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST');
    expect(await response.json()).toEqual({ error: 'method DELETE not allowed on /status' });
  });

  it('answers 500 {error: "internal error"} when a handler throws, and logs the error without sending it', async () => {
    const { server, lines } = await start([
      {
        method: 'GET',
        path: '/boom',
        handle: async () => {
          throw new Error('database password is hunter2');
        },
      },
    ]);
    const response = await fetch(`${server.url}/boom`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal error' });
    expect(text).not.toContain('hunter2');
    const failure = lines.find((line) => line['msg'] === 'http handler failed');
    expect(failure).toMatchObject({ level: 50, method: 'GET', path: '/boom', err: { message: 'database password is hunter2' } });
  });

  it('logs each request at debug with method, path, status and ms, never the query string', async () => {
    const { server, lines } = await start([{ method: 'GET', path: '/callback', handle: () => ({ status: 204 }) }]);
    await (await fetch(`${server.url}/callback?token=s3cr3t-token&sign=abc`)).arrayBuffer();
    await (await fetch(`${server.url}/missing?token=s3cr3t-token`)).arrayBuffer();
    await server.close();
    const requests = lines.filter((line) => line['msg'] === 'http request');
    expect(requests.map(({ level, method, path, status }) => ({ level, method, path, status }))).toEqual([
      { level: 20, method: 'GET', path: '/callback', status: 204 },
      { level: 20, method: 'GET', path: '/missing', status: 404 },
    ]);
    for (const line of requests) expect(typeof line['ms']).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('s3cr3t');
  });

  describe('body limit', () => {
    const echo: Route = { method: 'POST', path: '/in', handle: (request) => ({ status: 200, body: { bytes: request.body.length } }) };

    it('takes a body of exactly maxBodyBytes', async () => {
      const { server } = await start([echo], { maxBodyBytes: 1024 });
      const response = await fetch(`${server.url}/in`, { method: 'POST', body: 'x'.repeat(1024) });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ bytes: 1024 });
    });

    it('answers 413 to a content-length over the limit without calling the handler', async () => {
      let called = false;
      const { server } = await start([{ ...echo, handle: () => ((called = true), { status: 200 }) }], { maxBodyBytes: 1024 });
      const response = await fetch(`${server.url}/in`, { method: 'POST', body: 'x'.repeat(1025) });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ error: 'request body larger than 1024 bytes' });
      expect(response.headers.get('connection')).toBe('close');
      expect(called).toBe(false);
    });

    it('answers 413 to a chunked body once it passes the limit', async () => {
      const { server } = await start([echo], { maxBodyBytes: 1024 });
      const chunk = new TextEncoder().encode('y'.repeat(600));
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(chunk);
          controller.enqueue(chunk);
          controller.close();
        },
      });
      const response = await fetch(`${server.url}/in`, { method: 'POST', body, duplex: 'half' } as RequestInit);
      expect(response.status).toBe(413);
      await response.arrayBuffer();
    });

    it('defaults to 1 MiB', async () => {
      const { server } = await start([echo]);
      const ok = await fetch(`${server.url}/in`, { method: 'POST', body: Buffer.alloc(1024 * 1024) });
      expect(await ok.json()).toEqual({ bytes: 1024 * 1024 });
      const tooBig = await fetch(`${server.url}/in`, { method: 'POST', body: Buffer.alloc(1024 * 1024 + 1) });
      expect(tooBig.status).toBe(413);
    });
  });

  it('serves requests concurrently', async () => {
    const count = 20;
    let arrived = 0;
    const all = deferred();
    const { server } = await start([
      {
        method: 'GET',
        path: '/wait',
        handle: async () => {
          // Every handler waits until all of them are running: only concurrent serving gets past this.
          if (++arrived === count) all.resolve();
          await all.promise;
          return { status: 200, body: { arrived } };
        },
      },
    ]);
    const responses = await Promise.all(Array.from({ length: count }, () => fetch(`${server.url}/wait`)));
    expect(responses.map((response) => response.status)).toEqual(new Array(count).fill(200));
    expect(await Promise.all(responses.map((response) => response.json()))).toEqual(new Array(count).fill({ arrived: count }));
  });

  describe('close', () => {
    it('waits for a slow handler, answers it, then refuses new connections', async () => {
      const started = deferred();
      const release = deferred();
      const { server } = await start([
        {
          method: 'GET',
          path: '/slow',
          handle: async () => {
            started.resolve();
            await release.promise;
            return { status: 200, body: 'done' };
          },
        },
      ]);
      const slow = fetch(`${server.url}/slow`);
      await started.promise;
      let closed = false;
      const closing = server.close().then(() => (closed = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(closed).toBe(false);
      release.resolve();
      const response = await slow;
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('done');
      await closing;
      await expect(fetch(`${server.url}/slow`)).rejects.toThrow();
    });

    it('cuts requests off after the close timeout', async () => {
      const started = deferred();
      const { server, lines } = await start(
        [
          {
            method: 'GET',
            path: '/forever',
            handle: async () => {
              started.resolve();
              return new Promise(() => {});
            },
          },
        ],
        { closeTimeoutMs: 150 },
      );
      const hanging = fetch(`${server.url}/forever`).then(
        () => 'answered',
        () => 'cut off',
      );
      await started.promise;
      const before = Date.now();
      await server.close();
      expect(Date.now() - before).toBeGreaterThanOrEqual(140);
      expect(Date.now() - before).toBeLessThan(2_000);
      expect(await hanging).toBe('cut off');
      expect(lines.some((line) => line['msg'] === 'http requests still running at shutdown were cut off')).toBe(true);
    });

    it('does not wait for idle keep-alive connections', async () => {
      const { server } = await start([{ method: 'GET', path: '/ping', handle: () => ({ status: 200, body: 'pong' }) }]);
      for (let index = 0; index < 3; index++) expect(await (await fetch(`${server.url}/ping`)).text()).toBe('pong');
      const before = Date.now();
      await server.close();
      expect(Date.now() - before).toBeLessThan(1_000);
    });

    it('can be called more than once', async () => {
      const { server } = await start([]);
      await Promise.all([server.close(), server.close()]);
      await server.close();
    });
  });

  it('refuses two routes for the same method and path', async () => {
    const route: Route = { method: 'GET', path: '/x', handle: () => ({ status: 200 }) };
    await expect(startHttpServer({ port: 0, routes: [route, route], log: captureLog().log })).rejects.toThrow('two routes for GET /x: keep one');
  });

  it('says which port is taken when it cannot listen', async () => {
    const { server } = await start([]);
    const error = await startHttpServer({ port: server.port, routes: [], log: captureLog().log }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RollcallError);
    expect((error as RollcallError).code).toBe('invalid-input');
    expect((error as RollcallError).message).toBe(`port ${server.port} on 127.0.0.1 is taken: choose another --port, or stop what listens there`);
  });
});
