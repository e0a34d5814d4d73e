import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { CHAT_API_PATHS, startChatOpenApiEmulator, type ChatOpenApiEmulator } from '../../src/emulators/chat/open-api-emulator.js';
import { confirmApproval, type ConfirmClients } from '../../src/ingress/confirm-approval.js';
import { DingtalkOpenApi } from '../../src/ingress/dingtalk/open-api.js';
import type { ApprovalNotice, UserLeftNotice } from '../../src/ingress/ingress-notice.js';
import { LarkOpenApi } from '../../src/ingress/lark/open-api.js';
import { ApprovalIntake, inboxKey } from '../../src/reconcile/approval-intake.js';
import { Outbox, type Notification, type Notifier } from '../../src/reconcile/outbox.js';
import { RequestContextReader } from '../../src/reconcile/request-context.js';
import { StateStore } from '../../src/reconcile/state-store.js';
import { LocalProvider } from '../../src/requests/local-provider.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { commitFileIn } from '../source/repo-fixture.js';

const DINGTALK = { appKey: 'dingintakekey001', appSecret: 'dt-intake-secret' };
const LARK = { appId: 'cli_00112233445566ff', appSecret: 'lark-intake-secret' };
const log = createLogger({ ROLLCALL_LOG_LEVEL: 'silent' });
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

class RecordingNotifier implements Notifier {
  readonly sent: Notification[] = [];
  async deliver(notification: Notification): Promise<void> {
    this.sent.push(notification);
  }
}

interface Setup {
  emulator: ChatOpenApiEmulator;
  repo: string;
  git: (...args: string[]) => string;
  store: StateStore;
  stateDir: string;
  notifier: RecordingNotifier;
  intake: ApprovalIntake;
  confirmCalls: () => number;
  /** Every open count the intake reported. */
  opened: number[];
  /** A new intake on the same store and repository, as after a restart. */
  restart(): ApprovalIntake;
}

async function setup(options: { confirm?: (notice: ApprovalNotice, clients: ConfirmClients) => Promise<Awaited<ReturnType<typeof confirmApproval>>> } = {}): Promise<Setup> {
  const emulator = await startChatOpenApiEmulator({ dingtalk: DINGTALK, lark: LARK });
  cleanups.push(() => emulator.close());
  const { repo, git } = desiredStateRepo();
  cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
  const stateDir = mkdtempSync(path.join(tmpdir(), 'rollcall-intake-'));
  cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
  let store = StateStore.open(stateDir);
  cleanups.push(() => store.close());
  const notifier = new RecordingNotifier();
  const clients: ConfirmClients = {
    dingtalk: new DingtalkOpenApi({ ...DINGTALK, baseUrl: emulator.url, sleep: () => Promise.resolve() }),
    lark: new LarkOpenApi({ ...LARK, domain: emulator.url, sleep: () => Promise.resolve() }),
  };
  let confirmations = 0;
  const opened: number[] = [];
  const make = () => {
    const outbox = new Outbox(store, notifier, log);
    const intake = new ApprovalIntake({
      store,
      confirm: (notice) => {
        confirmations++;
        return (options.confirm ?? confirmApproval)(notice, clients);
      },
      context: () => reader.read(),
      provider: new LocalProvider({ repoDir: repo, desiredPath: 'desired-state', branch: 'main' }),
      outbox,
      log,
      retryBaseMs: 20,
      onOpen: (count) => opened.push(count),
    });
    cleanups.push(() => intake.stop());
    return intake;
  };
  const reader = new RequestContextReader({ root: repo, path: 'desired-state', tip: async () => git('rev-parse', 'main').trim(), env: process.env });
  const intake = make();
  intake.start();
  return {
    emulator,
    repo,
    git,
    get store() {
      return store;
    },
    stateDir,
    notifier,
    intake,
    confirmCalls: () => confirmations,
    opened,
    restart() {
      store.close();
      store = StateStore.open(stateDir);
      const again = make();
      again.start();
      return again;
    },
  } as Setup;
}

