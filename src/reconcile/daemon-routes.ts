import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../config/logger.js';
import type { HttpRequest, HttpResponse, Route } from '../ingress/http-server.js';
import { readPushHook } from '../source/push-hook.js';
import type { Metrics } from './metrics.js';
import type { StateStore } from './state-store.js';
import type { ReconcilerStatus } from './status.js';

export interface DaemonRoutesOptions {
  status(): ReconcilerStatus;
  /** Why the daemon is not ready yet, or undefined when it is. */
  notReady(): string | undefined;
  metrics: Metrics;
  store: StateStore;
  log: Logger;
  branch: string;
  /** ROLLCALL_GIT_HOOK_SECRET: verifies `POST /hooks/git` (GitHub HMAC, GitLab/Codeup token). */
  hookSecret?: string;
  /** ROLLCALL_EVENTBRIDGE_SECRET: the `X-Rollcall-Secret` header EventBridge's HTTP target sends. */
  eventSecret?: string;
  /** The tracked branch may have moved: fetch (remote) or read the refs again (local). */
  onPush(): void;
  /** Cloud Assistant announced new instances (FirstHeartbeat). */
  onNewInstances(ids: string[]): void;
}

/** A CloudEvent as EventBridge delivers it; only what rollcall reads, the rest passes. */
const CloudEvent = z.looseObject({
  id: z.string().min(1),
  source: z.string(),
  type: z.string(),
  data: z.looseObject({ instanceId: z.string().optional() }).optional(),
});

/**
 * The daemon's own routes: health, readiness, status, metrics, the git push hook, and Cloud
 * Assistant's events from EventBridge. The hook and the events only wake rollcall up: what it
 * then does comes from git and from the ECS API, never from the request's content.
 */
export function daemonRoutes(options: DaemonRoutesOptions): Route[] {
  return [
    { method: 'GET', path: '/healthz', handle: () => ({ status: 200, body: { ok: true } }) },
    {
      method: 'GET',
      path: '/readyz',
      handle: () => {
        const why = options.notReady();
        return why ? { status: 503, body: { ready: false, reason: why } } : { status: 200, body: { ready: true } };
      },
    },
    // 200 in every state: readiness is /readyz; this is for people and scripts.
    { method: 'GET', path: '/status', handle: () => ({ status: 200, body: options.status() }) },
    { method: 'GET', path: '/metrics', handle: () => ({ status: 200, headers: { 'content-type': options.metrics.contentType }, body: options.metrics.render() }) },
    {
      method: 'POST',
      path: '/hooks/git',
      handle: (request) => {
        const hook = readPushHook({ headers: request.headers, body: request.body }, { branch: options.branch, ...(options.hookSecret ? { secret: options.hookSecret } : {}) });
        if (!hook.ok) return { status: hook.status, body: { error: hook.message } };
        options.log.info({ provider: hook.provider, ref: hook.ref, tracked: hook.tracked }, 'push hook');
        if (hook.tracked || hook.ref === undefined) options.onPush();
        return { status: 202, body: { accepted: true, tracked: hook.tracked } };
      },
    },
    { method: 'POST', path: '/ingress/eventbridge', handle: (request) => receiveEvents(request, options) },
  ];
}

function receiveEvents(request: HttpRequest, options: DaemonRoutesOptions): HttpResponse {
  if (options.eventSecret && !sameSecret(header(request, 'x-rollcall-secret'), options.eventSecret)) {
    return { status: 401, body: { error: 'missing or wrong X-Rollcall-Secret header' } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString('utf8'));
  } catch {
    return { status: 400, body: { error: 'the body is not JSON: send a CloudEvent or a batch of them' } };
  }
  const events = Array.isArray(parsed) ? parsed : [parsed];
  const appeared: string[] = [];
  let ignored = 0;
  for (const value of events) {
    const event = CloudEvent.safeParse(value);
    if (!event.success) return { status: 400, body: { error: `not a CloudEvent: ${event.error.issues[0]?.path.join('.') ?? ''} ${event.error.issues[0]?.message ?? ''}`.trim() } };
    // Deliveries are retried by EventBridge: each event id counts once.
    if (!options.store.markSeen(event.data.id, event.data.source)) continue;
    if (event.data.source === 'acs.ecs' && event.data.type === 'ecs:CloudAssistant:FirstHeartbeat' && event.data.data?.instanceId) appeared.push(event.data.data.instanceId);
    else ignored++;
  }
  if (appeared.length > 0) {
    options.log.info({ instances: appeared }, 'new instances announced');
    options.onNewInstances(appeared);
  }
  return { status: 200, body: { accepted: events.length, newInstances: appeared.length, ignored } };
}

function header(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
