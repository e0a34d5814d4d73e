import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkOperations, operationsFor } from '../../src/agent/encode-operations.js';
import type { DesiredState, Role, User } from '../../src/desired/types.js';
import { plan } from '../../src/plan/build-plan.js';
import { randomEd25519Key } from '../fixtures/random-ssh-key.js';
import { AgentHarness, sandboxSkipReason, statuses } from '../integration/agent-harness.js';

const TODAY = new Date('2026-11-27T04:00:00Z');
const ID = 'i-kill0001';
const USERS = 80;
const KILLS = 8;
const skip = await sandboxSkipReason();


function largeDesiredState(): DesiredState {
  const roles = new Map<string, Role>(
    ['alpha', 'beta', 'gamma'].map((name, index) => [name, { name, hostgroups: ['web'], groups: [{ name, gid: 3100 + index }], sudo: [`ALL=(root) NOPASSWD: /usr/bin/systemctl restart ${name}`] }]),
  );
  const users: User[] = Array.from({ length: USERS }, (_, i) => ({
    empId: `E${String(i).padStart(4, '0')}`, login: `worker${i}`, uid: 21000 + i, name: `Worker ${i}`,
    roles: [{ role: ['alpha', 'beta', 'gamma'][i % 3]! }], sshKeys: [randomEd25519Key(`worker${i}@laptop`)], shell: '/bin/bash', state: 'present', adopt: false,
  }));
  return {
    fleet: { region: 'cn-hangzhou', hostgroups: { web: { tags: { app: 'web' } } }, policy: { uidRange: [20000, 29999], offboard: 'lock', maxDeletions: 1000, drift: 'correct', interval: '10m', timezone: 'UTC', privilegedGroups: [], remindBefore: 7 } },
    roles, users, approvals: { flows: [], channels: {} }, revision: 'kill',
  };
}

describe.skipIf(skip)('the agent killed at random points', () => {
  let agent: AgentHarness;

  beforeAll(async () => {
    agent = await AgentHarness.start([{ id: ID, tags: { app: 'web' } }]);
  });

  afterAll(async () => agent?.fleet.destroyAll());

  it('leaves consistent account files, knows every account it made, and converges on the next apply', async () => {
    const baseline = { pwck: await agent.sh(ID, 'pwck -r 2>&1 || true'), grpck: await agent.sh(ID, 'grpck -r 2>&1; echo "exit $?"') };
    const desired = largeDesiredState();
    let generation = 1;
    for (let kill = 0; kill < KILLS; kill++) {
      const planned = plan(desired, await agent.observe(), desired.fleet.policy, TODAY);
      const chunks = chunkOperations(operationsFor(planned.instances[ID] ?? []), generation++);
      // Somewhere inside the first second of work, or the half-second after: mid-useradd, mid-write.
      const result = await agent.run(ID, 'apply', { ops: chunks[0]!, timeoutMs: 50 + Math.floor(Math.random() * 1500) });
      expect(result.exitCode === null || result.exitCode === 0 || result.exitCode === 1).toBe(true);

      // Intent first: every account in rollcall's uid range is in the managed list, whatever the kill interrupted.
      const unknown = await agent.sh(ID, `awk -F: '$3 >= 20000 && $3 < 30000 { print $1 " " $3 }' /etc/passwd | while read -r login uid; do grep -qx "user $login $uid" /var/lib/rollcall/managed || echo "$login"; done`);
      expect(unknown).toBe('');
      expect(await agent.sh(ID, "grep -cvE '^(user [a-z_][a-z0-9_-]* [0-9]+|group [a-z_][a-z0-9_-]* [0-9]+|sudoers rollcall-[a-z0-9_-]+)$' /var/lib/rollcall/managed || true")).toBe('0\n');
    }

    const { outputs } = await agent.converge(desired, TODAY, generation++);
    expect(statuses(outputs).filter((line) => line.includes(' failed'))).toEqual([]);
    const after = plan(desired, await agent.observe(), desired.fleet.policy, TODAY);
    expect(after.errors).toEqual([]);
    expect(after.instances).toEqual({});
    const accounts = await agent.sh(ID, `awk -F: '$3 >= 21000 && $3 < 22000 { print $1 }' /etc/passwd`);
    expect(accounts.trim().split('\n').sort()).toEqual(desired.users.map((user) => user.login).sort());

    // passwd, group and shadow agree with each other as they did before rollcall came.
    expect(await agent.sh(ID, 'pwck -r 2>&1 || true')).toBe(baseline.pwck);
    expect(await agent.sh(ID, 'grpck -r 2>&1; echo "exit $?"')).toBe(baseline.grpck);
    expect(await agent.sh(ID, 'visudo -c >/dev/null && echo ok')).toBe('ok\n');
  });
});
