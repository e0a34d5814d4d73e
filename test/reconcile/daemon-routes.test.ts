import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { firstHeartbeatEvent } from '../../src/emulators/ecs/first-heartbeat-event.js';
import { taskCompletedEvent } from '../../src/emulators/ecs/task-completed-event.js';
import { startHttpServer, type HttpServer } from '../../src/ingress/http-server.js';
import type { IngressNotice } from '../../src/ingress/ingress-notice.js';
import { daemonRoutes, type DaemonRoutesOptions } from '../../src/reconcile/daemon-routes.js';
import { DINGTALK, dingtalkApproval, dingtalkWebhook, httpEvent, LARK, larkApproval, larkWebhook, WEBHOOK_SECRETS } from '../ingress/eventbridge/webhook-fixture.js';
import { Metrics, reconcilerMetrics } from '../../src/reconcile/metrics.js';
import { StateStore } from '../../src/reconcile/state-store.js';
import { StatusTracker, type ReconcilerStatus } from '../../src/reconcile/status.js';

const SHA = 'f'.repeat(40);
const HOOK_SECRET = 'hook-secret-123';
const EVENT_SECRET = 'event-secret-456';

interface Harness {
  url: string;
  status: StatusTracker;
  store: StateStore;
  metrics: Metrics;
  pushes: number;
  announced: string[][];
  completed: string[];
  notices: IngressNotice[];
  /** Set to make the sink throw, as it does when the store cannot record. */
  sinkFails: boolean;
  /** What the routes logged, one JSON line each. */
  logLines: string[];
  setNotReady(reason: string | undefined): void;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The daemon's routes on a real server (port 0), with fakes where the daemon wires its parts. */
async function start(secrets: Pick<DaemonRoutesOptions, 'hookSecret' | 'eventSecret' | 'webhooks'> = {}): Promise<Harness> {
  const logLines: string[] = [];
  const log = createLogger({ ROLLCALL_LOG_LEVEL: 'info' }, { write: (line: string) => logLines.push(line) });
  const store = StateStore.inMemory();
  const metrics = new Metrics();
  reconcilerMetrics(metrics).reconciles.inc({ trigger: 'revision', result: 'applied' });
  const status = new StatusTracker({ repo: '/srv/desired', branch: 'main', path: 'desired-state' });
  let notReady: string | undefined = 'the repository watcher is starting';
  const harness = {
    status,
    store,
    metrics,
    pushes: 0,
    announced: [] as string[][],
    completed: [] as string[],
    notices: [] as IngressNotice[],
    /** Set to make the sink throw, as it does when the store cannot record. */
    sinkFails: false,
    logLines,
    setNotReady: (reason: string | undefined) => (notReady = reason),
  };
  const server: HttpServer = await startHttpServer({
    port: 0,
    log,
    routes: daemonRoutes({
      status: () => status.get(),
      notReady: () => notReady,
      metrics,
      store,
      log,
      branch: 'main',
      ...secrets,
      onPush: () => harness.pushes++,
      onNewInstances: (ids) => harness.announced.push(ids),
      onInvocationCompleted: (invokeId) => harness.completed.push(invokeId),
      sink: (notice) => {
        if (harness.sinkFails) throw new Error('database is locked');
        harness.notices.push(notice);
        return true;
      },
    }),
  });
  cleanups.push(() => store.close(), () => server.close());
  return Object.assign(harness, { url: server.url });
}

function githubPush(body: string, secret?: string, event = 'push'): RequestInit {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': event };
  if (secret !== undefined) headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return { method: 'POST', headers, body };
}

function heartbeat(instanceId: string) {
  return firstHeartbeatEvent({ accountId: '1234567890123456', regionId: 'cn-hangzhou', instanceId, firstHeartbeatTime: new Date('2026-03-01T08:00:00Z') });
}

function postEvents(url: string, events: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/ingress/eventbridge`, {
    method: 'POST',
    // A list is a batch: EventBridge sends it as application/cloudevents-batch+json.
    headers: { 'content-type': Array.isArray(events) ? 'application/cloudevents-batch+json' : 'application/cloudevents+json', ...headers },
    body: typeof events === 'string' ? events : JSON.stringify(events),
  });
}

describe('health, readiness, status, metrics', () => {
  it('/healthz answers 200 at once', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it('/readyz is 503 with the reason until ready, then 200', async () => {
    const harness = await start();
    let response = await fetch(`${harness.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ready: false, reason: 'the repository watcher is starting' });

