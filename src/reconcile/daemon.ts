import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import type { Executor } from '../executors/types.js';
import { startHttpServer, type HttpServer } from '../ingress/http-server.js';
import { approvalWebhookSecrets } from '../ingress/eventbridge/approval-webhooks.js';
import { readIngressConfig } from '../ingress/ingress-config.js';
import { ChatNotifier, renderIn } from '../notify/chat-notifier.js';
import { eventBusPublisherFromEnv } from '../notify/event-bus-publisher.js';
import type { Links } from '../notify/events.js';
import { FLOW_TRAILER } from '../requests/approval-message.js';
import { DesiredRepository } from '../source/desired-repository.js';
import { pollRemoteRepository } from '../source/poll-remote-repository.js';
import { ResultNotes } from '../source/result-notes.js';
import { watchLocalRepository, type RepositoryWatcher } from '../source/watch-local-repository.js';
import { approvalIngress } from './approval-ingress.js';
import { daemonRoutes } from './daemon-routes.js';
import { providerFromEnv } from './provider-from-env.js';
import { Metrics, reconcilerMetrics } from './metrics.js';
import { Outbox, type Notifier } from './outbox.js';
import { Reconciler } from './reconciler.js';
import { storeSendLog } from './robot-send-log.js';
import { ReminderSchedule } from './reminder-schedule.js';
import { RequestContextReader } from './request-context.js';
import { StateStore } from './state-store.js';
import { StatusTracker, type ReconcilerStatus } from './status.js';

export interface DaemonOptions {
  /** The desired-state repository: a local path or a remote URL. */
  repo: string;
  branch?: string;
  /** The desired-state folder in it. Default 'desired-state'. */
  path?: string;
  /** The state store, the clone of a remote, the exported revisions. */
  stateDir: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Makes the executor for a region; told of every cloud API call, for the metrics. */
  createExecutor(region: string, onApiCall: (action: string, errorCode?: string) => void): Promise<Executor>;
  notifier?: Notifier;
  /** How often a remote is fetched. Default 30 s. */
  pollIntervalMs?: number;
  /** Overrides fleet.yaml's policy.interval. */
  driftIntervalMs?: number;
  retryBaseMs?: number;
}

/** A running `rollcall serve`. */
export interface Daemon {
  readonly url: string;
  readonly stateDir: string;
  readonly repository: DesiredRepository;
  readonly reconciler: Reconciler;
  status(): ReconcilerStatus;
  /** Graceful: stops watching, lets the reconcile in progress finish and be recorded, sends the outbox, closes. */
  stop(): Promise<void>;
}

const RETENTION_MS = 7 * 24 * 3_600_000;

/** Where a running daemon says where it is, for `rollcall status` and `rollcall lock`. */
export const DAEMON_FILE = 'serve.json';

