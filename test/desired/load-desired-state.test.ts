import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDesiredState, type LoadDesiredStateResult } from '../../src/desired/load-desired-state.js';
import type { DesiredState } from '../../src/desired/types.js';
import {
  expectProblems,
  loadProblems,
  VALID_FILES,
  writeDesiredState,
  yamlLines,
  type ExpectedProblem,
} from './desired-state-folder.js';
import { generateSshKey } from './ssh-test-keys.js';

const EXAMPLE_DIR = fileURLToPath(new URL('../../desired-state/', import.meta.url));

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'rollcall-desired-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function expectLoaded(result: LoadDesiredStateResult): DesiredState {
  expect(result).toMatchObject({ ok: true });
  if (!result.ok) throw new Error('unreachable: the folder did not load');
  return result.desired;
}

/** users/E1.yaml (alice) with these lines after its four required fields (line 5 onwards). */
function alice(...more: string[]): string {
  return yamlLines('empId: E1', 'login: alice', 'uid: 20001', 'roles: [dev]', ...more);
}

/** fleet.yaml with these lines after `uidRange` (line 6 onwards). */
function fleetWithPolicy(...more: string[]): string {
  return yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { tags: { app: web } }', 'policy:', '  uidRange: [20000, 29999]', ...more);
}

/** approvals.yaml with these flows (line 2 onwards) and one channel `ops`. */
function approvals(...flows: string[]): string {
  return yamlLines('flows:', ...flows, 'channels:', '  ops: { platform: dingtalk, webhookEnv: HOOK }');
}

const ed25519 = generateSshKey('ed25519', { comment: 'alice@laptop' });
const rsa1024 = generateSshKey('rsa', { bits: 1024 });
const ROOT_EQUIVALENT = 'is root-equivalent; list it in policy.privilegedGroups (fleet.yaml) to allow roles to grant it';