    harness.setNotReady('finishing what a previous run left');
    response = await fetch(`${harness.url}/readyz`);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { reason: string }).reason).toBe('finishing what a previous run left');

    harness.setNotReady(undefined);
    response = await fetch(`${harness.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ready: true });
  });

  it('/status is 200 with the status as JSON in every state', async () => {
    const harness = await start();
    const read = async () => {
      const response = await fetch(`${harness.url}/status`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      return (await response.json()) as ReconcilerStatus;
    };
    expect(await read()).toEqual(harness.status.get());
    expect((await read()).state).toBe('Reconciling');

    harness.status.applied(SHA, 'applied ffff');
    expect(await read()).toMatchObject({ state: 'Ready', reason: 'ReconciliationSucceeded', lastAppliedRevision: SHA });

    harness.status.stalled('ValidationFailed', 'users/E1.yaml:2:3: bad', SHA);
    const stalled = await read();
    expect(stalled).toMatchObject({ state: 'Stalled', reason: 'ValidationFailed', message: 'users/E1.yaml:2:3: bad' });
    expect(stalled).toEqual(harness.status.get());
  });

  it('/metrics answers in the Prometheus text format', async () => {
    const harness = await start();
    const response = await fetch(`${harness.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toBe(harness.metrics.render());
    expect(text).toContain('rollcall_reconciles_total{trigger="revision",result="applied"} 1');
  });
});

describe('POST /hooks/git', () => {
  const push = (ref: string) => JSON.stringify({ ref, after: 'a'.repeat(40) });

  it('with a secret: a good GitHub signature on the tracked branch wakes the watcher', async () => {
    const harness = await start({ hookSecret: HOOK_SECRET });
    const response = await fetch(`${harness.url}/hooks/git`, githubPush(push('refs/heads/main'), HOOK_SECRET));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: true, tracked: true });
    expect(harness.pushes).toBe(1);
  });

  it('with a secret: a bad or missing signature is 401 and wakes nothing', async () => {
    const harness = await start({ hookSecret: HOOK_SECRET });
    const wrong = await fetch(`${harness.url}/hooks/git`, githubPush(push('refs/heads/main'), 'another secret'));
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toContain('X-Hub-Signature-256 does not match');

    const unsigned = await fetch(`${harness.url}/hooks/git`, githubPush(push('refs/heads/main')));
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { error: string }).error).toContain('no X-Hub-Signature-256 header');

    // The signature covers the bytes: the same signature on another body does not pass.
    const signed = githubPush(push('refs/heads/main'), HOOK_SECRET);
    const tampered = await fetch(`${harness.url}/hooks/git`, { ...signed, body: push('refs/heads/evil') });
    expect(tampered.status).toBe(401);
    expect(harness.pushes).toBe(0);
  });

  it('a push to another branch is accepted but not tracked, and wakes nothing', async () => {
    const harness = await start({ hookSecret: HOOK_SECRET });
    const response = await fetch(`${harness.url}/hooks/git`, githubPush(push('refs/heads/feature'), HOOK_SECRET));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: true, tracked: false });
    expect(harness.pushes).toBe(0);
  });

  it('without a secret any push is accepted; a payload without a ref wakes the watcher too', async () => {
    const harness = await start();
    const tracked = await fetch(`${harness.url}/hooks/git`, githubPush(push('refs/heads/main')));
    expect(tracked.status).toBe(202);
    expect(await tracked.json()).toEqual({ accepted: true, tracked: true });
    expect(harness.pushes).toBe(1);

    // A provider rollcall does not know, with no ref: it may have moved, so look.
    const bare = await fetch(`${harness.url}/hooks/git`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(bare.status).toBe(202);
    expect(harness.pushes).toBe(2);
  });

  it('a body that is not JSON is 400', async () => {
    const harness = await start();
    const response = await fetch(`${harness.url}/hooks/git`, githubPush('not json'));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain('not JSON');
    expect(harness.pushes).toBe(0);
  });
});