/**
 * Starts the daemon: the state store, the repository and its watcher (chokidar for a local
 * work tree, `git fetch` polling for a remote), the reconcile loop and the HTTP server.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const log = options.log;
  await mkdir(options.stateDir, { recursive: true });
  await claimStateDir(options.stateDir);
  const store = StateStore.open(options.stateDir);
  const cleanups: (() => Promise<void> | void)[] = [() => store.close(), () => rm(path.join(options.stateDir, DAEMON_FILE), { force: true })];
  try {
    const repository = await DesiredRepository.open({
      repo: options.repo,
      ...(options.branch ? { branch: options.branch } : {}),
      path: options.path ?? 'desired-state',
      workDir: path.join(options.stateDir, 'repo'),
      env: options.env,
    });
    if (store.created) log.info({ stateDir: options.stateDir }, 'new state store: what it needs is rebuilt from the git notes and Cloud Assistant');

    const registry = new Metrics();
    const metrics = reconcilerMetrics(registry);
    const saved = store.loadStatus();
    // The status is saved at most every 250 ms (and on stop): it is a cache, and a reconcile of many
    // instances changes it once per instance.
    let unsaved: ReconcilerStatus | undefined;
    let saveTimer: NodeJS.Timeout | undefined;
    const saveStatus = () => {
      clearTimeout(saveTimer);
      saveTimer = undefined;
      if (unsaved) store.saveStatus(JSON.stringify(unsaved));
      unsaved = undefined;
    };
    cleanups.unshift(saveStatus);
    const status = new StatusTracker(
      { repo: options.repo, branch: repository.branch, path: repository.path },
      (current) => {
        unsaved = current;
        saveTimer ??= setTimeout(saveStatus, 250).unref();
        metrics.ready.set(current.state === 'Ready' ? 1 : 0);
      },
      saved ? (JSON.parse(saved) as ReconcilerStatus) : undefined,
    );
    const context = new RequestContextReader({ root: repository.root, path: repository.path, tip: async () => (await repository.head()).sha, env: options.env });
    const chat = options.notifier
      ? undefined
      : new ChatNotifier({
          channels: async () => (await context.read()).approvals.channels,
          ...(options.env.ROLLCALL_OPS_CHANNEL ? { opsChannel: options.env.ROLLCALL_OPS_CHANNEL } : {}),
          render: renderIn(options.env.ROLLCALL_LANGUAGE === 'en' ? 'en' : 'zh'),
          env: options.env,
          log,
          // A restart must not grant the robots a new burst the platform's window still counts.
          sendLog: storeSendLog(store),
        });
    const outbox = new Outbox(store, options.notifier ?? chat!, log, (pending) => {
      status.outboxPending(pending);
      metrics.outboxPending.set(pending);
      if (chat) status.robots(chat.robots());
    });
    // rollcall's own events on an EventBridge bus (ROLLCALL_EVENT_BUS), for other systems: best effort.
    const eventBus = eventBusPublisherFromEnv(options.env, log);
    if (eventBus) {
      outbox.onStored((key, notification) => eventBus.publish(key, notification));
      cleanups.unshift(() => eventBus.stop());
    }
    const executors = new Map<string, Promise<Executor>>();
    /** The executors made so far, for wake-ups that must not wait for one to be made. */
    const madeExecutors = new Set<Executor>();
    const executorFor = (region: string): Promise<Executor> => {
      let executor = executors.get(region);
      if (!executor) {
        executor = (async () => {
          const created = await options.createExecutor(region, (action, code) => {
            metrics.apiCalls.inc({ action });
            if (code) metrics.apiErrors.inc({ action, code });
          });
          // Runs of the agent that a killed rollcall started may still be going: observing the
          // fleet before they end would plan what they are about to do.
          const waited = await created.quiesce();
          if (waited > 0) log.info({ region, invocations: waited }, 'waited for runs a previous rollcall started');
          madeExecutors.add(created);
          return created;
        })();
        executor.catch(() => executors.delete(region));
        executors.set(region, executor);
      }
      return executor;
    };
    // Reminders look once an hour, and whenever another revision comes into force.
    const reminders: ReminderSchedule = new ReminderSchedule({
      inForce: () => reconciler.inForce(),
      requestFlowOf: (sha, empId) => repository.lastTrailer(sha, `users/${empId}.yaml`, FLOW_TRAILER),
      channelOfFlow: (flow) => reconciler.channelOfFlow(flow),
      outbox,
      log,
    });
    const reconciler: Reconciler = new Reconciler({
      repo: repository,
      notes: new ResultNotes(repository.root, options.env),
      store,
      executorFor,
      status,
      outbox,
      metrics,
      log,
      exportRoot: path.join(options.stateDir, 'revisions'),
      links: statusLinks(options.env.ROLLCALL_PUBLIC_URL),
      onInForce: () => void reminders.check(),
      ...(options.driftIntervalMs !== undefined ? { driftIntervalMs: options.driftIntervalMs } : {}),
      ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
    });

    let watcher: (RepositoryWatcher & { poke?(): void }) | undefined;
    const onPush = () => (watcher?.poke ? watcher.poke() : reconciler.revisionsChanged());
    const hookSecret = options.env.ROLLCALL_GIT_HOOK_SECRET || undefined;
    const ingressConfig = readIngressConfig(options.env);
    const eventSecret = ingressConfig.eventBridgeSecret;
    const approvals = approvalIngress({
      config: ingressConfig,
      store,
      context,
      provider: providerFromEnv(options.env, { repoDir: repository.root, desiredPath: repository.path, branch: repository.branch, ...(repository.kind === 'remote' ? { remote: 'origin' } : {}), logger: log, planFor: (sha) => reconciler.planFor(sha) }),
      outbox,
      metrics,
      log,
      // The commit moved the tracked branch here (and on the remote, when there is one): look now.
      onSubmitted: () => reconciler.revisionsChanged(),
      onOpen: (count) => status.approvalsPending(count),
    });
    if (!eventSecret) log.warn('ROLLCALL_EVENTBRIDGE_SECRET is not set: /ingress/eventbridge takes events without a secret (they only wake rollcall up)');
    const server: HttpServer = await startHttpServer({
      port: options.port,
      ...(options.host ? { host: options.host } : {}),
      log,
      routes: daemonRoutes({
        status: () => status.get(),
        notReady: () => (!watcher ? 'the repository watcher is starting' : !reconciler.recovered ? 'finishing what a previous run left' : undefined),
        metrics: registry,
        store,
        log,
        branch: repository.branch,
        ...(hookSecret ? { hookSecret } : {}),
        ...(eventSecret ? { eventSecret } : {}),
        // Approval webhooks that come through the bus's HTTPS sources are checked with the platforms' own secrets.
        webhooks: approvalWebhookSecrets(ingressConfig),
        onPush,
        onNewInstances: (ids) => reconciler.instancesAppeared(ids),
        onInvocationCompleted: (invokeId) => {
          for (const executor of madeExecutors) executor.invocationCompleted?.(invokeId);
        },
        sink: approvals.sink,
      }).concat(approvals.routes),
    });
    cleanups.unshift(() => server.close());
    await approvals.start();
    cleanups.unshift(() => approvals.stop());

    // Seen event ids and sent notifications are kept a week (longer than any platform retries a
    // delivery), then forgotten, so that the store does not grow with time.
    const housekeeping = () => {
      store.pruneSeen(RETENTION_MS);
      store.pruneSent(RETENTION_MS);
      store.pruneNotices(RETENTION_MS);
    };
    housekeeping();
    const housekeepingTimer = setInterval(housekeeping, 3_600_000).unref();
    cleanups.unshift(() => clearInterval(housekeepingTimer));

    reminders.start();
    cleanups.unshift(() => reminders.stop());
    void reconciler.start();
    void outbox.kick();
    cleanups.unshift(() => outbox.stop());
    cleanups.unshift(() => reconciler.stop());
    if (repository.kind === 'local') {
      watcher = await watchLocalRepository(repository, {
        onCommit: () => reconciler.revisionsChanged(),
        onUncommittedEdits: (files) => {
          if (files.length > 0) log.warn({ files }, 'uncommitted edits in the desired-state folder: rollcall applies only what is committed');
          status.uncommittedEdits(files);
        },
      });
    } else {
      watcher = pollRemoteRepository(repository, { onCommit: () => reconciler.revisionsChanged(), onError: (error) => log.warn({ err: error }, 'git fetch failed; trying again') }, { intervalMs: options.pollIntervalMs ?? 30_000 });
    }
    const started = watcher;
    cleanups.unshift(() => started.close());
    await writeFile(path.join(options.stateDir, DAEMON_FILE), `${JSON.stringify({ url: server.url, pid: process.pid, repo: options.repo, branch: repository.branch, path: repository.path })}\n`);
    log.info({ url: server.url, repo: options.repo, branch: repository.branch, path: repository.path, stateDir: options.stateDir }, 'rollcall serving');

    let stopping: Promise<void> | undefined;
    return {
      url: server.url,
      stateDir: options.stateDir,
      repository,
      reconciler,
      status: () => status.get(),
      stop: () => (stopping ??= runCleanups(cleanups, log)),
    };
  } catch (error) {
    await runCleanups(cleanups, log);
    throw error;
  }
}