describe('loadDesiredState: the example folder', () => {
  it('loads with every default applied', async () => {
    const desired = expectLoaded(await loadDesiredState(EXAMPLE_DIR, { cwd: EXAMPLE_DIR }));

    expect(desired.users).toHaveLength(12);
    expect(desired.users.map((user) => user.empId)).toEqual([...desired.users.map((user) => user.empId)].sort());
    expect([...desired.roles.keys()]).toEqual(['analyst', 'dba', 'devops', 'oncall', 'webdev']);
    expect(desired.roles.get('devops')).toEqual({
      name: 'devops',
      description: 'Platform engineers who run the web and database tiers',
      hostgroups: ['web', 'db'],
      groups: [{ name: 'devops', gid: 3001 }, { name: 'docker' }],
      sudo: ['ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx', 'ALL=(ALL) NOPASSWD: /usr/bin/journalctl'],
    });
    expect(desired.fleet.region).toBe('cn-hangzhou');
    expect(desired.fleet.policy).toEqual({
      uidRange: [20000, 29999],
      offboard: 'lock',
      maxDeletions: 10,
      drift: 'correct',
      interval: '10m',
      timezone: 'Asia/Shanghai',
      privilegedGroups: ['docker'],
      remindBefore: 7,
    });
    expect(desired.approvals.flows).toHaveLength(4);
    expect(Object.keys(desired.approvals.channels)).toEqual(['ops-dingtalk', 'ops-lark']);
    expect(desired.revision).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('fills in the defaults of a user who gives only the required fields', async () => {
    const desired = expectLoaded(await loadDesiredState(EXAMPLE_DIR, { cwd: EXAMPLE_DIR }));
    // E1010 has no name, shell, sshKeys, state or adopt.
    expect(desired.users.find((user) => user.empId === 'E1010')).toEqual({
      empId: 'E1010',
      login: 'liner',
      uid: 20010,
      name: '',
      roles: [{ role: 'analyst' }],
      sshKeys: [],
      shell: '/bin/bash',
      state: 'present',
      adopt: false,
    });
  });

  it('expands role grants and keeps the fields a user does give', async () => {
    const desired = expectLoaded(await loadDesiredState(EXAMPLE_DIR, { cwd: EXAMPLE_DIR }));
    const byId = new Map(desired.users.map((user) => [user.empId, user]));
    expect(byId.get('E1012')?.roles).toEqual([{ role: 'analyst' }, { role: 'webdev', until: '2026-12-15' }]);
    expect(byId.get('E1012')?.adopt).toBe(true);
    expect(byId.get('E1004')?.roles).toEqual([{ role: 'analyst', until: '2027-01-31' }]);
    expect(byId.get('E1007')?.state).toBe('absent');
    expect(byId.get('E1006')?.expires).toBe('2026-12-31');
    expect(byId.get('E1008')?.shell).toBe('/bin/zsh');
    expect(byId.get('E1009')?.sshKeys).toEqual([
      'from="10.0.0.0/8",no-agent-forwarding ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0zhn1/r462rdFlf3NjV7ZeLxFkF2QUVTxnC2H8Izb7 chenyi@laptop',
    ]);
  });
});

describe('loadDesiredState: defaults of a minimal folder', () => {
  it('gives every policy field but uidRange its default', async () => {
    const dir = await writeDesiredState(root);
    const desired = expectLoaded(await loadDesiredState(dir, { cwd: dir }));
    expect(desired.fleet).toEqual({
      region: 'cn-hangzhou',
      hostgroups: { web: { tags: { app: 'web' } } },
      policy: {
        uidRange: [20000, 29999],
        offboard: 'lock',
        maxDeletions: 10,
        drift: 'correct',
        interval: '10m',
        timezone: 'UTC',
        privilegedGroups: [],
        remindBefore: 7,
      },
    });
  });

  it('expands group and grant shorthand and defaults the user record', async () => {
    const dir = await writeDesiredState(root, { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [ops]') });
    const desired = expectLoaded(await loadDesiredState(dir, { cwd: dir }));
    expect(desired.roles.get('ops')).toEqual({ name: 'ops', hostgroups: ['web'], groups: [{ name: 'ops' }], sudo: [] });
    expect(desired.users).toEqual([
      { empId: 'E1', login: 'alice', uid: 20001, name: '', roles: [{ role: 'dev' }], sshKeys: [], shell: '/bin/bash', state: 'present', adopt: false },
    ]);
  });

  it('defaults the flow fields and lists the files it read', async () => {
    const dir = await writeDesiredState(root);
    const result = await loadDesiredState(dir, { cwd: dir });
    expect(result).toMatchObject({ ok: true, files: ['approvals.yaml', 'fleet.yaml', 'roles/dev.yaml', 'users/E1.yaml'] });
    expect(expectLoaded(result).approvals.flows).toEqual([
      { platform: 'dingtalk', processCode: 'P1', request: 'onboard', subject: 'field', roles: ['dev'], fields: { empId: 'a', login: 'b' }, notify: 'ops' },
    ]);
  });

  it('needs no approvals.yaml, roles/ or users/', async () => {
    const dir = await writeDesiredState(root, { 'approvals.yaml': null, 'roles/dev.yaml': null, 'users/E1.yaml': null });
    const desired = expectLoaded(await loadDesiredState(dir, { cwd: dir }));
    expect(desired.approvals).toEqual({ flows: [], channels: {} });
    expect(desired.roles.size).toBe(0);
    expect(desired.users).toEqual([]);
  });

  it('accepts options with a quoted comma on an ssh key', async () => {
    const key = `from="10.0.0.1,10.0.0.2",no-pty ${ed25519.line}`;
    const dir = await writeDesiredState(root, { 'users/E1.yaml': alice('sshKeys:', `  - '${key}'`) });
    expect(expectLoaded(await loadDesiredState(dir, { cwd: dir })).users[0]?.sshKeys).toEqual([key]);
  });

  it('lets a role grant a root-equivalent group that policy.privilegedGroups lists', async () => {
    const dir = await writeDesiredState(root, {
      'fleet.yaml': fleetWithPolicy('  privilegedGroups: [wheel, docker]'),
      'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [wheel, { name: docker }]'),
    });
    expect(expectLoaded(await loadDesiredState(dir, { cwd: dir })).roles.get('ops')?.groups).toEqual([{ name: 'wheel' }, { name: 'docker' }]);
  });
});

interface BrokenCase {
  name: string;
  files: Record<string, string | null>;
  problems: ExpectedProblem[];
}

// Broken role files go in roles/ops.yaml, which no user refers to, so each case has its own problems only.
const BROKEN: BrokenCase[] = [
  // ── file names ──
  {
    name: 'a user file named after another empId',
    files: { 'users/E2.yaml': yamlLines('empId: E1', 'login: bob', 'uid: 20002', 'roles: [dev]') },
    problems: [['users/E2.yaml', 1, 8, 'empId: "E1" does not match the file name E2.yaml; name the file after the empId']],
  },
  {
    name: 'a role file name with a dot',
    files: { 'roles/web.dev.yaml': yamlLines('hostgroups: [web]') },
    problems: [['roles/web.dev.yaml', 1, 1, 'file name "web.dev" is not a role name: use a lowercase letter, then a-z 0-9 _ - (sudo skips sudoers.d files with a dot)']],
  },
  {
    name: 'a .yml file',
    files: { 'users/E2.yml': yamlLines('empId: E2', 'login: bob', 'uid: 20002', 'roles: [dev]') },
    problems: [['users/E2.yml', 0, 0, 'rollcall reads only .yaml files: rename it to .yaml']],
  },
  {
    name: 'no fleet.yaml',
    files: { 'fleet.yaml': null },
    problems: [['fleet.yaml', 0, 0, 'is missing: a desired-state folder needs fleet.yaml (region, hostgroups, policy)']],
  },

  // ── references ──
  {
    name: 'a user with an unknown role',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: alice', 'uid: 20001', 'roles: [dve]') },
    problems: [['users/E1.yaml', 4, 9, 'roles[0]: role "dve" does not exist (no roles/dve.yaml) (did you mean "dev"?)']],
  },
  {
    name: 'an unknown role in a grant with until, far from any role name',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: alice', 'uid: 20001', 'roles: [dev, { role: finance, until: 2027-01-31 }]') },
    problems: [['users/E1.yaml', 4, 22, 'roles[1]: role "finance" does not exist (no roles/finance.yaml)']],
  },
  {
    name: 'a role granted twice',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: alice', 'uid: 20001', 'roles: [dev, { role: dev, until: 2027-01-31 }]') },
    problems: [['users/E1.yaml', 4, 22, 'roles[1]: role "dev" is granted twice']],
  },
  {
    name: 'a role with an unknown hostgroup',
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web, wbe]') },
    problems: [['roles/ops.yaml', 1, 19, 'hostgroups[1]: hostgroup "wbe" is not defined in fleet.yaml (did you mean "web"?)']],
  },

  // ── logins and uids ──
  {
    name: 'a login with capitals',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: Alice', 'uid: 20001', 'roles: [dev]') },
    problems: [['users/E1.yaml', 2, 8, 'login: must be a Linux name: a lowercase letter or _, then up to 31 of a-z 0-9 _ - (^[a-z_][a-z0-9_-]{0,31}$)']],
  },
  {
    name: 'a login of 33 characters',
    files: { 'users/E1.yaml': yamlLines('empId: E1', `login: ${'a'.repeat(33)}`, 'uid: 20001', 'roles: [dev]') },
    problems: [['users/E1.yaml', 2, 8, 'login: must be a Linux name']],
  },
  {
    name: 'the login root',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: root', 'uid: 20001', 'roles: [dev]') },
    problems: [['users/E1.yaml', 2, 8, 'login: "root" is reserved for a system account or group; choose another login']],
  },
  {
    name: 'the login daemon',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: daemon', 'uid: 20001', 'roles: [dev]') },
    problems: [['users/E1.yaml', 2, 8, 'login: "daemon" is reserved for a system account or group; choose another login']],
  },
  {
    name: 'a uid above policy.uidRange',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: alice', 'uid: 30000', 'roles: [dev]') },
    problems: [['users/E1.yaml', 3, 6, 'uid: 30000 is outside policy.uidRange [20000, 29999]']],
  },
  {
    name: 'a system uid',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: alice', 'uid: 999', 'roles: [dev]') },
    problems: [['users/E1.yaml', 3, 6, 'uid: 999 is outside policy.uidRange [20000, 29999]']],
  },
  {
    name: 'a uid that is not a whole number',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: alice', 'uid: 20001.5', 'roles: [dev]') },
    problems: [['users/E1.yaml', 3, 6, 'uid: must be a whole number']],
  },
  {
    name: 'two users with one uid',
    files: { 'users/E2.yaml': yamlLines('empId: E2', 'login: bob', 'uid: 20001', 'roles: [dev]') },
    problems: [['users/E2.yaml', 3, 6, 'uid: 20001 is already the uid of users/E1.yaml; uids must be unique']],
  },
  {
    name: 'two users with one login',
    files: { 'users/E2.yaml': yamlLines('empId: E2', 'login: alice', 'uid: 20002', 'roles: [dev]') },
    problems: [['users/E2.yaml', 2, 8, 'login: "alice" is already the login of users/E1.yaml']],
  },
  {
    name: 'two users with one DingTalk id',
    files: {
      'users/E1.yaml': alice('ids: { dingtalk: ding001, lark: ou_1 }'),
      'users/E2.yaml': yamlLines('empId: E2', 'login: bob', 'uid: 20002', 'roles: [dev]', 'ids: { dingtalk: ding001, lark: ou_2 }'),
    },
    problems: [['users/E2.yaml', 5, 18, 'ids.dingtalk: "ding001" is already the dingtalk id of users/E1.yaml; one person has one record']],
  },
  {
    name: 'a platform id that is not one',
    files: { 'users/E1.yaml': alice('ids: { lark: "ou 1" }') },
    problems: [['users/E1.yaml', 5, 14, 'ids.lark: must be a platform user id: letters, digits, _ . @ - (up to 64)']],
  },

  // ── groups ──
  {
    name: 'one gid for two group names',
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [{ name: ops, gid: 3001 }]') },
    problems: [['roles/ops.yaml', 2, 28, 'groups[0].gid: gid 3001 is already group "dev" (roles/dev.yaml); gids must be unique']],
  },
  {
    name: "a group gid equal to a user's uid",
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [{ name: ops, gid: 20001 }]') },
    problems: [['users/E1.yaml', 3, 6, 'uid: 20001 is the gid of group "ops" (roles/ops.yaml); a user\'s private group takes gid = uid, so pick another']],
  },
  {
    name: 'one group name with two gids',
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [{ name: dev, gid: 3002 }]') },
    problems: [['roles/ops.yaml', 2, 28, 'groups[0].gid: group "dev" has gid 3001 in roles/dev.yaml; one group has one gid']],
  },
  {
    name: 'a group gid below 1000',
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [{ name: ops, gid: 999 }]') },
    problems: [['roles/ops.yaml', 2, 28, 'groups[0].gid: 999 is outside 1000-60000: rollcall only creates regular groups']],
  },
  {
    name: "a group named after a user's private group",
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [alice]') },
    problems: [['roles/ops.yaml', 2, 10, 'groups[0]: group "alice" has the name of the private group of user alice (users/E1.yaml); rename one of them']],
  },
  {
    name: 'root-equivalent groups not in policy.privilegedGroups',
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [wheel, { name: docker }]') },
    problems: [
      ['roles/ops.yaml', 2, 10, `groups[0]: group "wheel" ${ROOT_EQUIVALENT}`],
      ['roles/ops.yaml', 2, 25, `groups[1]: group "docker" ${ROOT_EQUIVALENT}`],
    ],
  },
  {
    name: 'the group root',
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [root]') },
    problems: [['roles/ops.yaml', 2, 10, 'groups[0]: group "root" is root itself and can never be granted']],
  },
  {
    name: 'the group root, even when policy.privilegedGroups lists it',
    files: {
      'fleet.yaml': fleetWithPolicy('  privilegedGroups: [root]'),
      'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [{ name: root }]'),
    },
    problems: [
      ['fleet.yaml', 6, 22, 'policy.privilegedGroups: "root" is root itself and can never be granted'],
      ['roles/ops.yaml', 2, 18, 'groups[0]: group "root" is root itself and can never be granted'],
    ],
  },
  {
    name: 'a group that is neither a name nor { name, gid }',
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [3002]') },
    problems: [['roles/ops.yaml', 2, 10, 'groups[0]: must be a group name or { name, gid }']],
  },

  // ── GECOS and shell ──
  {
    name: 'a name with ":"',
    files: { 'users/E1.yaml': alice('name: "Alice: admin"') },
    problems: [['users/E1.yaml', 5, 7, 'name: must not contain ":", newlines or control characters (it is the GECOS field of /etc/passwd)']],
  },
  {
    name: 'a name with a newline',
    files: { 'users/E1.yaml': alice('name: "Alice\\nroot::0:0::/root:/bin/bash"') },
    problems: [['users/E1.yaml', 5, 7, 'name: must not contain ":", newlines or control characters']],
  },
  {
    name: 'a name in a literal block (ends with a newline)',
    files: { 'users/E1.yaml': alice('name: |', '  Alice') },
    problems: [['users/E1.yaml', 5, 7, 'name: must not contain ":", newlines or control characters']],
  },
  {
    name: 'a shell that is not a login shell',
    files: { 'users/E1.yaml': alice('shell: /usr/sbin/nologin') },
    problems: [['users/E1.yaml', 5, 8, 'shell: "/usr/sbin/nologin" is not a login shell rollcall knows (/bin/bash, /usr/bin/bash,']],
  },

  // ── ssh keys (the list starts on line 6, its items at column 5) ──
  {
    name: 'an ssh key that is not base64',
    files: { 'users/E1.yaml': alice('sshKeys:', '  - ssh-ed25519 AAAA!!!! alice@laptop') },
    problems: [['users/E1.yaml', 6, 5, 'sshKeys[0]: key data is not base64']],
  },
  {
    name: 'an ssh key cut short on a base64 boundary',
    files: { 'users/E1.yaml': alice('sshKeys:', `  - ssh-ed25519 ${ed25519.blob.slice(0, 40)} alice@laptop`) },
    problems: [['users/E1.yaml', 6, 5, 'sshKeys[0]: key data is not a complete ed25519 key']],
  },
  {
    name: 'an ssh key cut short by one character',
    files: { 'users/E1.yaml': alice('sshKeys:', `  - ssh-ed25519 ${ed25519.blob.slice(0, -1)}`) },
    problems: [['users/E1.yaml', 6, 5, 'sshKeys[0]: key data is not valid base64 (was it cut short?)']],
  },
  {
    name: 'an ssh-rsa blob labelled ssh-ed25519',
    files: { 'users/E1.yaml': alice('sshKeys:', `  - ssh-ed25519 ${rsa1024.blob} alice@laptop`) },
    problems: [['users/E1.yaml', 6, 5, 'sshKeys[0]: key data is a ssh-rsa key but the line says ssh-ed25519']],
  },
  {
    name: 'an RSA key of 1024 bits',
    files: { 'users/E1.yaml': alice('sshKeys:', `  - ${rsa1024.line}`) },
    problems: [['users/E1.yaml', 6, 5, 'sshKeys[0]: RSA key has 1024 bits; use at least 2048 (or an ed25519 key)']],
  },
  {
    name: 'a private key header on one line',
    files: { 'users/E1.yaml': alice('sshKeys:', '  - "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAABG5vbmU"') },
    problems: [['users/E1.yaml', 6, 5, 'sshKeys[0]: looks like a private key or PEM file: paste the public key (the .pub file) instead']],
  },
  {
    name: 'an ssh key with an unknown option',
    files: { 'users/E1.yaml': alice('sshKeys:', `  - 'no-pty,bogus="1" ${ed25519.line}'`) },
    problems: [['users/E1.yaml', 6, 5, 'sshKeys[0]: has an unknown option "bogus"']],
  },
  {
    name: 'an ssh key listed twice (with different options and comments)',
    files: { 'users/E1.yaml': alice('sshKeys:', `  - ${ed25519.line}`, `  - 'no-pty ${ed25519.type} ${ed25519.blob} alice@desktop'`) },
    problems: [['users/E1.yaml', 7, 5, 'sshKeys[1]: this key is listed twice']],
  },
  {
    name: 'an ssh key that is not a string',
    files: { 'users/E1.yaml': alice('sshKeys:', '  - 42') },
    problems: [['users/E1.yaml', 6, 5, 'sshKeys[0]: ssh keys must be strings']],
  },

  // ── sudo rules (roles/ops.yaml, rule on line 4 column 5) ──
  ...(
    [
      ['a newline', '"ALL=(ALL) ALL\\nalice ALL=(ALL) NOPASSWD: ALL"', 'sudo[0]: must be one line: a newline would start a second sudoers entry'],
      ['#include', '"#include /etc/sudoers.d/extra"', 'sudo[0]: must not include other files (#include / @include)'],
      ['@includedir', '"@includedir /tmp"', 'sudo[0]: must not include other files (#include / @include)'],
      ['a trailing backslash', "'ALL=(ALL) /usr/bin/ls \\'", 'sudo[0]: must not end with a backslash (it would continue onto the next line)'],
      ['%group in front', '"%wheel ALL=(ALL) ALL"', 'sudo[0]: write only the part after the group, like ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx (rollcall adds %<group>; Defaults and aliases are not allowed)'],
      ['Defaults', '"Defaults !authenticate"', 'sudo[0]: write only the part after the group'],
      ['no "="', '/usr/bin/systemctl restart nginx', 'sudo[0]: is not a sudo rule: expected hosts=(runas) commands'],
    ] as const
  ).map(([what, rule, message]): BrokenCase => ({
    name: `a sudo rule with ${what}`,
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'groups: [{ name: ops, gid: 3002 }]', 'sudo:', `  - ${rule}`) },
    problems: [['roles/ops.yaml', 4, 5, message]],
  })),
  {
    name: 'a role with sudo rules but no groups',
    files: { 'roles/ops.yaml': yamlLines('hostgroups: [web]', 'sudo: ["ALL=(ALL) NOPASSWD: /usr/bin/journalctl"]') },
    problems: [['roles/ops.yaml', 2, 7, 'sudo: rules need a group to hold them (they are written as %<first group> <rule>): add one under groups']],
  },

  // ── dates ──
  {
    name: 'expires on a day that does not exist',
    files: { 'users/E1.yaml': alice('expires: 2027-02-30') },
    problems: [['users/E1.yaml', 5, 10, 'expires: must be a date written YYYY-MM-DD, like 2027-01-31']],
  },
  {
    name: 'expires: tomorrow',
    files: { 'users/E1.yaml': alice('expires: tomorrow') },
    problems: [['users/E1.yaml', 5, 10, 'expires: must be a date written YYYY-MM-DD, like 2027-01-31']],
  },
  {
    name: 'until: tomorrow',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: alice', 'uid: 20001', 'roles: [{ role: dev, until: tomorrow }]') },
    problems: [['users/E1.yaml', 4, 29, 'roles[0].until: must be a date written YYYY-MM-DD, like 2027-01-31']],
  },
  {
    name: 'until on a day that does not exist',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: alice', 'uid: 20001', 'roles: [{ role: dev, until: 2027-02-30 }]') },
    problems: [['users/E1.yaml', 4, 29, 'roles[0].until: must be a date written YYYY-MM-DD, like 2027-01-31']],
  },

  // ── shape ──
  {
    name: 'an unknown field',
    files: { 'users/E1.yaml': alice('shel: /bin/zsh') },
    problems: [['users/E1.yaml', 5, 1, 'shel: unknown field (allowed here: empId, login, uid, name, roles, sshKeys, shell, expires, state, adopt, ids)']],
  },
  {
    name: 'an unknown field in a role grant',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: alice', 'uid: 20001', 'roles: [{ role: dev, untill: 2027-01-31 }]') },
    problems: [['users/E1.yaml', 4, 22, 'roles[0].untill: unknown field (allowed here: role, until)']],
  },
  {
    name: 'an unknown policy field',
    files: { 'fleet.yaml': fleetWithPolicy('  offbord: delete') },
    problems: [['fleet.yaml', 6, 3, 'policy.offbord: unknown field (allowed here: uidRange, offboard, maxDeletions, drift, interval, timezone, privilegedGroups, remindBefore)']],
  },
  {
    name: 'a user without login (reported at the mapping that lacks it)',
    files: { 'users/E1.yaml': yamlLines('# Alice, who forgot her login', 'empId: E1', 'uid: 20001', 'roles: [dev]') },
    problems: [['users/E1.yaml', 2, 1, 'login: missing required field']],
  },
  {
    name: 'a flow without notify (reported at the flow)',
    files: { 'approvals.yaml': approvals('  - { platform: dingtalk, processCode: P1, request: offboard, fields: { empId: a } }') },
    problems: [['approvals.yaml', 2, 5, 'flows[0].notify: missing required field']],
  },
  {
    name: 'a numeric empId',
    files: { 'users/E1.yaml': null, 'users/10042.yaml': yamlLines('empId: 10042', 'login: alice', 'uid: 20001', 'roles: [dev]') },
    problems: [['users/10042.yaml', 1, 8, 'empId: must be a string: quote numeric ids, like empId: "10042"']],
  },
  {
    name: 'an unknown state',
    files: { 'users/E1.yaml': alice('state: gone') },
    problems: [['users/E1.yaml', 5, 8, 'state: must be present or absent']],
  },
  {
    name: 'adopt: yes (a string in YAML 1.2)',
    files: { 'users/E1.yaml': alice('adopt: yes') },
    problems: [['users/E1.yaml', 5, 8, 'adopt: must be true or false']],
  },

  // ── YAML ──
  {
    name: 'a duplicate key',
    files: { 'users/E1.yaml': alice('uid: 20002') },
    problems: [['users/E1.yaml', 5, 1, 'YAML: Map keys must be unique']],
  },
  {
    name: 'a YAML syntax error',
    files: { 'users/E1.yaml': yamlLines('empId: E1', 'login: [alice', 'uid: 20001') },
    problems: [['users/E1.yaml', 3, 1, 'YAML: ']],
  },
  {
    name: 'two YAML documents in one file',
    files: { 'users/E1.yaml': yamlLines('empId: E1', '---', 'login: alice') },
    problems: [['users/E1.yaml', 2, 1, 'YAML: Source contains multiple documents']],
  },
  {
    name: 'a top level that is a list',
    files: { 'users/E1.yaml': yamlLines('- empId: E1', '- login: alice') },
    problems: [['users/E1.yaml', 1, 1, 'must be a mapping of fields (key: value), not a list or a single value']],
  },
  {
    name: 'a top level that is a single value',
    files: { 'roles/ops.yaml': yamlLines('just a sentence') },
    problems: [['roles/ops.yaml', 1, 1, 'must be a mapping of fields (key: value), not a list or a single value']],
  },
  {
    name: 'an empty file',
    files: { 'users/E1.yaml': '' },
    problems: [['users/E1.yaml', 1, 1, 'is empty: expected a mapping of fields']],
  },
  {
    name: 'a file of comments only',
    files: { 'fleet.yaml': yamlLines('# to do') },
    problems: [['fleet.yaml', 1, 1, 'is empty: expected a mapping of fields']],
  },

  // ── approvals.yaml ──
  {
    name: 'a dingtalk flow without processCode',
    files: { 'approvals.yaml': approvals('  - { platform: dingtalk, request: offboard, fields: { empId: 工号 }, notify: ops }') },
    problems: [['approvals.yaml', 2, 5, 'flows[0]: a dingtalk flow needs processCode (the id of its approval form)']],
  },
  {
    name: 'a lark flow with processCode',
    files: { 'approvals.yaml': approvals('  - { platform: lark, approvalCode: L1, processCode: P1, request: offboard, fields: { empId: a }, notify: ops }') },
    problems: [['approvals.yaml', 2, 41, 'flows[0].processCode: lark flows use approvalCode, not processCode']],
  },
  {
    name: 'a lark flow with processCode instead of approvalCode',
    files: { 'approvals.yaml': approvals('  - { platform: lark, processCode: P1, request: offboard, fields: { empId: a }, notify: ops }') },
    problems: [
      ['approvals.yaml', 2, 5, 'flows[0]: a lark flow needs approvalCode (the id of its approval form)'],
      ['approvals.yaml', 2, 23, 'flows[0].processCode: lark flows use approvalCode, not processCode'],
    ],
  },
  {
    name: 'a flow granting a role that does not exist',
    files: { 'approvals.yaml': approvals('  - { platform: lark, approvalCode: L1, request: grant, subject: originator, roles: [dve], notify: ops }') },
    problems: [['approvals.yaml', 2, 86, 'flows[0].roles[0]: role "dve" does not exist (no roles/dve.yaml) (did you mean "dev"?)']],
  },
  {
    name: 'a flow notifying a channel that does not exist',
    files: { 'approvals.yaml': approvals('  - { platform: dingtalk, processCode: P1, request: offboard, fields: { empId: a }, notify: opz }') },
    problems: [['approvals.yaml', 2, 93, 'flows[0].notify: channel "opz" is not defined under channels (did you mean "ops"?)']],
  },
  {
    name: 'an onboard flow without fields.login',
    files: { 'approvals.yaml': approvals('  - { platform: dingtalk, processCode: P1, request: onboard, roles: [dev], fields: { empId: a }, notify: ops }') },
    problems: [['approvals.yaml', 2, 5, 'flows[0]: an onboard flow needs fields.empId and fields.login (the form labels holding them)']],
  },
  {
    name: 'an onboard flow without fields.empId',
    files: { 'approvals.yaml': approvals('  - { platform: dingtalk, processCode: P1, request: onboard, roles: [dev], fields: { login: b }, notify: ops }') },
    problems: [['approvals.yaml', 2, 5, 'flows[0]: an onboard flow needs fields.empId and fields.login (the form labels holding them)']],
  },
  {
    name: 'two flows with one processCode',
    files: {
      'approvals.yaml': approvals(
        '  - { platform: dingtalk, processCode: P1, request: offboard, fields: { empId: a }, notify: ops }',
        '  - { platform: dingtalk, processCode: P1, request: offboard, fields: { login: b }, notify: ops }',
      ),
    },
    problems: [['approvals.yaml', 3, 40, 'flows[1].processCode: "P1" is already the code of flows[0]; one approval form, one flow']],
  },

  // ── fleet.yaml policy and hostgroups ──
  {
    name: 'policy.uidRange starting below 1000',
    files: { 'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { tags: { app: web } }', 'policy:', '  uidRange: [500, 29999]') },
    problems: [['fleet.yaml', 5, 14, 'policy.uidRange: starts at 500; rollcall never manages uids below 1000']],
  },
  {
    name: 'policy.uidRange ending above 60000',
    files: { 'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { tags: { app: web } }', 'policy:', '  uidRange: [20000, 65534]') },
    problems: [['fleet.yaml', 5, 21, 'policy.uidRange: ends at 65534; keep it at or below 60000 (65534 is nobody)']],
  },
  {
    name: 'policy.uidRange reversed (every uid is then outside it)',
    files: { 'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { tags: { app: web } }', 'policy:', '  uidRange: [29999, 20000]') },
    problems: [
      ['fleet.yaml', 5, 13, 'policy.uidRange: [29999, 20000] is empty; write [first, last] with first <= last'],
      ['users/E1.yaml', 3, 6, 'uid: 20001 is outside policy.uidRange [29999, 20000]'],
    ],
  },
  {
    name: 'policy.uidRange with one number',
    files: { 'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { tags: { app: web } }', 'policy:', '  uidRange: [20000]') },
    problems: [['fleet.yaml', 5, 13, 'policy.uidRange: must be a pair [first, last] of whole numbers, like [20000, 29999]']],
  },
  {
    name: 'a policy without uidRange',
    files: { 'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { tags: { app: web } }', 'policy:', '  offboard: lock') },
    problems: [['fleet.yaml', 5, 3, 'policy.uidRange: missing required field']],
  },
  {
    name: 'a time zone that does not exist',
    files: { 'fleet.yaml': fleetWithPolicy('  timezone: Mars/Olympus_Mons') },
    problems: [['fleet.yaml', 6, 13, 'policy.timezone: must be an IANA time zone like Asia/Shanghai or UTC']],
  },
  {
    name: 'an interval in words',
    files: { 'fleet.yaml': fleetWithPolicy('  interval: 10 minutes') },
    problems: [['fleet.yaml', 6, 13, 'policy.interval: must be a duration like 30s, 10m or 1h']],
  },
  {
    name: 'an interval without a unit',
    files: { 'fleet.yaml': fleetWithPolicy('  interval: 600') },
    problems: [['fleet.yaml', 6, 13, 'policy.interval: must be a duration like 30s, 10m or 1h']],
  },
  {
    name: 'a hostgroup with neither tags nor instanceIds',
    files: { 'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { tags: { app: web } }', '  db: {}', 'policy:', '  uidRange: [20000, 29999]') },
    problems: [['fleet.yaml', 4, 7, 'hostgroups.db: select instances by tags or instanceIds (an empty selector would match nothing, or everything)']],
  },
  {
    name: 'a hostgroup with empty tags',
    files: { 'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { tags: {} }', 'policy:', '  uidRange: [20000, 29999]') },
    problems: [['fleet.yaml', 3, 8, 'hostgroups.web: select instances by tags or instanceIds']],
  },
  {
    name: 'a hostgroup name with capitals (at the key)',
    files: { 'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  Web: { tags: { app: web } }', 'policy:', '  uidRange: [20000, 29999]') },
    problems: [['fleet.yaml', 3, 3, 'hostgroups.Web: must be a hostgroup name: a lowercase letter, then a-z 0-9 _ -']],
  },
  {
    name: 'a channel name with capitals (at the key)',
    files: { 'approvals.yaml': yamlLines('channels:', '  Ops: { platform: dingtalk, webhookEnv: HOOK }') },
    problems: [['approvals.yaml', 2, 3, 'channels.Ops: must be a channel name: a lowercase letter, then a-z 0-9 _ -']],
  },
  {
    name: 'a tag value that is a number',
    files: { 'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { tags: { tier: 1 } }', 'policy:', '  uidRange: [20000, 29999]') },
    problems: [['fleet.yaml', 3, 24, 'hostgroups.web.tags.tier: tag values must be strings: quote numbers and booleans']],
  },
  {
    name: 'an instance id that is not one',
    files: { 'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { instanceIds: [web1] }', 'policy:', '  uidRange: [20000, 29999]') },
    problems: [['fleet.yaml', 3, 24, 'hostgroups.web.instanceIds[0]: must be an ECS instance id like i-uf6abc0001']],
  },
];

