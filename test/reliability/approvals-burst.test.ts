import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { startChatEmulator, type ChatEmulator } from '../../src/emulators/chat/chat-emulator.js';
import { deliverDingtalkCallback } from '../../src/emulators/chat/deliver-callbacks.js';
import { startHttpServer, type HttpServer } from '../../src/ingress/http-server.js';
import { approvalIngress, type ApprovalIngress } from '../../src/reconcile/approval-ingress.js';
import { Metrics, reconcilerMetrics } from '../../src/reconcile/metrics.js';
import { LogNotifier, Outbox } from '../../src/reconcile/outbox.js';
import { RequestContextReader } from '../../src/reconcile/request-context.js';
import { StateStore } from '../../src/reconcile/state-store.js';
import { LocalProvider } from '../../src/requests/local-provider.js';
import { runGit } from '../../src/source/git.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { seededRandom } from './seeded-random.js';

/**
 * 1,000 onboarding approvals completed in random order, each delivered by DingTalk's HTTP callback
 * and its Stream connection at once, with 30% delivered yet again (a platform retry with a new
 * event id, half by each path): exactly 1,000 commits, one per approval, unique uids, each with its
 * trailers. Seed: ROLLCALL_BURST_SEED replays an order.
 */
const APPROVALS = 1_000;
const DUPLICATES = 300;
const SEED = Number(process.env.ROLLCALL_BURST_SEED ?? Date.now() % 1_000_000);
const APP = { appKey: 'dingburstapp0001', appSecret: 'burst-secret', token: 'bursttoken', aesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7' };
const log = createLogger({ ROLLCALL_LOG_LEVEL: 'silent' });

describe('approvals: a burst of 1,000 through two paths at once, with duplicates, in random order', () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it(`commits each approval exactly once (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const { repo } = desiredStateRepo();
    cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
    // rollcall works in a bare repository here: what a remote's clone is (no work tree to keep up).
    const bare = path.join(mkdtempSync(path.join(tmpdir(), 'rollcall-burst-')), 'desired.git');
    execFileSync('git', ['clone', '-q', '--bare', repo, bare]);
    cleanups.push(() => rmSync(path.dirname(bare), { recursive: true, force: true }));
    const before = Number(execFileSync('git', ['rev-list', '--count', 'main'], { cwd: bare, encoding: 'utf8' }));

    const stateDir = mkdtempSync(path.join(tmpdir(), 'rollcall-burst-state-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const store = StateStore.open(stateDir);
    cleanups.push(() => store.close());

    const emulator: ChatEmulator = await startChatEmulator({ dingtalk: { appKey: APP.appKey, appSecret: APP.appSecret }, lark: { appId: 'cli_0011223344556677', appSecret: 'unused' } });
    cleanups.push(() => emulator.close());
    const tip = async () => (await runGit(bare, ['rev-parse', 'main'])).text.trim();
    const ingress: ApprovalIngress = approvalIngress({
      config: { dingtalk: { appKey: APP.appKey, appSecret: APP.appSecret, apiBaseUrl: emulator.url, stream: true, callback: { token: APP.token, encodingAesKey: APP.aesKey } } },
      store,
      context: new RequestContextReader({ root: bare, path: 'desired-state', tip, env: process.env }),
      provider: new LocalProvider({ repoDir: bare, desiredPath: 'desired-state', branch: 'main' }),
      outbox: new Outbox(store, new LogNotifier(log), log),
      metrics: reconcilerMetrics(new Metrics()),
      log,
      onSubmitted: () => {},
    });
    const server: HttpServer = await startHttpServer({ port: 0, log, routes: ingress.routes });
    cleanups.push(() => server.close());
    await ingress.start();
    cleanups.push(() => ingress.stop());
    const callback = { url: `${server.url}/ingress/dingtalk`, token: APP.token, aesKey: APP.aesKey };
    emulator.configureDeliveries({ dingtalk: { callback, stream: true } });

    const ids = Array.from({ length: APPROVALS }, (_, n) =>
      emulator.dingtalk.createInstance({
        processCode: 'PROC-ONBOARD',
        originatorUserId: `hr-${n % 7}`,
        form: { 工号: `E${30000 + n}`, 账号: `burst${n}`, 姓名: `Burst ${n}`, 角色: 'analyst' },
        approvers: [`lead-${n % 5}`, 'it-ops'],
      }),
    );
    const order = random.shuffle(ids);
    const again = new Set(random.shuffle(ids).slice(0, DUPLICATES));
    const failed: string[] = [];
    await pool(order, 32, async (id, index) => {
      const deliveries = await emulator.dingtalk.complete(id, 'agree');
      for (const delivery of deliveries) if (!delivery.ok) failed.push(`${id} ${delivery.via}: ${delivery.error ?? delivery.status}`);
      if (!again.has(id)) return;
      // The platform delivers once more, as a retry does, by one path or the other.
      const data = { processInstanceId: id, processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree', staffId: 'hr' };
      if (index % 2 === 0) {
        const outcome = await deliverDingtalkCallback(callback, APP.appKey, { EventType: 'bpms_instance_change', eventId: `retry-${id}`, ...data }, { retryDelaysMs: [100, 500] });
        if (!outcome.ok) failed.push(`${id} http retry: ${outcome.error ?? outcome.status}`);
      } else {
        const delivery = await emulator.dingtalk.pushStreamEvent({ eventType: 'bpms_instance_change', eventId: `retry-${id}`, bornAt: Date.now(), data });
        if (!delivery.ok) failed.push(`${id} stream retry: ${delivery.error}`);
      }
    });
    expect(failed).toEqual([]);

    const deadline = Date.now() + 240_000;
    while (store.openNoticeCount() > 0) {
      if (Date.now() > deadline) throw new Error(`${store.openNoticeCount()} approvals still open after 240 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await ingress.intake.idle();

    const gitBare = (...args: string[]) => execFileSync('git', args, { cwd: bare, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const start = execFileSync('git', ['rev-parse', 'main'], { cwd: repo, encoding: 'utf8' }).trim();
    const approvalsLanded = gitBare('log', '--no-merges', '--format=%(trailers:key=Approval,valueonly)', 'main', '--not', start)
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    expect(approvalsLanded).toHaveLength(APPROVALS);
    expect(new Set(approvalsLanded)).toEqual(new Set(ids.map((id) => `dingtalk/${id}`)));
    expect(Number(gitBare('rev-list', '--count', '--no-merges', 'main')) - before).toBe(APPROVALS);

    // Every record is there once, with its own uid, and its commit names who asked and who approved.
    const uids = new Map<number, string>();
    const listing = gitBare('ls-tree', '--name-only', 'main', 'desired-state/users/').split('\n').filter((file) => /E3\d{4}\.yaml$/.test(file));
    expect(listing).toHaveLength(APPROVALS);
    const sample = random.shuffle(listing).slice(0, 25);
    for (const file of listing) {
      const record = parse(gitBare('show', `main:${file}`)) as { empId: string; uid: number };
      expect(uids.has(record.uid), `uid ${record.uid} of ${record.empId} is also ${uids.get(record.uid)}'s`).toBe(false);
      uids.set(record.uid, record.empId);
      if (!sample.includes(file)) continue;
      const n = Number(record.empId.slice(1)) - 30000;
      const message = gitBare('log', '-1', '--format=%B', 'main', '--', file);
      expect(message).toContain(`Onboard ${record.empId} (burst${n})`);
      expect(message).toContain(`Approval: dingtalk/${ids[n]}`);
      expect(message).toContain(`Requested-by: hr-${n % 7} <dingtalk:hr-${n % 7}>`);
      expect(message).toContain(`Approved-by: lead-${n % 5} <dingtalk:lead-${n % 5}>`);
      expect(message).toContain('Approved-by: it-ops <dingtalk:it-ops>');
      expect(message).toContain('Request: onboard');
    }
    expect(store.noticeOutcome(`dingtalk/${order[0]}`)).toMatchObject({ done: true });
  }, 300_000);
});

async function pool<T>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}
