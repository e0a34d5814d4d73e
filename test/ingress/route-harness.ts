import { afterEach } from 'vitest';
import { createLogger, type Logger } from '../../src/config/logger.js';
import { startHttpServer, type HttpServer, type Route } from '../../src/ingress/http-server.js';
import type { IngressNotice } from '../../src/ingress/ingress-notice.js';

/** A sink that records notices and dedupes on eventId, like the state store; `state.fail` makes it throw. */
export function recordingSink() {
  const notices: IngressNotice[] = [];
  const seen = new Set<string>();
  const state = { fail: false };
  const sink = (notice: IngressNotice) => {
    if (state.fail) throw new Error('disk full');
    notices.push(notice);
    if (seen.has(notice.eventId)) return false;
    seen.add(notice.eventId);
    return true;
  };
  return { sink, notices, state };
}

/**
 * A starter of HTTP servers that serve one callback route, made by `route` from a recording sink
 * and a debug logger whose lines are kept (`lines`); every server is closed after its test. Call
 * it at the top of a test file.
 */
export function routeHarness() {
  const servers: HttpServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (route: (sink: ReturnType<typeof recordingSink>['sink'], log: Logger) => Route) => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ ROLLCALL_LOG_LEVEL: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const recorder = recordingSink();
    const server = await startHttpServer({ port: 0, log, routes: [route(recorder.sink, log)] });
    servers.push(server);
    return { server, lines, ...recorder };
  };
}