describe('loadDesiredState: broken folders', () => {
  it.each(BROKEN)('reports $name', async ({ files, problems }) => {
    const dir = await writeDesiredState(root, files);
    expectProblems(await loadProblems(dir), problems);
  });

  it('reports a --dir that does not exist', async () => {
    const result = await loadDesiredState(path.join(root, 'nowhere'), { cwd: root });
    expect(result).toEqual({
      ok: false,
      problems: [{ file: 'nowhere', line: 0, col: 0, message: 'is not a folder: point --dir at the desired-state folder (the one holding fleet.yaml)' }],
    });
  });

  it('reports a --dir that is a file', async () => {
    const dir = await writeDesiredState(root);
    const result = await loadDesiredState(path.join(dir, 'fleet.yaml'), { cwd: dir });
    expect(result).toEqual({ ok: false, problems: [expect.objectContaining({ file: 'fleet.yaml', line: 0, col: 0, message: expect.stringContaining('is not a folder') })] });
  });

  it('names files relative to cwd', async () => {
    const dir = await writeDesiredState(root, { 'users/E1.yaml': alice('shell: /bin/false') });
    const result = await loadDesiredState(dir, { cwd: path.dirname(dir) });
    expect(result).toMatchObject({ ok: false, problems: [{ file: path.join(path.basename(dir), 'users/E1.yaml'), line: 5, col: 8 }] });
  });

  it('reports an alias bomb (billion laughs) quickly instead of expanding it', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level <= 12; level++) {
      const below = level === 1 ? 'a' : `l${level - 1}`;
      levels.push(`l${level}: &l${level} [${Array.from({ length: 10 }, () => `*${below}`).join(', ')}]`);
    }
    const dir = await writeDesiredState(root, { 'users/E1.yaml': yamlLines(...levels) });
    const started = performance.now();
    expectProblems(await loadProblems(dir), [['users/E1.yaml', 1, 1, 'YAML: Excessive alias count indicates a resource exhaustion attack']]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('returns every problem at once, sorted by file and then line', async () => {
    const dir = await writeDesiredState(root, {
      'users/E1.yaml': alice('state: gone', 'shell: /bin/false'),
      'roles/ops.yaml': yamlLines('hostgroups: [web]', 'colour: red'),
      'fleet.yaml': fleetWithPolicy('  drift: fix'),
    });
    expectProblems(await loadProblems(dir), [
      ['fleet.yaml', 6, 10, 'policy.drift: must be correct or detect'],
      ['roles/ops.yaml', 2, 1, 'colour: unknown field (allowed here: description, hostgroups, groups, sudo)'],
      ['users/E1.yaml', 5, 8, 'state: must be present or absent'],
      ['users/E1.yaml', 6, 8, 'shell: "/bin/false" is not a login shell'],
    ]);
  });

  it('returns one problem in each of three files', async () => {
    const dir = await writeDesiredState(root, {
      'users/E2.yaml': yamlLines('empId: E2', 'login: bob', 'uid: 20002', 'roles: [dev]', 'shell: /bin/false'),
      'roles/ops.yaml': yamlLines('hostgroups: [db]'),
      'approvals.yaml': approvals('  - { platform: dingtalk, processCode: P1, request: offboard, fields: { empId: a }, notify: opz }'),
    });
    expectProblems(await loadProblems(dir), [
      ['approvals.yaml', 2, 93, 'flows[0].notify: channel "opz" is not defined'],
      ['roles/ops.yaml', 1, 14, 'hostgroups[0]: hostgroup "db" is not defined in fleet.yaml'],
      ['users/E2.yaml', 5, 8, 'shell: "/bin/false" is not a login shell'],
    ]);
  });
});

describe('loadDesiredState: files with schema problems', () => {
  it('still knows a role whose file has a schema problem (no false "role does not exist")', async () => {
    const dir = await writeDesiredState(root, {
      'roles/dev.yaml': yamlLines('hostgroups: [web]', 'groups: [{ name: dev, gid: 3001 }]', 'sudo: ["#include /etc/sudoers.d/extra"]'),
    });
    expectProblems(await loadProblems(dir), [['roles/dev.yaml', 3, 8, 'sudo[0]: must not include other files (#include / @include)']]);
  });

  it('still runs the cross-file checks on the valid fields of a user file', async () => {
    const dir = await writeDesiredState(root, { 'users/E2.yaml': yamlLines('empId: E2', 'login: bob', 'uid: 20001', 'roles: [dev]', 'shell: /bin/false') });
    expectProblems(await loadProblems(dir), [
      ['users/E2.yaml', 3, 6, 'uid: 20001 is already the uid of users/E1.yaml; uids must be unique'],
      ['users/E2.yaml', 5, 8, 'shell: "/bin/false" is not a login shell'],
    ]);
  });
});

describe('loadDesiredState: files that are not what they seem', () => {
  // A role file that does not parse still names its role: users granting it get no second,
  // misleading "no roles/dev.yaml".
  it('reports a role file that is not valid YAML once, not again as a missing role', async () => {
    const dir = await writeDesiredState(root, { 'roles/dev.yaml': yamlLines('hostgroups: [web]', 'hostgroups: [web]') });
    expectProblems(await loadProblems(dir), [['roles/dev.yaml', 2, 1, 'YAML: Map keys must be unique']]);
  });

  // Git stores symlinks: skipping one would silently offboard its user; following it could read
  // outside the repository. It is reported instead.
  it('reports a user file that is a symlink instead of dropping it', async () => {
    const dir = await writeDesiredState(root);
    await writeFile(path.join(dir, 'alice.yaml'), VALID_FILES['users/E1.yaml']!);
    await unlink(path.join(dir, 'users/E1.yaml'));
    await symlink('../alice.yaml', path.join(dir, 'users/E1.yaml'));
    expectProblems(await loadProblems(dir), [['users/E1.yaml', 0, 0, 'is a symbolic link: rollcall reads only regular files']]);
  });

  it('reports users/ that is a file and fleet.yaml that is a folder, instead of throwing', async () => {
    const dir = await writeDesiredState(root, { 'users/E1.yaml': null, 'approvals.yaml': null });
    await rm(path.join(dir, 'users'), { recursive: true, force: true });
    await writeFile(path.join(dir, 'users'), 'not a folder\n');
    await rm(path.join(dir, 'fleet.yaml'));
    await mkdir(path.join(dir, 'fleet.yaml'));
    expectProblems(await loadProblems(dir), [
      ['fleet.yaml', 0, 0, 'is a folder, not a file'],
      ['users', 0, 0, 'must be a folder of .yaml files, not a file'],
    ]);
  });

  it('says what a hostgroup must be when its entry is empty', async () => {
    const dir = await writeDesiredState(root, {
      'fleet.yaml': yamlLines('region: cn-hangzhou', 'hostgroups:', '  web: { tags: { app: web } }', '  db:', 'policy:', '  uidRange: [20000, 29999]'),
    });
    expectProblems(await loadProblems(dir), [['fleet.yaml', 4, 6, 'hostgroups.db: must be a mapping: { tags: { key: value } } or { instanceIds: [i-…] }']]);
  });

  // A private key pasted as it is spans several lines: it gets the message written for it, not
  // the one about control characters.
  it('says a pasted private key is a private key', async () => {
    const privateLines = ed25519.privateKey.trimEnd().split('\n').map((line) => `    ${line}`);
    const dir = await writeDesiredState(root, { 'users/E1.yaml': alice('sshKeys:', '  - |', ...privateLines) });
    expectProblems(await loadProblems(dir), [['users/E1.yaml', 6, 5, 'sshKeys[0]: looks like a private key or PEM file']]);
  });
});

describe('loadDesiredState: revision', () => {
  async function revisionOf(dir: string): Promise<string> {
    return expectLoaded(await loadDesiredState(dir, { cwd: dir })).revision;
  }

  it('is sha256: and 64 hex digits, the same on every load of the same files', async () => {
    const dir = await writeDesiredState(root);
    const first = await revisionOf(dir);
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await revisionOf(dir)).toBe(first);
    expect(await revisionOf(await writeDesiredState(root))).toBe(first);
  });

  it('changes when a file changes, even in a comment only', async () => {
    const dir = await writeDesiredState(root);
    const before = await revisionOf(dir);
    await writeFile(path.join(dir, 'users/E1.yaml'), `${VALID_FILES['users/E1.yaml']}# reviewed\n`);
    const after = await revisionOf(dir);
    expect(after).not.toBe(before);
    await writeFile(path.join(dir, 'users/E1.yaml'), VALID_FILES['users/E1.yaml']!);
    expect(await revisionOf(dir)).toBe(before);
  });

  it('changes when a file is added or renamed', async () => {
    const base = await revisionOf(await writeDesiredState(root));
    const added = await revisionOf(await writeDesiredState(root, { 'roles/ops.yaml': yamlLines('hostgroups: [web]') }));
    const renamed = await revisionOf(await writeDesiredState(root, { 'roles/ops2.yaml': yamlLines('hostgroups: [web]') }));
    expect(new Set([base, added, renamed]).size).toBe(3);
  });

  it('ignores files rollcall does not read', async () => {
    const dir = await writeDesiredState(root);
    const before = await revisionOf(dir);
    await writeFile(path.join(dir, 'users/README.md'), 'one file per employee\n');
    expect(await revisionOf(dir)).toBe(before);
  });
});
