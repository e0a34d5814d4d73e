import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/desired/load-desired-state.js';
import type { DesiredState, User } from '../../src/desired/types.js';
import { SandboxFleet } from '../../src/emulators/ecs/sandbox/sandbox-fleet.js';
import { plan } from '../../src/plan/build-plan.js';
import { AgentHarness, sandboxSkipReason, statuses } from './agent-harness.js';

const TODAY = new Date('2026-11-27T04:00:00Z');
const WEB1 = 'i-bp1web0000001';
const WEB2 = 'i-bp1web0000002';
const DB1 = 'i-bp1db0000001';
const skip = await sandboxSkipReason();

async function exampleDesiredState(): Promise<DesiredState> {
  const result = await loadDesiredState(path.resolve('desired-state'));
  if (!result.ok) throw new Error('the example desired state is invalid');
  return result.desired;
}

function withUser(desired: DesiredState, login: string, change: (user: User) => User): DesiredState {
  return { ...desired, users: desired.users.map((user) => (user.login === login ? change(user) : user)) };
}

describe.skipIf(skip)('the agent converges sandbox instances to the example desired state', () => {
  let fleet: SandboxFleet;
  let agent: AgentHarness;
  let desired: DesiredState;

  beforeAll(async () => {
    desired = await exampleDesiredState();
    agent = await AgentHarness.start([
      { id: WEB1, tags: { app: 'web' } },
      { id: WEB2, tags: { app: 'web' } },
      { id: DB1, tags: { app: 'db' } },
    ]);
    fleet = agent.fleet;
    for (const { id } of fleet.list()) await agent.sh(id, 'getent group docker >/dev/null || groupadd docker');
    // weisi had a hand-made account on web1 before rollcall (users/E1012.yaml says adopt: true).
    await agent.sh(WEB1, 'useradd -u 1001 -m -s /bin/sh weisi');
  });

  afterAll(async () => fleet?.destroyAll());

  it('creates groups, users, keys and sudoers files, adopting weisi, with nothing failed', async () => {
    const { plan: first, outputs } = await agent.converge(desired, TODAY, 1);
    expect(first.errors).toEqual([]);
    expect(first.summary.create).toBeGreaterThan(20);
    expect(statuses(outputs).filter((line) => !line.endsWith(' changed'))).toEqual([]);

    expect(await agent.sh(WEB1, 'getent passwd zhangsan')).toBe('zhangsan:x:20001:20001:Zhang San:/home/zhangsan:/bin/bash\n');
    expect((await agent.sh(WEB1, 'id -nG lisi')).trim().split(' ').sort()).toEqual(['devops', 'docker', 'lisi', 'oncall']);
    expect(await agent.sh(WEB1, 'stat -c "%a %U %G" /home/lisi /home/lisi/.ssh /home/lisi/.ssh/authorized_keys')).toBe('750 lisi lisi\n700 lisi lisi\n600 lisi lisi\n');
    const lisi = desired.users.find((user) => user.login === 'lisi')!;
    expect(await agent.sh(WEB1, 'cat /home/lisi/.ssh/authorized_keys')).toBe(lisi.sshKeys.map((key) => `${key}\n`).join(''));
    expect(await agent.sh(WEB1, 'stat -c "%a %U" /etc/sudoers.d/rollcall-devops && visudo -c >/dev/null && echo checked')).toBe('440 root\nchecked\n');
    expect(await agent.sh(WEB1, 'getent passwd weisi | cut -d: -f3,4,7')).toBe('20012:20012:/bin/bash\n');
    expect(await agent.sh(WEB1, 'chage -l zhouba | grep "Account expires"')).toMatch(/Jan 01, 2027/);
    expect(await agent.sh(DB1, 'grep -c "^user " /var/lib/rollcall/managed')).toBe('8\n');
    expect(await agent.sh(WEB1, 'getent shadow zhangsan | cut -d: -f2')).toBe('*\n');

    const again = plan(desired, await agent.observe(), desired.fleet.policy, TODAY);
    expect(again.instances).toEqual({});
    expect(again.errors).toEqual([]);
  });

  it('applying the same operations again changes nothing', async () => {
    const empty = { instances: Object.fromEntries(fleet.list().map(({ id, tags }) => [id, { tags, users: [], groups: [{ name: 'docker', gid: 1, members: [], managed: false }], sudoers: {} }])) };
    const fresh = plan(desired, empty, desired.fleet.policy, TODAY);
    for (const [id, entries] of Object.entries(fresh.instances)) {
      const output = await agent.apply(id, entries.filter((entry) => entry.kind !== 'user' || entry.name !== 'weisi'), 2);
      expect(output.results.filter((result) => result.status !== 'unchanged'), id).toEqual([]);
      expect(output.exitCodes.every((code) => code === 0)).toBe(true);
    }
  });

  it('finds drift made by hand on each attribute and corrects it', async () => {
    await agent.sh(WEB1, [
      'usermod -c "Somebody Else" zhangsan',
      'usermod -s /bin/sh lisi',
      'gpasswd -d lisi oncall >/dev/null',
      'usermod -L sunqi',
      'chage -E 2020-01-01 chenyi',
      'echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGCqotThnurzrv5hzuzKOUqZBUoUJEtwnQXeQx4cPRAJ intruder" >>/home/zhangsan/.ssh/authorized_keys',
      'printf "%%devops ALL=(ALL) NOPASSWD: ALL\\n" >/etc/sudoers.d/rollcall-devops',
      'groupmod -g 3999 webdev',
      'usermod -d /home/elsewhere -m fengsan',
      'groupmod -g 20777 chenyi',
    ].join(' && '));
    const drifted = plan(desired, await agent.observe(), desired.fleet.policy, TODAY);
    const changes = (drifted.instances[WEB1] ?? []).map((entry) => `${entry.kind} ${entry.name} ${'changes' in entry ? Object.keys(entry.changes).join(',') : entry.action}`);
    expect(changes).toEqual([
      'group webdev gid',
      'sudoers rollcall-devops content',
      'user chenyi gid,expires',
      'user fengsan home',
      'user lisi shell,groups',
      'user sunqi locked',
      'user zhangsan name,sshKeys',
    ]);
    const output = await agent.apply(WEB1, drifted.instances[WEB1]!, 3);
    expect(output.results.filter((result) => result.status !== 'changed')).toEqual([]);
    expect(plan(desired, await agent.observe(), desired.fleet.policy, TODAY).instances).toEqual({});
    expect(await agent.sh(WEB1, 'getent group webdev | cut -d: -f3; getent passwd chenyi | cut -d: -f3,4')).toBe('3004\n20009:20009\n');
  });

  it('treats an account whose uid was changed by hand as not its own, until the record says adopt', async () => {
    // rollcall knows its accounts by login and uid: another uid may be another person's account.
    await agent.sh(WEB1, 'usermod -u 20555 zhengshi');
    const foreign = plan(desired, await agent.observe(), desired.fleet.policy, TODAY);
    expect(foreign.errors.map((error) => `${error.instance} ${error.message}`)).toEqual([
      `${WEB1} an account zhengshi (uid 20555) already exists here and rollcall did not create it: set adopt: true in users/E1008.yaml to take it over, or choose another login`,
    ]);
    const adopting = withUser(desired, 'zhengshi', (user) => ({ ...user, adopt: true }));
    const { outputs } = await agent.converge(adopting, TODAY, 3);
    expect(statuses(outputs)).toEqual([`${WEB1} user zhengshi changed`]);
    expect(await agent.sh(WEB1, 'getent passwd zhengshi | cut -d: -f3,4; stat -c %u /home/zhengshi')).toBe('20008:20008\n20008\n');
    expect(plan(desired, await agent.observe(), desired.fleet.policy, TODAY).instances).toEqual({});
  });

  it('locks a leaver everywhere: password, expiry, keys, groups and running sessions', async () => {
    await agent.sh(WEB1, 'runuser -u lisi -- sleep 1000 >/dev/null 2>&1 & sleep 0.2; pgrep -u lisi >/dev/null');
    const leaving = withUser(desired, 'lisi', (user) => ({ ...user, state: 'absent' }));
    const { plan: offboard, outputs } = await agent.converge(leaving, TODAY, 4);
    expect(Object.entries(offboard.instances).map(([id, entries]) => `${id} ${entries.map((e) => `${e.action} ${e.name}`).join(', ')}`)).toEqual([
      `${DB1} lock lisi`,
      `${WEB1} lock lisi`,
      `${WEB2} lock lisi`,
    ]);
    expect(statuses(outputs).every((line) => line.endsWith(' changed'))).toBe(true);
    expect(await agent.sh(WEB1, 'getent shadow lisi | cut -d: -f2,8')).toBe('!*:1\n');
    expect(await agent.sh(WEB1, 'id -nG lisi; wc -c </home/lisi/.ssh/authorized_keys; pgrep -u lisi || echo no-sessions')).toBe('lisi\n0\nno-sessions\n');
    expect(plan(leaving, await agent.observe(), leaving.fleet.policy, TODAY).instances).toEqual({});
  });

  it('deletes by policy, keeping the home under /var/lib/rollcall/archive', async () => {
    const deleting: DesiredState = {
      ...withUser(desired, 'sunqi', (user) => ({ ...user, state: 'absent' })),
      fleet: { ...desired.fleet, policy: { ...desired.fleet.policy, offboard: 'delete' } },
    };
    const { outputs } = await agent.converge(deleting, TODAY, 5);
    expect(statuses(outputs)).toContain(`${WEB1} delete sunqi changed`);
    expect(await agent.sh(WEB1, 'getent passwd sunqi || echo gone; ls /var/lib/rollcall/archive | grep -c "^sunqi-"; grep -c "^user sunqi " /var/lib/rollcall/managed || true')).toBe('gone\n1\n0\n');
  });
});
