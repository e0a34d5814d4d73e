import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { groupPage, type GroupPage } from '../../../src/emulators/chat/group-page.js';
import { createRobotWebhooks, isRobotPath, readRobotRequest, type RobotWebhooks, type RobotWebhooksOptions } from '../../../src/emulators/chat/robot-webhooks.js';

/** A real HTTP server with the robots and the group page mounted, the way the chat emulator mounts them. */
export interface RobotServer {
  url: string;
  webhooks: RobotWebhooks;
  page: GroupPage;
}

/** A starter of robot servers; every server it started is closed after its test. */
export function robotServers(): (options: RobotWebhooksOptions) => Promise<RobotServer> {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  return async (options) => {
    const webhooks = createRobotWebhooks(options);
    const page = groupPage(webhooks);
    const server = createServer((request, response) => {
      if (page.handle(request, response)) return;
      if (!isRobotPath(request.url ?? '/')) {
        response.writeHead(404).end();
        return;
      }
      void readRobotRequest(request).then((read) => {
        const answer = webhooks.handle(read)!;
        response.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
        response.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          page.close();
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, webhooks, page };
  };
}

/** POSTs JSON (or raw text) and reads the JSON answer. */
export async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
