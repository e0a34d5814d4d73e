import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { loadDesiredState } from '../../src/desired/load-desired-state.js';
import type { ReminderEvent } from '../../src/notify/events.js';
import { Outbox, type Notification, type Notifier } from '../../src/reconcile/outbox.js';
import { ReminderSchedule } from '../../src/reconcile/reminder-schedule.js';
import { StateStore } from '../../src/reconcile/state-store.js';
import { DesiredRepository } from '../../src/source/desired-repository.js';
import { desiredStateRepo } from '../cli/git-fixture.js';

const log = createLogger({ ROLLCALL_LOG_LEVEL: 'silent' });
/** 2026-11-28 10:00 in Asia/Shanghai, the embedded default's policy.timezone. */
const NOW = new Date('2026-11-28T02:00:00Z');

const stores: StateStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

/**
 * The embedded default, with: wangwu (E1003) onboarded through the DingTalk flow, his account ending
 * in three days; zhangsan (E1001) granted a role by hand that ends in seven days (the window's last
 * day); lisi (E1002) with a role ending in eight days (not yet).
 */
async function fixture() {
  const { repo, dir, git } = desiredStateRepo();
  appendFileSync(path.join(dir, 'users/E1003.yaml'), 'expires: "2026-12-01"\nids: { dingtalk: "wangwu-ding" }\n');
  git('commit', '-qam', 'Onboard E1003 (wangwu)', '-m', 'Approval: dingtalk/PI-1\nRequested-by: Li Lei <dingtalk:lilei>\nFlow: dingtalk/PROC-ONBOARD');
  writeFileSync(path.join(dir, 'users/E1001.yaml'), readFileSync(path.join(dir, 'users/E1001.yaml'), 'utf8').replace(/^roles: \[(\w+)/m, 'roles: [{ role: $1, until: "2026-12-05" }'));
  writeFileSync(path.join(dir, 'users/E1002.yaml'), readFileSync(path.join(dir, 'users/E1002.yaml'), 'utf8').replace(/^roles: \[(\w+)/m, 'roles: [{ role: $1, until: "2026-12-06" }'));
  git('commit', '-qam', 'Time-limit two roles');
  const repository = await DesiredRepository.open({ repo, workDir: '/nonexistent/rollcall-workdir' });
  const loaded = await loadDesiredState(dir);
  if (!loaded.ok) throw new Error(loaded.problems.map((problem) => problem.message).join('\n'));
  const head = await repository.head();
  return { repository, desired: loaded.desired, sha: head.sha };
}

function recordingNotifier(): Notifier & { delivered: Notification[] } {
  return {
    delivered: [],
    async deliver(sent) {
      this.delivered.push(sent);
    },
  };
}

describe('ReminderSchedule', () => {
  it('queues each reminder due today once, to the channel of the flow that made the user, mentioning them there; others go to ops', async () => {
    const { repository, desired, sha } = await fixture();
    const store = StateStore.inMemory();
    stores.push(store);
    const notifier = recordingNotifier();
    const outbox = new Outbox(store, notifier, log);
    const schedule = new ReminderSchedule({
      inForce: () => ({ sha, desired }),
      requestFlowOf: (at, empId) => repository.lastTrailer(at, `users/${empId}.yaml`, 'Flow'),
      channelOfFlow: (flow) => (flow === 'dingtalk/PROC-ONBOARD' ? 'ops-dingtalk' : 'ops'),
      outbox,
      log,
      now: () => NOW,
    });
    expect(await schedule.check()).toBe(2);
    await outbox.stop();
    const byLogin = Object.fromEntries(notifier.delivered.map((sent) => [(sent.event as ReminderEvent).login, sent]));
    expect(Object.keys(byLogin).sort()).toEqual(['wangwu', 'zhangsan']);
    expect(byLogin.wangwu).toMatchObject({ kind: 'reminder', channel: 'ops-dingtalk', event: { loses: { account: true }, on: '2026-12-01', mention: { id: 'wangwu-ding', platform: 'dingtalk', name: 'Wang Wu' } } });
    expect(byLogin.zhangsan).toMatchObject({ channel: 'ops', event: { loses: { role: expect.any(String) }, on: '2026-12-05' } });
    expect((byLogin.zhangsan!.event as ReminderEvent).mention).toBeUndefined();

    // An hour later, and the day after: the same reminders are due again, and not sent again.
    const again = new ReminderSchedule({
      inForce: () => ({ sha, desired }),
      requestFlowOf: (at, empId) => repository.lastTrailer(at, `users/${empId}.yaml`, 'Flow'),
      channelOfFlow: () => 'ops',
      outbox: new Outbox(store, notifier, log),
      log,
      now: () => new Date(NOW.getTime() + 86_400_000),
    });
    // lisi's role (ends 2026-12-06) enters the window on 11-29: only it is new.
    expect(await again.check()).toBe(1);
  });

  it('sends nothing before a revision is in force, or with remindBefore 0', async () => {
    const { desired, sha } = await fixture();
    const store = StateStore.inMemory();
    stores.push(store);
    const outbox = new Outbox(store, recordingNotifier(), log);
    const options = { requestFlowOf: async () => undefined, channelOfFlow: () => 'ops', outbox, log, now: () => NOW };
    expect(await new ReminderSchedule({ ...options, inForce: () => undefined }).check()).toBe(0);
    const silent = { ...desired, fleet: { ...desired.fleet, policy: { ...desired.fleet.policy, remindBefore: 0 } } };
    expect(await new ReminderSchedule({ ...options, inForce: () => ({ sha, desired: silent }) }).check()).toBe(0);
    await outbox.stop();
  });

  it('keeps going when the repository cannot be read, and says so', async () => {
    const { desired, sha } = await fixture();
    const store = StateStore.inMemory();
    stores.push(store);
    const lines: string[] = [];
    const captured = createLogger({ ROLLCALL_LOG_LEVEL: 'warn' }, { write: (line: string) => lines.push(line) });
    const outbox = new Outbox(store, recordingNotifier(), captured);
    const schedule = new ReminderSchedule({
      inForce: () => ({ sha, desired }),
      requestFlowOf: async () => {
        throw new Error('git log failed');
      },
      channelOfFlow: () => 'ops',
      outbox,
      log: captured,
      now: () => NOW,
    });
    expect(await schedule.check()).toBe(0);
    expect(lines.join('')).toContain('could not check for reminders');
    await outbox.stop();
  });
});
