import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOperations } from '../../src/agent/encode-operations.js';
import { loadDesiredState } from '../../src/desired/load-desired-state.js';
import type { DesiredState, User } from '../../src/desired/types.js';
import { plan } from '../../src/plan/build-plan.js';
import { AgentHarness, OUTPUT_CAP, sandboxSkipReason, statuses } from './agent-harness.js';

const TODAY = new Date('2026-11-27T04:00:00Z');
const CANARY = '/tmp/pwned';
const HOSTILE = `$(touch ${CANARY}) \`touch ${CANARY}\`; touch ${CANARY} '"' & | > x \\ 你好 ${'長'.repeat(200)}`;
const skip = await sandboxSkipReason();
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A desired state of one role and the given users on hostgroup web (tag app=web). */
function desiredState(users: Partial<User>[], sudo: string[] = []): DesiredState {
  return {
    fleet: {
      region: 'cn-hangzhou',
      hostgroups: { web: { tags: { app: 'web' } } },
      policy: { uidRange: [20000, 29999], offboard: 'lock', maxDeletions: 10, drift: 'correct', interval: '10m', timezone: 'UTC', privilegedGroups: [], remindBefore: 7 },
    },
    roles: new Map([['dev', { name: 'dev', hostgroups: ['web'], groups: [{ name: 'dev', gid: 3001 }], sudo }]]),
    users: users.map((user, index) => ({
      empId: `E${index}`, login: `user${index}`, uid: 20000 + index, name: '', roles: [{ role: 'dev' }], sshKeys: [], shell: '/bin/bash', state: 'present', adopt: false, ...user,
    })),
    approvals: { flows: [], channels: {} },
    revision: 'test',
  };
}

