import type { Logger } from '../config/logger.js';
import type { ApprovalWebhookSecrets } from '../ingress/eventbridge/approval-webhooks.js';
import { checkEventBridgeSecret, readCloudEvents } from '../ingress/eventbridge/cloud-events.js';
import type { HttpRequest, HttpResponse, Route } from '../ingress/http-server.js';
import type { NoticeSink } from '../ingress/ingress-notice.js';
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
  /** A task of this invocation completed (TaskCompleted): its results can be read now. */
  onInvocationCompleted?(invokeId: string): void;
  /** Where approvals and leavers that come through EventBridge go (the approvals inbox). */
  sink?: NoticeSink;
  /**
   * The platforms' callback secrets (`approvalWebhookSecrets(readIngressConfig(env))`): the
   * webhooks DingTalk and Lark post to the stack's HTTPS event sources arrive wrapped in
   * HTTPEvents and are verified with them. Without a platform's secrets its webhooks are refused.
   */
  webhooks?: ApprovalWebhookSecrets;
  /** Accepted distance between a webhook's timestamp and the bus's publish time. Default 5 minutes. */
  webhookWindowMs?: number;
}

/**
 * The daemon's own routes: health, readiness, status, metrics, the git push hook, and the events
 * EventBridge delivers (Cloud Assistant's, and approvals). The hook and Cloud Assistant's events
 * only wake rollcall up: what it then does comes from git and from the ECS API, never from the
 * request's content; an approval is confirmed with the platform before anything is committed.
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

/**
 * `POST /ingress/eventbridge`. A platform's webhook that fails verification is counted as
 * `refused` and logged, and the delivery is still answered 200: sending the same forged or
 * altered webhook again cannot make it pass, and anything else would have EventBridge retry it
 * for a day and then dead-letter it. The same holds for a webhook of a platform whose secrets are
 * not configured (logged at error with the variables to set): the approval is still on the
 * platform, to be approved again or caught up once the secrets are set.
 */
function receiveEvents(request: HttpRequest, options: DaemonRoutesOptions): HttpResponse {
  if (options.eventSecret && !checkEventBridgeSecret(request.headers, options.eventSecret)) {
    return { status: 401, body: { error: 'missing or wrong X-Rollcall-Secret header' } };
  }
  const read = readCloudEvents(request.body, {
    headers: request.headers,
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    ...(options.webhookWindowMs !== undefined ? { windowMs: options.webhookWindowMs } : {}),
  });
  if (!read.ok) return { status: read.status, body: { error: read.error } };
  const appeared: string[] = [];
  let approvals = 0;
  let ignored = 0;
  let refused = 0;
  for (const event of read.events) {
    if (event.kind === 'invocation-finished') {
      // Only a wake-up: results are read from Cloud Assistant. Every instance's event counts, so no dedupe.
      options.onInvocationCompleted?.(event.invokeId);
      continue;
    }
    // Deliveries are retried by EventBridge: each event id counts once.
    if (!options.store.markSeen(event.id, event.source)) continue;
    if (event.kind === 'instance-appeared') appeared.push(event.instanceId);
    else if (event.kind === 'notice' && options.sink) {
      try {
        options.sink(event.notice);
      } catch (error) {
        // Not recorded (the store failed): the delivery fails, and EventBridge's retry must count.
        options.store.forgetSeen(event.id, event.source);
        throw error;
      }
      approvals++;
    } else if (event.kind === 'refused') {
      // The detail names what failed (or the variables to set), never a secret.
      const fields = { eventId: event.id, source: event.source, platform: event.platform, reason: event.reason, detail: event.detail, remoteAddress: request.remoteAddress };
      if (event.reason === 'not-configured') options.log.error(fields, 'approval webhook through EventBridge refused: its platform has no callback secrets');
      else options.log.warn(fields, 'approval webhook through EventBridge refused');
      refused++;
    } else if (event.kind === 'url-check') {
      options.log.info({ eventId: event.id, platform: event.platform }, 'callback URL check through EventBridge: the bus answers the platform itself, so the check cannot be answered from here; nothing recorded');
      ignored++;
    } else ignored++;
  }
  if (appeared.length > 0) {
    options.log.info({ instances: appeared }, 'new instances announced');
    options.onNewInstances(appeared);
  }
  return { status: 200, body: { accepted: read.events.length, newInstances: appeared.length, approvals, ignored, refused } };
}
