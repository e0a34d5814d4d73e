/**
 * Approvals in: how fast do approvals become commits, and how many callbacks can the ingress take?
 *
 *   1. Burst: --approvals (1,000) DingTalk onboarding approvals, already approved in the chat
 *      emulator, are delivered at once as signed, encrypted HTTP callbacks (32 at a time) to
 *      rollcall's ingress; the clock runs from the first delivery until the last approval is
 *      committed (the inbox empty). Each is verified, stored, confirmed with the open API (the
 *      emulator), mapped through approvals.yaml and committed by the local provider into a bare
 *      repository. Baseline, in the same run: 1,000 plain `git add` + `git commit`s of the same
 *      files with the same messages in a clone of the same repository, one after another.
 *      Goal (issue 6): burst ≤ 1.5× the plain commits.
 *   2. Ingress: --callbacks (3,000) signed, encrypted callbacks posted 32 at a time, each verified
 *      (signature, window, AES, owner key) and stored in the inbox before the reply (the intake is
 *      stopped: this is the ingress alone). Baseline: the same bodies posted to a route of the
 *      same server that answers 200 without reading them.
 *
 *   node --import tsx bench/approvals.ts [--approvals N] [--callbacks N] [--runs N]
 *   npm run bench:approvals
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { createLogger } from '../src/config/logger.js';
import { startChatEmulator, type ChatEmulator } from '../src/emulators/chat/chat-emulator.js';
import { deliverDingtalkCallback } from '../src/emulators/chat/deliver-callbacks.js';
import { dingtalkSignature, encryptDingtalk } from '../src/ingress/dingtalk/callback-crypto.js';
import { startHttpServer, type HttpServer } from '../src/ingress/http-server.js';
import { approvalIngress, type ApprovalIngress } from '../src/reconcile/approval-ingress.js';
import { Metrics, reconcilerMetrics } from '../src/reconcile/metrics.js';
import { LogNotifier, Outbox } from '../src/reconcile/outbox.js';
import { RequestContextReader } from '../src/reconcile/request-context.js';
import { StateStore } from '../src/reconcile/state-store.js';
import { LocalProvider } from '../src/requests/local-provider.js';
import { runGit } from '../src/source/git.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const APP = { appKey: 'dingbenchapp0001', appSecret: 'bench-secret', token: 'benchtoken', aesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7' };
const WIDTH = 32;
const IDENTITY = { GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@rollcall.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@rollcall.invalid' };
const log = createLogger({ ROLLCALL_LOG_LEVEL: 'silent' });

const { values } = parseArgs({ options: { approvals: { type: 'string' }, callbacks: { type: 'string' }, runs: { type: 'string' } } });
const APPROVALS = Number(values.approvals ?? 1_000);
const CALLBACKS = Number(values.callbacks ?? 3_000);
const RUNS = Number(values.runs ?? 1);

interface Rig {
  emulator: ChatEmulator;
  server: HttpServer;
  ingress: ApprovalIngress;
  store: StateStore;
  bare: string;
  close(): Promise<void>;
}

/** A fresh repository of desired-state/ (a work tree and rollcall's bare clone of it), the emulator and the ingress. */
async function rig(): Promise<Rig & { work: string }> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'rollcall-bench-approvals-'));
  const work = path.join(scratch, 'work');
  cpSync(path.join(ROOT, 'desired-state'), path.join(work, 'desired-state'), { recursive: true });
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  git(work, 'init', '-q', '-b', 'main');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'Initial desired state');
  const bare = path.join(scratch, 'desired.git');
  git(scratch, 'clone', '-q', '--bare', work, bare);
  const store = StateStore.open(path.join(scratch, 'state'));
  const emulator = await startChatEmulator({ dingtalk: { appKey: APP.appKey, appSecret: APP.appSecret }, lark: { appId: 'cli_0011223344556677', appSecret: 'unused' } });
  const ingress = approvalIngress({
    config: { dingtalk: { appKey: APP.appKey, appSecret: APP.appSecret, apiBaseUrl: emulator.url, stream: false, callback: { token: APP.token, encodingAesKey: APP.aesKey } } },
    store,
    context: new RequestContextReader({ root: bare, path: 'desired-state', tip: async () => (await runGit(bare, ['rev-parse', 'main'])).text.trim(), env: process.env }),
    provider: new LocalProvider({ repoDir: bare, desiredPath: 'desired-state', branch: 'main', env: { ...process.env, ...IDENTITY } }),
    outbox: new Outbox(store, new LogNotifier(log), log),
    metrics: reconcilerMetrics(new Metrics()),
    log,
    onSubmitted: () => {},
  });
  const server = await startHttpServer({
    port: 0,
    log,
    maxBodyBytes: 64 * 1024,
    routes: [...ingress.routes, { method: 'POST', path: '/bench/echo', handle: () => ({ status: 200, body: {} }) }],
  });
  await ingress.start();
  return {
    emulator,
    server,
    ingress,
    store,
    bare,
    work,
    async close() {
      await ingress.stop();
      await server.close();
      await emulator.close();
      store.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

async function burst(): Promise<{ approvalsMs: number; plainMs: number }> {
  const r = await rig();
  try {
    const callback = { url: `${r.server.url}/ingress/dingtalk`, token: APP.token, aesKey: APP.aesKey };
    const ids: string[] = [];
    for (let n = 0; n < APPROVALS; n++) {
      const id = r.emulator.dingtalk.createInstance({ processCode: 'PROC-ONBOARD', originatorUserId: `hr-${n % 7}`, form: { 工号: `E${30000 + n}`, 账号: `bench${n}`, 姓名: `Bench ${n}`, 角色: 'analyst' }, approvers: ['lead', 'it-ops'] });
      // No delivery path is configured yet: completing only changes the instance.
      await r.emulator.dingtalk.complete(id, 'agree');
      ids.push(id);
    }
    const began = performance.now();
    await pool(ids, WIDTH, async (id) => {
      const outcome = await deliverDingtalkCallback(callback, APP.appKey, { EventType: 'bpms_instance_change', eventId: `bench-${id}`, processInstanceId: id, processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree', staffId: 'hr' });
      if (!outcome.ok) throw new Error(`delivery of ${id} failed: ${outcome.error ?? outcome.status}`);
    });
    while (r.store.openNoticeCount() > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await r.ingress.intake.idle();
    const approvalsMs = performance.now() - began;
    const landed = Number(execFileSync('git', ['rev-list', '--count', '--no-merges', 'main'], { cwd: r.bare, encoding: 'utf8' })) - 1;
    if (landed !== APPROVALS) throw new Error(`${landed} of ${APPROVALS} approvals committed`);

    // The baseline: the same files and messages, committed one by one with plain git in a work tree.
    const commits = execFileSync('git', ['log', '--reverse', '--no-merges', '--format=%H', 'main', '--not', execFileSync('git', ['rev-parse', 'main'], { cwd: r.work, encoding: 'utf8' }).trim()], { cwd: r.bare, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const changes = commits.map((sha) => {
      const file = execFileSync('git', ['diff-tree', '--no-commit-id', '--name-only', '-r', sha], { cwd: r.bare, encoding: 'utf8' }).trim();
      return { file, text: execFileSync('git', ['show', `${sha}:${file}`], { cwd: r.bare, encoding: 'utf8' }), message: execFileSync('git', ['log', '-1', '--format=%B', sha], { cwd: r.bare, encoding: 'utf8' }) };
    });
    const env = { ...process.env, ...IDENTITY };
    const plainBegan = performance.now();
    for (const change of changes) {
      writeFileSync(path.join(r.work, change.file), change.text);
      await run('git', ['add', '--', change.file], { cwd: r.work, env });
      await run('git', ['commit', '-q', '-m', change.message], { cwd: r.work, env });
    }
    const plainMs = performance.now() - plainBegan;
    return { approvalsMs, plainMs };
  } finally {
    await r.close();
  }
}

async function ingressRate(): Promise<{ verifiedPerSecond: number; echoPerSecond: number }> {
  const r = await rig();
  try {
    // Bodies and queries made before the clock starts: the client's crypto is not the server's.
    const deliveries = Array.from({ length: CALLBACKS }, (_, n) => {
      const timestamp = String(Date.now());
      const nonce = `n${n}`;
      const encrypt = encryptDingtalk(APP.aesKey, JSON.stringify({ EventType: 'bpms_instance_change', eventId: `rate-${n}`, processInstanceId: `PI-rate-${n}`, processCode: 'PROC-NOT-OURS', type: 'finish', result: 'agree', staffId: 'hr' }), APP.appKey);
      const query = new URLSearchParams({ msg_signature: dingtalkSignature(APP.token, timestamp, nonce, encrypt), timestamp, nonce }).toString();
      return { query, body: JSON.stringify({ encrypt }) };
    });
    const post = async (pathname: string, delivery: { query: string; body: string }) => {
      const response = await fetch(`${r.server.url}${pathname}?${delivery.query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: delivery.body });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${pathname}: HTTP ${response.status}`);
    };
    const rate = async (pathname: string) => {
      const began = performance.now();
      await pool(deliveries, WIDTH, (delivery) => post(pathname, delivery));
      return (CALLBACKS / (performance.now() - began)) * 1000;
    };
    // The ingress alone: notices are verified and stored, and wait in the inbox (the intake's git
    // work would otherwise share the two cores with the server).
    await r.ingress.intake.stop();
    await pool(deliveries.slice(0, 200), WIDTH, (delivery) => post('/bench/echo', delivery));
    const echoPerSecond = await rate('/bench/echo');
    const verifiedPerSecond = await rate('/ingress/dingtalk');
    if (r.store.openNoticeCount() !== CALLBACKS) throw new Error(`${r.store.openNoticeCount()} of ${CALLBACKS} callbacks stored`);
    return { verifiedPerSecond, echoPerSecond };
  } finally {
    await r.close();
  }
}

const machine = `${cpus().length} cores, Node ${process.versions.node}, load ${loadavg()[0]!.toFixed(2)}`;
console.log(`approvals bench: ${APPROVALS} approvals, ${CALLBACKS} callbacks, ${RUNS} run(s); ${machine}`);
for (let n = 1; n <= RUNS; n++) {
  const { approvalsMs, plainMs } = await burst();
  console.log(`burst ${n}: ${APPROVALS} approvals committed in ${(approvalsMs / 1000).toFixed(2)} s; ${APPROVALS} plain git commits ${(plainMs / 1000).toFixed(2)} s; ratio ${(approvalsMs / plainMs).toFixed(2)}× (goal ≤ 1.5×)`);
  const { verifiedPerSecond, echoPerSecond } = await ingressRate();
  console.log(`ingress ${n}: ${verifiedPerSecond.toFixed(0)} verified callbacks/s; bare route ${echoPerSecond.toFixed(0)}/s; ratio ${(verifiedPerSecond / echoPerSecond).toFixed(2)}`);
}
