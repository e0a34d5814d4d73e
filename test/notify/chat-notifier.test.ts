import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import { createLogger } from '../../src/config/logger.js';
import type { Channel } from '../../src/desired/schema.js';
import { ChatNotifier, renderIn } from '../../src/notify/chat-notifier.js';
import type { NotifyEvent } from '../../src/notify/events.js';
import { Outbox, type Notification } from '../../src/reconcile/outbox.js';
import { StateStore } from '../../src/reconcile/state-store.js';
import { startFakeRobots } from './robots/fake-robots.js';

const DT = { token: 'dtNotifierToken0123456789abcdef', secret: 'SECnotifierSecret' };
const LK = { token: 'lark-notifier-hook-token', secret: 'larkNotifierSecret' };
const CHANNELS: Record<string, Channel> = {
  'ops-dingtalk': { platform: 'dingtalk', webhookEnv: 'ROLLCALL_DINGTALK_WEBHOOK', secretEnv: 'ROLLCALL_DINGTALK_SECRET' },
  'ops-lark': { platform: 'lark', webhookEnv: 'ROLLCALL_LARK_WEBHOOK', secretEnv: 'ROLLCALL_LARK_SECRET' },
};

let fake: Awaited<ReturnType<typeof startFakeRobots>>;
let store: StateStore;
const lines: string[] = [];
const log = createLogger({ ROLLCALL_LOG_LEVEL: 'debug' }, { write: (line: string) => lines.push(line) });
beforeEach(async () => {
  fake = await startFakeRobots({ dingtalk: DT, lark: LK });
  store = StateStore.inMemory();
  lines.length = 0;
});
afterEach(async () => {
  await fake.close();
  store.close();
});

function notifier(env: NodeJS.ProcessEnv, opsChannel?: string) {
  return new ChatNotifier({ channels: async () => CHANNELS, ...(opsChannel ? { opsChannel } : {}), render: renderIn('en'), env, log });
}

const fullEnv = () => ({ ROLLCALL_DINGTALK_WEBHOOK: fake.dingtalkUrl(), ROLLCALL_DINGTALK_SECRET: DT.secret, ROLLCALL_LARK_WEBHOOK: fake.larkUrl(), ROLLCALL_LARK_SECRET: LK.secret });

function applied(login: string): NotifyEvent {
  return {
    kind: 'applied',
    revision: { sha: 'c'.repeat(40), subject: `Onboard ${login}` },
    trigger: 'revision',
    durationMs: 1200,
    accounts: { created: [login], updated: [], locked: [], deleted: [] },
    instances: [{ id: 'i-web1', ok: true }],
    links: {},
  };
}

function notification(channel: string, login: string): Notification {
  return { kind: 'applied', channel, title: `applied ${login}`, text: '', event: applied(login) };
}

describe('ChatNotifier', () => {
  it("posts to the channel's robot, rendered for its platform and signed; ops goes to ROLLCALL_OPS_CHANNEL", async () => {
    const chat = notifier(fullEnv(), 'ops-lark');
    await chat.deliver(notification('ops-dingtalk', 'qianjiu'));
    await chat.deliver(notification('ops', 'sunba'));
    expect(fake.requests.map((request) => request.platform)).toEqual(['dingtalk', 'lark']);
    expect(JSON.stringify(fake.requests[0]!.body)).toContain('qianjiu');
    expect(fake.requests[0]!.body).toHaveProperty('msgtype');
    expect(fake.requests[1]!.body).toMatchObject({ msg_type: 'interactive' });
    expect(JSON.stringify(fake.requests[1]!.body)).toContain('sunba');
  });

  it('remembers each robot\'s sends in the send log under a hash of its webhook, and a new notifier resumes from them', async () => {
    const remembered = new Map<string, number[]>();
    const sendLog = { recent: (robot: string) => remembered.get(robot) ?? [], record: (robot: string, at: number) => remembered.set(robot, [...(remembered.get(robot) ?? []), at]) };
    const clock = 1_700_000_000_000;
    const first = new ChatNotifier({ channels: async () => CHANNELS, render: renderIn('en'), env: fullEnv(), log, now: () => clock, sendLog });
    for (let n = 0; n < 6; n++) await first.deliver(notification('ops-dingtalk', `user${n}`));
    expect([...remembered.keys()]).toEqual([expect.stringMatching(/^[0-9a-f]{16}$/)]);
    expect(JSON.stringify([...remembered.keys()])).not.toContain(DT.secret);
    const restarted = new ChatNotifier({ channels: async () => CHANNELS, render: renderIn('en'), env: fullEnv(), log, now: () => clock + 1_000, sendLog });
    await expect(restarted.deliver(notification('ops-dingtalk', 'user6'))).rejects.toThrow(/cannot take a message for 4 s/);
    expect(fake.requests).toHaveLength(6);
  });

  it('without a robot (variables unset, or no ops channel), writes to the log once and counts it delivered', async () => {
    const chat = notifier({});
    await chat.deliver(notification('ops-dingtalk', 'a'));
    await chat.deliver(notification('ops-dingtalk', 'b'));
    await chat.deliver(notification('ops', 'c'));
    expect(fake.requests).toHaveLength(0);
    const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level === 40);
    expect(warnings.map((line) => line.msg)).toEqual([
      "ROLLCALL_DINGTALK_WEBHOOK is not set: channel ops-dingtalk's notifications go to the log",
      "ROLLCALL_OPS_CHANNEL is not set: operators' notifications go to the log; set it to a channel of approvals.yaml",
    ]);
  });

  it('a wrong secret fails with what to fix, and no secret in the error or the log', async () => {
    const chat = notifier({ ...fullEnv(), ROLLCALL_DINGTALK_SECRET: 'SECwrong' });
    const error = await chat.deliver(notification('ops-dingtalk', 'a')).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(RollcallError);
    expect((error as Error).message).toMatch(/ops-dingtalk robot refused the message \(310000/);
    for (const text of [(error as Error).message, ...lines]) {
      expect(text).not.toContain(DT.token);
      expect(text).not.toContain('SECwrong');
    }
    expect(chat.robots()).toEqual([expect.objectContaining({ channel: 'ops-dingtalk', lastFailure: expect.objectContaining({ code: 310000 }) })]);
  });

  it('with the outbox: one message per result while the robot can take them, then the rest as one digest, every login in some message', async () => {
    let clock = 1_700_000_000_000;
    const chat = new ChatNotifier({ channels: async () => CHANNELS, render: renderIn('en'), env: fullEnv(), log, now: () => clock });
    const outbox = new Outbox(store, chat, log);
    try {
      // DingTalk's robot takes 6 at once, then one every 5 s: results arriving one by one.
      for (let n = 0; n < 30; n++) {
        outbox.enqueue(`r-${n}`, notification('ops-dingtalk', `user${n}`));
        await outbox.kick();
      }
      expect(fake.requests).toHaveLength(6);
      expect(store.pendingCount()).toBe(24);
      clock += 5_000;
      await outbox.kick();
      expect(fake.requests).toHaveLength(7);
      expect(store.pendingCount()).toBe(0);
      const digest = JSON.stringify(fake.requests[6]!.body);
      for (let n = 6; n < 30; n++) expect(digest).toContain(`user${n}`);
    } finally {
      await outbox.stop();
    }
  });
});