function onboard(emulator: ChatOpenApiEmulator, empId: string, login: string, extra: Record<string, string> = {}): string {
  const id = emulator.dingtalk.createInstance({ processCode: 'PROC-ONBOARD', originatorUserId: 'u-hr', form: { 工号: empId, 账号: login, 姓名: 'New Hire', ...extra }, approvers: ['u-it'] });
  emulator.dingtalk.complete(id, 'agree');
  return id;
}

const notice = (instanceId: string, via: ApprovalNotice['via'] = 'http', eventId = `ev-${instanceId}-${via}`): ApprovalNotice => ({ kind: 'approval', platform: 'dingtalk', eventId, instanceId, processCode: 'PROC-ONBOARD', via });

/** Commits on main whose Approval trailer names this approval. */
function approvalCommits(git: Setup['git'], approval: string): string[] {
  return git('log', '--no-merges', '--format=%H', `--grep=Approval: ${approval}`, 'main').split('\n').filter(Boolean);
}

async function settle(intake: ApprovalIntake, store: StateStore, until = () => store.openNoticeCount() === 0): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!until()) {
    if (Date.now() > deadline) throw new Error('the intake did not settle');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await intake.idle();
}

describe('ApprovalIntake (real git, the local provider, confirmation against the open-API emulator)', () => {
  it('commits an approved onboarding once, however many times and ways it is delivered', async () => {
    const s = await setup();
    const id = onboard(s.emulator, 'E7001', 'newhire');
    expect(s.intake.sink(notice(id, 'http'))).toBe(true);
    expect(s.intake.sink(notice(id, 'stream'))).toBe(false);
    expect(s.intake.sink(notice(id, 'eventbridge'))).toBe(false);
    await settle(s.intake, s.store);
    expect(s.intake.sink(notice(id, 'http', 'a-later-retry'))).toBe(false);
    await s.intake.idle();

    expect(approvalCommits(s.git, `dingtalk/${id}`)).toHaveLength(1);
    expect(s.git('show', 'main:desired-state/users/E7001.yaml')).toContain('login: newhire');
    expect(s.store.noticeOutcome(`dingtalk/${id}`)).toEqual({ done: true, outcome: expect.stringMatching(/^committed [0-9a-f]{12} rollcall\/dingtalk-/) });
    expect(s.confirmCalls()).toBe(1);
    expect(s.opened).toContain(1);
    expect(s.opened.at(-1)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(s.notifier.sent.map((sent) => [sent.kind, sent.channel])).toEqual([['request-submitted', 'ops-dingtalk']]);
    expect(s.notifier.sent[0]?.event).toEqual({
      kind: 'request-received',
      approval: { platform: 'dingtalk', id, requester: { id: 'u-hr' }, approvers: [{ id: 'u-it' }] },
      request: { kind: 'onboard', empId: 'E7001', login: 'newhire' },
      branch: `rollcall/dingtalk-${id}`,
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      links: {},
    });
  });

  it("refuses a form the schema rejects: no commit, and the requester's group is told what to fix", async () => {
    const s = await setup();
    const before = s.git('rev-parse', 'main').trim();
    const id = onboard(s.emulator, 'E7002', 'Root;rm -rf');
    s.intake.sink(notice(id));
    await settle(s.intake, s.store);
    expect(s.git('rev-parse', 'main').trim()).toBe(before);
    expect(s.store.noticeOutcome(`dingtalk/${id}`)?.outcome).toMatch(/^refused: "账号" \(login\) "Root;rm -rf" /);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(s.notifier.sent).toEqual([expect.objectContaining({ kind: 'request-refused', channel: 'ops-dingtalk', text: expect.stringContaining('Nothing was changed') })]);
    expect(s.notifier.sent[0]?.event).toMatchObject({ kind: 'request-refused', approval: { platform: 'dingtalk', id }, reason: expect.stringContaining('"Root;rm -rf"') });
  });

  it('ignores an approval the platform does not show as approved, and one of a flow it does not know, without committing', async () => {
    const s = await setup();
    const before = s.git('rev-parse', 'main').trim();
    const refused = s.emulator.dingtalk.createInstance({ processCode: 'PROC-ONBOARD', originatorUserId: 'u-hr', form: { 工号: 'E7003', 账号: 'refusedone' }, approvers: ['u-it'] });
    s.emulator.dingtalk.complete(refused, 'refuse');
    s.intake.sink(notice(refused));
    await settle(s.intake, s.store);
    const calls = s.emulator.calls.get(CHAT_API_PATHS.dingtalkInstance) ?? 0;
    expect(calls).toBe(1);
    s.intake.sink({ ...notice('PI-leave-request'), processCode: 'PROC-ANNUAL-LEAVE' });
    await settle(s.intake, s.store);
    expect(s.git('rev-parse', 'main').trim()).toBe(before);
    expect(s.store.noticeOutcome(`dingtalk/${refused}`)?.outcome).toMatch(/^ignored: /);
    expect(s.store.noticeOutcome('dingtalk/PI-leave-request')?.outcome).toBe('ignored: no flow in approvals.yaml has dingtalk code PROC-ANNUAL-LEAVE');
    // The unknown flow cost no API call.
    expect(s.emulator.calls.get(CHAT_API_PATHS.dingtalkInstance) ?? 0).toBe(calls);
  });

  it('keeps a notice whose confirmation fails and commits it once the platform answers again', async () => {
    let failures = 2;
    const s = await setup({
      confirm: (notice, clients) => {
        if (failures-- > 0) return Promise.reject(new Error('DingTalk kept failing after 4 tries'));
        return confirmApproval(notice, clients);
      },
    });
    const id = onboard(s.emulator, 'E7004', 'patient');
    s.intake.sink(notice(id));
    await settle(s.intake, s.store);
    expect(approvalCommits(s.git, `dingtalk/${id}`)).toHaveLength(1);
    expect(s.confirmCalls()).toBe(3);
  });

  it('offboards the records carrying the id of someone who left, once', async () => {
    const s = await setup();
    commitFileIn(s.repo, 'desired-state/users/E7005.yaml', 'empId: E7005\nlogin: leaver\nuid: 29005\nroles: []\nids: { dingtalk: u-leaver }\n', 'Onboard E7005');
    const left: UserLeftNotice = { kind: 'user-left', platform: 'dingtalk', eventId: 'leave-1', userIds: ['u-leaver'], at: '2026-11-20T08:00:00.000Z', via: 'stream' };
    expect(s.intake.sink(left)).toBe(true);
    expect(s.intake.sink({ ...left, eventId: 'leave-1-again', via: 'http' })).toBe(false);
    await settle(s.intake, s.store);
    expect(s.git('show', 'main:desired-state/users/E7005.yaml')).toContain('state: absent');
    expect(s.git('log', '-1', '--format=%B', 'main')).toContain('Request: offboard');
    expect(inboxKey(left)).toBe('dingtalk/left/u-leaver');
  });

  it('after a restart, handles what the inbox still holds, and a notice already committed finds its commit', async () => {
    const s = await setup();
    await s.intake.stop();
    const first = onboard(s.emulator, 'E7006', 'restartone');
    const second = onboard(s.emulator, 'E7007', 'restarttwo');
    // Stored before the stop: the ack was given, the work was not done.
    expect(s.intake.sink(notice(first))).toBe(true);
    expect(s.intake.sink(notice(second))).toBe(true);
    // The first one was committed before the crash, but not marked done.
    const provider = new LocalProvider({ repoDir: s.repo, desiredPath: 'desired-state', branch: 'main' });
    const confirmed = await confirmApproval(notice(first), { dingtalk: new DingtalkOpenApi({ ...DINGTALK, baseUrl: s.emulator.url }) });
    if (!confirmed.ok) throw new Error(confirmed.reason);
    await provider.submit(confirmed.event, { kind: 'onboard', empId: 'E7006', login: 'restartone', name: 'New Hire', flow: 'dingtalk/PROC-ONBOARD' });

    const again = s.restart();
    await settle(again, s.store);
    expect(approvalCommits(s.git, `dingtalk/${first}`)).toHaveLength(1);
    expect(approvalCommits(s.git, `dingtalk/${second}`)).toHaveLength(1);
    expect(s.store.noticeOutcome(`dingtalk/${first}`)?.outcome).toMatch(/^existing /);
  });
});