describe('POST /ingress/eventbridge', () => {
  it('a FirstHeartbeat announces its instance', async () => {
    const harness = await start();
    const response = await postEvents(harness.url, heartbeat('i-bp1new0000001'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, newInstances: 1, approvals: 0, ignored: 0, refused: 0 });
    expect(harness.announced).toEqual([['i-bp1new0000001']]);
  });

  it('a batch announces every instance in it, at once', async () => {
    const harness = await start();
    const response = await postEvents(harness.url, [heartbeat('i-bp1new0000001'), heartbeat('i-bp1new0000002')]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 2, newInstances: 2, approvals: 0, ignored: 0, refused: 0 });
    expect(harness.announced).toEqual([['i-bp1new0000001', 'i-bp1new0000002']]);
  });

  it('the same event id delivered twice counts once', async () => {
    const harness = await start();
    const event = heartbeat('i-bp1new0000003');
    await postEvents(harness.url, event);
    const again = await postEvents(harness.url, event);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ accepted: 1, newInstances: 0, approvals: 0, ignored: 0, refused: 0 });
    // And within one batch.
    const other = heartbeat('i-bp1new0000004');
    const batch = await postEvents(harness.url, [other, other]);
    expect(await batch.json()).toEqual({ accepted: 2, newInstances: 1, approvals: 0, ignored: 0, refused: 0 });
    expect(harness.announced).toEqual([['i-bp1new0000003'], ['i-bp1new0000004']]);
  });

  it('with a secret: a missing or wrong X-Rollcall-Secret is 401, the right one is taken', async () => {
    const harness = await start({ eventSecret: EVENT_SECRET });
    const missing = await postEvents(harness.url, heartbeat('i-bp1new0000005'));
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: 'missing or wrong X-Rollcall-Secret header' });
    const wrong = await postEvents(harness.url, heartbeat('i-bp1new0000005'), { 'x-rollcall-secret': 'event-secret-457' });
    expect(wrong.status).toBe(401);
    const longer = await postEvents(harness.url, heartbeat('i-bp1new0000005'), { 'x-rollcall-secret': `${EVENT_SECRET}x` });
    expect(longer.status).toBe(401);
    expect(harness.announced).toEqual([]);

    const right = await postEvents(harness.url, heartbeat('i-bp1new0000005'), { 'x-rollcall-secret': EVENT_SECRET });
    expect(right.status).toBe(200);
    expect(harness.announced).toEqual([['i-bp1new0000005']]);
  });

  it('a body that is not JSON, or not a CloudEvent, is 400', async () => {
    const harness = await start();
    const notJson = await postEvents(harness.url, '{"id": ');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toContain('not JSON');

    const noId = await postEvents(harness.url, { source: 'acs.ecs', type: 'ecs:CloudAssistant:FirstHeartbeat', data: { instanceId: 'i-x' } });
    expect(noId.status).toBe(400);
    expect(((await noId.json()) as { error: string }).error).toMatch(/^not a CloudEvent: id/);

    const inBatch = await postEvents(harness.url, [heartbeat('i-bp1new0000006'), { id: 'x', source: 'acs.ecs' }]);
    expect(inBatch.status).toBe(400);
    expect(((await inBatch.json()) as { error: string }).error).toMatch(/^not a CloudEvent: event 1: type/);
    expect(harness.announced).toEqual([]);
  });

  it('an approval through EventBridge goes to the sink once, however often it is delivered', async () => {
    const harness = await start();
    const approval = {
      id: 'evt-approval-1',
      source: 'dingtalk.approval',
      type: 'bpms_instance_change',
      specversion: '1.0',
      data: { EventType: 'bpms_instance_change', processInstanceId: 'PI-1', processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree', staffId: 'u1' },
    };
    const first = await postEvents(harness.url, approval);
    expect(await first.json()).toEqual({ accepted: 1, newInstances: 0, approvals: 1, ignored: 0, refused: 0 });
    await postEvents(harness.url, [approval, approval]);
    expect(harness.notices).toEqual([expect.objectContaining({ kind: 'approval', platform: 'dingtalk', instanceId: 'PI-1', eventId: 'evt-approval-1', via: 'eventbridge' })]);
  });

  it('an approval the sink could not record fails the delivery, and EventBridge\'s retry of it counts', async () => {
    const harness = await start();
    const approval = { id: 'evt-approval-2', source: 'dingtalk.approval', type: 'bpms_instance_change', specversion: '1.0', data: { EventType: 'bpms_instance_change', processInstanceId: 'PI-2', processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree', staffId: 'u1' } };
    harness.sinkFails = true;
    expect((await postEvents(harness.url, approval)).status).toBe(500);
    harness.sinkFails = false;
    expect(await (await postEvents(harness.url, approval)).json()).toMatchObject({ approvals: 1 });
    expect(harness.notices.map((notice) => notice.eventId)).toEqual(['evt-approval-2']);
  });

  it('TaskCompleted wakes the invocation it names; other sources are ignored', async () => {
    const harness = await start();
    const completed = taskCompletedEvent({
      accountId: '1234567890123456',
      regionId: 'cn-hangzhou',
      invokeId: 't-1',
      commandId: 'c-1',
      commandName: 'rollcall-agent',
      instanceId: 'i-bp1web0000001',
      invocationStatus: 'Success',
      exitCode: 0,
      finishTime: new Date('2026-03-01T08:00:00Z'),
    });
    const foreign = { ...heartbeat('i-bp1new0000007'), source: 'acs.other' };
    const response = await postEvents(harness.url, [completed, foreign, heartbeat('i-bp1new0000008')]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 3, newInstances: 1, approvals: 0, ignored: 1, refused: 0 });
    expect(harness.announced).toEqual([['i-bp1new0000008']]);
    expect(harness.completed).toEqual(['t-1']);
  });
});