describe.skipIf(skip)('the agent is safe with hostile input', () => {
  let agent: AgentHarness;
  const ID = 'i-safety0001';
  let generation = 1;
  const apply = async (lines: string[]) => agent.applyOperations(ID, [encodeOperations(lines, generation++)]);

  beforeAll(async () => {
    agent = await AgentHarness.start([{ id: ID, tags: { app: 'web' } }]);
  });

  afterAll(async () => agent?.fleet.destroyAll());

  it('stores quotes, $(…), backticks, ; and long strings literally, and runs none of them', async () => {
    const key = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGCqotThnurzrv5hzuzKOUqZBUoUJEtwnQXeQx4cPRAJ ${HOSTILE}`;
    const rule = `ALL=(ALL) NOPASSWD: /usr/bin/printf $(touch ${CANARY})`;
    const desired = desiredState([{ name: HOSTILE.replace(/[:\\]/g, ''), sshKeys: [key] }], [rule]);
    const { outputs } = await agent.converge(desired, TODAY, generation++);
    expect(statuses(outputs).filter((line) => line.includes('failed') && !line.includes('sudoers'))).toEqual([]);
    expect(await agent.sh(ID, 'getent passwd user0 | cut -d: -f5')).toBe(`${HOSTILE.replace(/[:\\]/g, '')}\n`);
    expect(await agent.sh(ID, 'cat /home/user0/.ssh/authorized_keys')).toBe(`${key}\n`);
    const sudoers = await agent.sh(ID, 'cat /etc/sudoers.d/rollcall-dev 2>/dev/null || echo rejected');
    expect([`# Managed by rollcall (role dev); edits here are overwritten.\n%dev ${rule}\n`, 'rejected\n']).toContain(sudoers);
    expect(plan(desired, await agent.observe(), desired.fleet.policy, TODAY).instances[ID]?.filter((entry) => entry.kind === 'user') ?? []).toEqual([]);
    expect(existsSync(CANARY)).toBe(false);
    expect(await agent.sh(ID, `test -e ${CANARY} && echo ran || echo clean`)).toBe('clean\n');
  });

  it('refuses operations whose names are not names, whatever the encoder would have sent', async () => {
    const output = await apply([
      `user\tx$(touch ${CANARY})\t=20100\t-\t-\t-\t-\t-\t-\t-\t-\tcreate`,
      `user\tok1\t=1;touch ${CANARY}\t-\t-\t-\t-\t-\t-\t-\t-\tcreate`,
      `group\tg;touch\t3100`,
      `sudoers\t../../etc/passwd\t${b64('x')}`,
      `sudoers\trollcall-x;y\t${b64('x')}`,
      `lock\t-rf`,
      `frobnicate\tx`,
    ]);
    expect(output.results.map((result) => `${result.op} ${result.status} ${result.error}`)).toEqual([
      'user failed not a valid name',
      'user failed uid out of range',
      'group failed not a valid name',
      'sudoers failed not a rollcall sudoers file',
      'sudoers failed not a rollcall sudoers file',
      'lock failed not a valid name',
      'frobnicate failed unknown operation',
    ]);
    expect(output.exitCodes).toEqual([1]);
    expect(existsSync(CANARY)).toBe(false);
  });

  it('never touches root, system accounts or accounts it did not create', async () => {
    await agent.sh(ID, 'useradd -m -u 1500 alice');
    const before = await agent.sh(ID, 'sha256sum /etc/passwd /etc/shadow /etc/group');
    const output = await apply([
      'lock\troot',
      'delete\tdaemon',
      `user\troot\t-\t-\t=${b64('owned')}\t-\t-\t-\t-\t-\t-\tupdate`,
      `user\tbin\t-\t-\t-\t-\t=/bin/bash\t-\t-\t-\t-\tadopt`,
      'lock\talice',
      'delete\talice',
      `user\talice\t-\t-\t-\t-\t=/bin/bash\t-\t-\t-\t-\tupdate`,
      'group\troot\t3000',
      'group-delete\tsudo',
      'sudoers-delete\trollcall-notours',
    ]);
    expect(output.results.map((result) => `${result.op} ${result.name} ${result.status}`)).toEqual([
      'lock root failed', 'delete daemon failed', 'user root failed', 'user bin failed', 'lock alice failed', 'delete alice failed', 'user alice failed',
      'group root failed', 'group-delete sudo failed', 'sudoers-delete rollcall-notours failed',
    ]);
    expect(await agent.sh(ID, 'sha256sum /etc/passwd /etc/shadow /etc/group')).toBe(before);
  });

  it('keeps the previous sudoers file when visudo rejects the new one', async () => {
    const good = `%dev ALL=(root) NOPASSWD: /usr/bin/true\n`;
    expect((await apply([`sudoers\trollcall-ops\t${b64(good)}`])).results[0]?.status).toBe('changed');
    const output = await apply([`sudoers\trollcall-ops\t${b64('%dev ALL=(root NOPASSWD /usr/bin/true (\n')}`]);
    expect(output.results[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('visudo rejected it, the previous file stays') });
    expect(await agent.sh(ID, 'cat /etc/sudoers.d/rollcall-ops; ls -a /etc/sudoers.d | grep -c rollcall.ops')).toBe(`${good}1\n`);
  });

  it('never follows a link the user controls in ~/.ssh', async () => {
    const desired = desiredState([{ login: 'mallory', uid: 20200, sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGCqotThnurzrv5hzuzKOUqZBUoUJEtwnQXeQx4cPRAJ m@x'] }]);
    await agent.converge(desired, TODAY, generation++);
    const others = 'grep -v "^mallory:" /etc/shadow | sha256sum';
    const shadow = await agent.sh(ID, others);
    await agent.sh(ID, 'rm /home/mallory/.ssh/authorized_keys && ln -s /etc/shadow /home/mallory/.ssh/authorized_keys && chown -h mallory: /home/mallory/.ssh/authorized_keys');
    const keys = `=${b64('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN8QEjW/WLKUJCu73SJqUCM9t/kLvRAqofrJN26bQsz1 new\n')}`;
    let output = await apply([`user\tmallory\t-\t-\t-\t-\t-\t-\t${keys}\t-\t-\tupdate`]);
    expect(output.results[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('is a link, not a file, or not owned by mallory: refusing') });
    await agent.sh(ID, 'rm -rf /home/mallory/.ssh && ln -s /root /home/mallory/.ssh');
    output = await apply([`user\tmallory\t-\t-\t-\t-\t-\t-\t${keys}\t-\t-\tupdate`, 'lock\tmallory']);
    // The keys are refused; the lock itself (password, expiry, sessions) goes ahead without writing through the link.
    expect(output.results.map((result) => result.status)).toEqual(['failed', 'changed']);
    expect(await agent.sh(ID, others)).toBe(shadow);
    expect(await agent.sh(ID, 'grep -c ssh-ed25519 /etc/shadow || true')).toBe('0\n');
    expect(await agent.sh(ID, 'test -e /root/authorized_keys && echo written || echo untouched')).toBe('untouched\n');
  });

  it('knows its accounts by login and uid: a login deleted by hand and made again is not its own', async () => {
    const desired = desiredState([{ login: 'recycled', uid: 20300 }]);
    await agent.converge(desired, TODAY, generation++);
    await agent.sh(ID, 'userdel recycled && useradd -m -u 1700 recycled');
    expect((await agent.inventory(ID)).users.find((user) => user.login === 'recycled')).toEqual({ login: 'recycled', uid: 1700, managed: false });
    const output = await apply(['lock\trecycled', 'delete\trecycled', `user\trecycled\t-\t-\t-\t-\t=/bin/bash\t-\t-\t-\t-\tupdate`]);
    expect(output.results.map((result) => `${result.op} ${result.status}`)).toEqual(['lock failed', 'delete failed', 'user failed']);
    expect(await agent.sh(ID, 'getent passwd recycled | cut -d: -f3,7')).toBe('1700:/bin/sh\n');
  });

  it('moves aside a home left behind before creating an account, and follows no link in it', async () => {
    await agent.sh(ID, 'mkdir -p /home/comeback && ln -s /etc /home/comeback/.ssh && stat -c %U /etc');
    const desired = desiredState([{ login: 'comeback', uid: 20301, sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGCqotThnurzrv5hzuzKOUqZBUoUJEtwnQXeQx4cPRAJ c@x'] }]);
    const { outputs } = await agent.converge(desired, TODAY, generation++);
    expect(statuses(outputs).filter((line) => line.includes('comeback'))).toEqual([`${ID} user comeback changed`]);
    expect(await agent.sh(ID, 'stat -c "%U %a" /etc; test -L /home/comeback/.ssh && echo link || stat -c "%U %a" /home/comeback/.ssh; ls /var/lib/rollcall/archive | grep -c "^comeback-.*-found"')).toBe('root 755\ncomeback 700\n1\n');
    expect(await agent.sh(ID, 'test -e /etc/authorized_keys && echo written || echo untouched')).toBe('untouched\n');
  });

  it('refuses operations of an older generation, and takes the same one again', async () => {
    const newer = await agent.applyOperations(ID, [encodeOperations([`group\tgen\t3500`], 1000)]);
    expect(newer.results[0]?.status).toBe('changed');
    const older = await agent.applyOperations(ID, [encodeOperations([`group-delete\tgen`], 999)]);
    expect(older.refused).toBe('generation 999 is older than 1000, the last applied here');
    expect(older.exitCodes).toEqual([3]);
    expect(await agent.sh(ID, 'getent group gen | cut -d: -f3')).toBe('3500\n');
    const same = await agent.applyOperations(ID, [encodeOperations([`group\tgen\t3500`], 1000)]);
    expect(same.results[0]?.status).toBe('unchanged');
    generation = 1001;
  });

  it('reports names that are not UTF-8 as U+FFFD, and 2,000 accounts completely, each page under the output cap', async () => {
    await agent.sh(ID, [
      // A name no tool would write, edited into /etc/passwd by hand: Latin-1 é, a control character, quotes, a backslash.
      `printf 'weird:x:1600:1600:caf\\351 \\001 "q" \\\\:/home/weird:/bin/sh\\n' >>/etc/passwd`,
      'echo "user weird 1600" >>/var/lib/rollcall/managed',
      'i=0; while [ $i -lt 2000 ]; do echo "bulk$i:x:$((40000 + i)):$((40000 + i)):Bulk user $i with a longer name:/home/bulk$i:/bin/bash"; i=$((i + 1)); done >>/etc/passwd',
      'i=0; while [ $i -lt 300 ]; do echo "user bulk$i $((40000 + i))"; i=$((i + 1)); done >>/var/lib/rollcall/managed',
    ].join(' && '));
    const { pages, sizes } = await agent.inventoryPages(ID);
    expect(pages.length).toBeGreaterThan(3);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(OUTPUT_CAP);
    const users = pages.flatMap((page) => page.users);
    expect(users.filter((user) => user.login.startsWith('bulk'))).toHaveLength(2000);
    expect(new Set(users.map((user) => user.login)).size).toBe(users.length);
    expect(users.find((user) => user.login === 'bulk5')).toMatchObject({ managed: true, name: 'Bulk user 5 with a longer name', home: '/home/bulk5' });
    expect(users.find((user) => user.login === 'bulk1999')).toEqual({ login: 'bulk1999', uid: 41999, managed: false });
    const groups = pages.flatMap((page) => page.groups).map((group) => group.name);
    expect(groups).toContain('dev');
    expect(existsSync(CANARY)).toBe(false);
  });

  it('escapes every byte of a name: invalid UTF-8 as U+FFFD, control characters, quotes, backslashes', async () => {
    const users = (await agent.inventory(ID)).users;
    expect(users.find((user) => user.login === 'weird')?.name).toBe('caf\uFFFD \u0001 "q" \\');
    // alice is not rollcall's: login and uid only.
    expect(users.find((user) => user.login === 'alice')).toEqual({ login: 'alice', uid: 1500, managed: false });
  });
});

describe('hostile values that never reach an operation', () => {
  it('are refused by validation with a clear error', async () => {
    const { mkdtemp, mkdir, writeFile, cp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(path.join(tmpdir(), 'rollcall-hostile-'));
    await cp(path.resolve('desired-state'), dir, { recursive: true });
    await mkdir(path.join(dir, 'users'), { recursive: true });
    await writeFile(
      path.join(dir, 'users/E1001.yaml'),
      [
        'empId: E1001',
        `login: "zhang'san"`,
        'uid: 20001',
        'name: "Zhang\\nroot::0:0::/:/bin/sh"',
        'roles: [devops]',
        'sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN8QEjW/WLKUJCu73SJqUCM9t/kLvRAqofrJN26bQsz1 a\\nssh-rsa AAAA evil", "ssh-ed25519 AAAA\\0"]',
        'shell: "/bin/bash; reboot"',
        '',
      ].join('\n'),
    );
    await writeFile(path.join(dir, 'roles/devops.yaml'), 'hostgroups: [web]\ngroups: [{ name: devops, gid: 3001 }]\nsudo: ["ALL=(ALL) ALL\\nroot ALL=(ALL) NOPASSWD: ALL"]\n');
    const result = await loadDesiredState(dir, { cwd: dir });
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.problems.map((problem) => `${problem.file}:${problem.line} ${problem.message.split(':')[0]}`);
    expect(messages).toEqual([
      'roles/devops.yaml:3 sudo[0]',
      'users/E1001.yaml:2 login',
      'users/E1001.yaml:4 name',
      'users/E1001.yaml:6 sshKeys[0]',
      'users/E1001.yaml:6 sshKeys[1]',
      'users/E1001.yaml:7 shell',
    ]);
  });
});