async function runCleanups(cleanups: readonly (() => Promise<void> | void)[], log: Logger): Promise<void> {
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (error) {
      log.warn({ err: error }, 'while stopping');
    }
  }
}

/** Two daemons must not share a state dir: the one there first keeps it while its process lives. */
async function claimStateDir(stateDir: string): Promise<void> {
  const file = path.join(stateDir, DAEMON_FILE);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (!existing) return;
  const pid = Number((JSON.parse(existing) as { pid?: unknown }).pid);
  if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) {
    throw new RollcallError('invalid-input', `another rollcall serve (pid ${pid}) uses the state dir ${stateDir}: stop it, or give this one its own --state-dir`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running daemon's address, from the state dir (for `rollcall status` and `lock`). */
export async function readDaemonFile(stateDir: string): Promise<{ url: string; pid: number } | undefined> {
  const text = await readFile(path.join(stateDir, DAEMON_FILE), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const parsed = JSON.parse(text) as { url?: unknown; pid?: unknown };
  return typeof parsed.url === 'string' && typeof parsed.pid === 'number' && isAlive(parsed.pid) ? { url: parsed.url, pid: parsed.pid } : undefined;
}

/** The status page's link in chat messages, when rollcall's public address is known (ROLLCALL_PUBLIC_URL). */
export function statusLinks(publicUrl: string | undefined): Links {
  if (!publicUrl) return {};
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new RollcallError('invalid-input', `ROLLCALL_PUBLIC_URL is not a URL (${publicUrl}): set it to rollcall's address as people reach it, e.g. https://rollcall.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RollcallError('invalid-input', `ROLLCALL_PUBLIC_URL must be http(s), not ${url.protocol}: set it to rollcall's address as people reach it`);
  return { status: new URL('status', url.href.endsWith('/') ? url.href : `${url.href}/`).href };
}