describe('POST /ingress/eventbridge: the platforms\' webhooks from the HTTPS sources', () => {
  const webhooks = { dingtalk: DINGTALK, lark: LARK };
  const logged = (harness: Harness) => harness.logLines.map((line) => JSON.parse(line) as Record<string, unknown>);

  it('a signed DingTalk push and a signed Lark callback, wrapped by the bus, become notices once each', async () => {
    const harness = await start({ eventSecret: EVENT_SECRET, webhooks });
    const dingtalk = httpEvent('dingtalk.approval', dingtalkWebhook(dingtalkApproval('PI-300', 'dt-300')));
    const lark = httpEvent('lark.approval', larkWebhook(larkApproval('IC-300', 'lark-300')));
    for (const event of [dingtalk, lark]) {
      const response = await postEvents(harness.url, event, { 'x-rollcall-secret': EVENT_SECRET });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ accepted: 1, newInstances: 0, approvals: 1, ignored: 0, refused: 0 });
    }
    // The bus retries the same event: counted once.
    await postEvents(harness.url, dingtalk, { 'x-rollcall-secret': EVENT_SECRET });
    expect(harness.notices).toEqual([
      { kind: 'approval', platform: 'dingtalk', eventId: 'dt-300', instanceId: 'PI-300', processCode: 'PROC-ONBOARD', via: 'eventbridge' },
      { kind: 'approval', platform: 'lark', eventId: 'lark-300', instanceId: 'IC-300', processCode: 'APPROVAL-ONBOARD', via: 'eventbridge' },
    ]);
  });

  it('forged and tampered webhooks are refused with 200 (a retry cannot fix them), logged with the reason and no secret, and never reach the sink', async () => {
    const harness = await start({ webhooks });
    const forged = [
      httpEvent('dingtalk.approval', dingtalkWebhook(dingtalkApproval('PI-666', 'dt-666'), { token: 'forged-token' })),
      httpEvent('dingtalk.approval', dingtalkWebhook(dingtalkApproval('PI-667', 'dt-667'), { encodingAesKey: 'Q'.repeat(43) })),
      httpEvent('lark.approval', larkWebhook(larkApproval('IC-666', 'lark-666'), { signingKey: 'forged-key' })),
      httpEvent('lark.approval', larkWebhook(larkApproval('IC-667', 'lark-667'), { tamper: (body) => body.replace('"}', 'A"}') })),
    ];
    const response = await postEvents(harness.url, forged);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 4, newInstances: 0, approvals: 0, ignored: 0, refused: 4 });
    expect(harness.notices).toEqual([]);
    const refusals = logged(harness).filter((line) => line['msg'] === 'approval webhook through EventBridge refused');
    expect(refusals.map((line) => [line['platform'], line['reason']])).toEqual([
      ['dingtalk', 'bad-signature'],
      ['dingtalk', 'bad-encryption'],
      ['lark', 'bad-signature'],
      ['lark', 'bad-signature'],
    ]);
    const text = harness.logLines.join('');
    for (const secret of WEBHOOK_SECRETS) expect(text).not.toContain(secret);
  });

  it('a webhook of a platform without secrets is refused, and the log names the variables to set', async () => {
    const harness = await start({ webhooks: { lark: LARK } });
    const response = await postEvents(harness.url, httpEvent('dingtalk.approval', dingtalkWebhook(dingtalkApproval('PI-301', 'dt-301'))));
    expect(await response.json()).toEqual({ accepted: 1, newInstances: 0, approvals: 0, ignored: 0, refused: 1 });
    expect(harness.notices).toEqual([]);
    const line = logged(harness).find((entry) => entry['reason'] === 'not-configured');
    expect(line).toMatchObject({ level: 50, platform: 'dingtalk' });
    expect(line?.['detail']).toContain('ROLLCALL_DINGTALK_TOKEN and ROLLCALL_DINGTALK_AES_KEY');
  });

  it('URL checks through the bus are logged as what they are and record nothing', async () => {
    const harness = await start({ webhooks });
    const response = await postEvents(harness.url, [
      httpEvent('dingtalk.approval', dingtalkWebhook({ EventType: 'check_url' })),
      httpEvent('lark.approval', larkWebhook({ challenge: 'c-2', token: LARK.verificationToken, type: 'url_verification' })),
    ]);
    expect(await response.json()).toEqual({ accepted: 2, newInstances: 0, approvals: 0, ignored: 2, refused: 0 });
    expect(harness.notices).toEqual([]);
    expect(logged(harness).filter((line) => String(line['msg']).startsWith('callback URL check through EventBridge')).map((line) => line['platform'])).toEqual(['dingtalk', 'lark']);
  });
});
