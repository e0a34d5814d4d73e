import { describe, expect, it } from 'vitest';
import type { DesiredState, Role, User } from '../../src/desired/types.js';
import { plan } from '../../src/plan/build-plan.js';
import type { ObservedInstance, ObservedState, ObservedUser } from '../../src/plan/observed-state.js';
import type { Plan, PlanEntry, PlanPolicy, UserAttributes, UserChanges } from '../../src/plan/types.js';
import {
  desiredState,
  fingerprint,
  group,
  instance,
  KEY_A,
  KEY_B,
  KEY_C,
  lockedUser,
  managedUser,
  observedState,
  role,
  sudoersFile,
  TODAY,
  unmanagedUser,
  user,
  type DesiredOptions,
  type UserOverrides,
} from './plan-inputs.js';

// The baseline every test starts from: role dev (group dev 3001, one sudo rule) on hostgroup web
// (tag app=web), user alice holding it, and an instance i-web1 that already matches exactly.
const RULE = 'ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx';
const DEV = role('dev', [{ name: 'dev', gid: 3001 }], { sudo: [RULE] });
const DEV_SUDOERS = sudoersFile('dev', 'dev', [RULE]);
const ALICE_RECORD: UserOverrides = { name: 'Alice', roles: ['dev'], sshKeys: [KEY_A] };
const ALICE = user('alice', 20001, ALICE_RECORD);
const BOB = user('bob', 20002, { name: 'Bob', roles: ['dev'], sshKeys: [KEY_B] });

/** Everything rollcall sets on alice's account. */
const ALICE_AFTER: UserAttributes = {
  uid: 20001,
  gid: 20001,
  name: 'Alice',
  home: '/home/alice',
  shell: '/bin/bash',
  groups: ['dev'],
  sshKeys: [KEY_A],
  locked: false,
  expires: null,
};

/** What a lock of alice (as she is in the baseline) changes. */
const ALICE_LOCK: UserChanges = {
  groups: { before: ['dev'], after: [] },
  sshKeys: { before: [fingerprint(KEY_A)], after: [] },
  locked: { before: false, after: true },
  expires: { before: null, after: '1970-01-01' },
};

/** i-web1 as the baseline wants it: group dev, its sudoers file and alice; `overrides` replace fields. */
function webInstance(overrides: Partial<ObservedInstance> = {}): ObservedInstance {
  return instance({
    groups: [group('dev', 3001)],
    sudoers: { 'rollcall-dev': DEV_SUDOERS },
    users: [managedUser(ALICE, ['dev'])],
    ...overrides,
  });
}

interface RunOptions {
  today?: Date;
  allowDeletions?: number;
}

function run(desired: DesiredState, observed: ObservedState, options: RunOptions = {}): Plan {
  const policy: PlanPolicy = { ...desired.fleet.policy, ...(options.allowDeletions !== undefined ? { allowDeletions: options.allowDeletions } : {}) };
  return plan(desired, observed, policy, options.today ?? TODAY);
}

/** The baseline with some of its desired state and of i-web1 replaced. */
function planWeb(options: DesiredOptions & RunOptions & { seen?: Partial<ObservedInstance> } = {}): Plan {
  const { seen, today, allowDeletions, ...desired } = options;
  return run(
    desiredState({ roles: [DEV], users: [ALICE], ...desired }),
    observedState({ 'i-web1': webInstance(seen) }),
    { ...(today ? { today } : {}), ...(allowDeletions !== undefined ? { allowDeletions } : {}) },
  );
}

function entriesOf(result: Plan, id = 'i-web1'): PlanEntry[] {
  return result.instances[id] ?? [];
}

const NO_CHANGES = { create: 0, update: 0, lock: 0, delete: 0 };

describe('plan: an instance that already matches', () => {
  it('gets no entries, and the plan is empty', () => {
    expect(planWeb()).toEqual({ revision: 'rev1', summary: NO_CHANGES, instances: {}, errors: [], warnings: [] });
  });

  it('ignores the members a group lists: membership is planned on the user, never on the group', () => {
    const result = planWeb({ seen: { groups: [{ ...group('dev', 3001), members: ['mallory', 'trent'] }] } });
    expect(result.instances).toEqual({});
  });
});

describe('plan: create', () => {
  it('creates a user with every attribute in after', () => {
    expect(entriesOf(planWeb({ seen: { users: [] } }))).toEqual([{ action: 'create', kind: 'user', name: 'alice', after: ALICE_AFTER }]);
  });

  it('gives a new user the groups of all its current roles, sorted, and its expiry', () => {
    const zeta = role('zeta', [{ name: 'zeta', gid: 3009 }]);
    const alpha = role('alpha', [{ name: 'alpha', gid: 3002 }, { name: 'beta', gid: 3003 }]);
    const alice = user('alice', 20001, { ...ALICE_RECORD, roles: ['zeta', 'dev', 'alpha'], expires: '2027-03-01', shell: '/bin/zsh' });
    const result = planWeb({
      roles: [DEV, zeta, alpha],
      users: [alice],
      seen: { users: [], groups: [group('alpha', 3002), group('beta', 3003), group('dev', 3001), group('zeta', 3009)] },
    });
    expect(entriesOf(result)).toEqual([
      {
        action: 'create',
        kind: 'user',
        name: 'alice',
        after: { ...ALICE_AFTER, shell: '/bin/zsh', groups: ['alpha', 'beta', 'dev', 'zeta'], expires: '2027-03-01' },
      },
    ]);
  });

  it('takes over the private group a creation cut short left behind (managed, gid = uid)', () => {
    const result = planWeb({ seen: { users: [], groups: [group('dev', 3001), group('alice', 20001)] } });
    expect(result.errors).toEqual([]);
    expect(entriesOf(result)).toEqual([{ action: 'create', kind: 'user', name: 'alice', after: ALICE_AFTER }]);
  });

  it('still refuses a group named after the user that rollcall did not make, or with another gid', () => {
    for (const leftover of [group('alice', 20001, false), group('alice', 20999)]) {
      const result = planWeb({ seen: { users: [], groups: [group('dev', 3001), leftover] } });
      expect(result.errors.map((error) => error.message)).toEqual([expect.stringMatching(/a group named alice already exists here|needs gid 20001 for its private group, but group alice has it/)]);
    }
  });

  it('creates a missing group with its gid', () => {
    expect(entriesOf(planWeb({ seen: { groups: [] } }))).toEqual([{ action: 'create', kind: 'group', name: 'dev', after: { gid: 3001 } }]);
  });

  it('creates a missing sudoers file: a header, then one %<first group> line per rule', () => {
    expect(entriesOf(planWeb({ seen: { sudoers: {} } }))).toEqual([
      {
        action: 'create',
        kind: 'sudoers',
        name: 'rollcall-dev',
        after: { content: '# Managed by rollcall (role dev); edits here are overwritten.\n%dev ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx\n' },
      },
    ]);
  });

  it('writes every rule of a role for its first group only', () => {
    const ops = role('ops', [{ name: 'ops', gid: 3002 }, { name: 'opsread', gid: 3003 }], {
      sudo: ['ALL=(ALL) NOPASSWD: /usr/bin/journalctl', 'ALL=(root) NOPASSWD: /usr/sbin/reboot'],
    });
    const alice = user('alice', 20001, { ...ALICE_RECORD, roles: ['dev', 'ops'] });
    const result = planWeb({
      roles: [DEV, ops],
      users: [alice],
      seen: { groups: [group('dev', 3001), group('ops', 3002), group('opsread', 3003)], users: [managedUser(alice, ['dev', 'ops', 'opsread'])] },
    });
    expect(entriesOf(result)).toEqual([
      {
        action: 'create',
        kind: 'sudoers',
        name: 'rollcall-ops',
        after: {
          content:
            '# Managed by rollcall (role ops); edits here are overwritten.\n' +
            '%ops ALL=(ALL) NOPASSWD: /usr/bin/journalctl\n' +
            '%ops ALL=(root) NOPASSWD: /usr/sbin/reboot\n',
        },
      },
    ]);
  });

  it('writes no sudoers file for a role without sudo rules', () => {
    const plain = role('dev', [{ name: 'dev', gid: 3001 }]);
    expect(entriesOf(planWeb({ roles: [plain], seen: { sudoers: {} } }))).toEqual([]);
  });

  it('sets up a fresh instance: group, sudoers file, then the users', () => {
    const result = planWeb({ users: [BOB, ALICE], seen: { groups: [], sudoers: {}, users: [] } });
    expect(entriesOf(result)).toEqual([
      { action: 'create', kind: 'group', name: 'dev', after: { gid: 3001 } },
      { action: 'create', kind: 'sudoers', name: 'rollcall-dev', after: { content: DEV_SUDOERS } },
      { action: 'create', kind: 'user', name: 'alice', after: ALICE_AFTER },
      {
        action: 'create',
        kind: 'user',
        name: 'bob',
        after: { ...ALICE_AFTER, uid: 20002, gid: 20002, name: 'Bob', home: '/home/bob', sshKeys: [KEY_B] },
      },
    ]);
    expect(result.summary).toEqual({ create: 4, update: 0, lock: 0, delete: 0 });
  });
});

describe('plan: update one user attribute at a time', () => {
  interface AttributeCase {
    what: string;
    /** Changes to alice's record. */
    record?: UserOverrides;
    /** Changes to what the snapshot reports for her. */
    seen: Partial<ObservedUser>;
    changes: UserChanges;
  }
  const sortedPrints = (...lines: string[]) => lines.map(fingerprint).sort();
  const cases: AttributeCase[] = [
    { what: 'uid', seen: { uid: 20050 }, changes: { uid: { before: 20050, after: 20001 } } },
    { what: 'gid (the private group is gid = uid)', seen: { gid: 20050 }, changes: { gid: { before: 20050, after: 20001 } } },
    { what: 'name', seen: { name: 'Alice Old' }, changes: { name: { before: 'Alice Old', after: 'Alice' } } },
    { what: 'name (emptied)', record: { name: '' }, seen: { name: 'Alice' }, changes: { name: { before: 'Alice', after: '' } } },
    { what: 'home', seen: { home: '/srv/alice' }, changes: { home: { before: '/srv/alice', after: '/home/alice' } } },
    { what: 'shell', seen: { shell: '/bin/sh' }, changes: { shell: { before: '/bin/sh', after: '/bin/bash' } } },
    {
      what: 'groups: one too many, reported unsorted',
      seen: { groups: ['zz-extra', 'dev'] },
      changes: { groups: { before: ['dev', 'zz-extra'], after: ['dev'] } },
    },
    { what: 'groups: one missing', seen: { groups: [] }, changes: { groups: { before: [], after: ['dev'] } } },
    {
      what: 'sshKeys: a fingerprint that does not match',
      seen: { sshKeys: [fingerprint(KEY_B)] },
      changes: { sshKeys: { before: [fingerprint(KEY_B)], after: [KEY_A] } },
    },
    {
      what: 'sshKeys: one key too many',
      seen: { sshKeys: [fingerprint(KEY_B), fingerprint(KEY_A)] },
      changes: { sshKeys: { before: sortedPrints(KEY_A, KEY_B), after: [KEY_A] } },
    },
    {
      what: 'sshKeys: one key missing',
      record: { sshKeys: [KEY_A, KEY_C] },
      seen: { sshKeys: [fingerprint(KEY_A)] },
      changes: { sshKeys: { before: [fingerprint(KEY_A)], after: [KEY_A, KEY_C] } },
    },
    { what: 'sshKeys: none on the host', seen: { sshKeys: [] }, changes: { sshKeys: { before: [], after: [KEY_A] } } },
    {
      what: 'sshKeys: the same key without the options the record gives it',
      record: { sshKeys: [`from="10.0.0.0/8",no-pty ${KEY_A}`] },
      seen: { sshKeys: [fingerprint(KEY_A)] },
      changes: { sshKeys: { before: [fingerprint(KEY_A)], after: [`from="10.0.0.0/8",no-pty ${KEY_A}`] } },
    },
    {
      what: 'sshKeys: a whole line reported instead of a fingerprint, not wanted',
      seen: { sshKeys: [KEY_B] },
      changes: { sshKeys: { before: [KEY_B], after: [KEY_A] } },
    },
    { what: 'locked (unlock)', seen: { locked: true }, changes: { locked: { before: true, after: false } } },
    {
      what: 'expires: set on the host, not in the record',
      seen: { expires: '2027-01-01' },
      changes: { expires: { before: '2027-01-01', after: null } },
    },
    {
      what: 'expires: in the record, not on the host',
      record: { expires: '2027-03-01' },
      seen: { expires: null },
      changes: { expires: { before: null, after: '2027-03-01' } },
    },
    {
      what: 'expires: another day',
      record: { expires: '2027-03-01' },
      seen: { expires: '2027-02-01' },
      changes: { expires: { before: '2027-02-01', after: '2027-03-01' } },
    },
  ];

  it.each(cases)('$what', ({ record = {}, seen, changes }) => {
    const alice = user('alice', 20001, { ...ALICE_RECORD, ...record });
    const result = planWeb({ users: [alice], seen: { users: [managedUser(alice, ['dev'], seen)] } });
    expect(entriesOf(result)).toEqual([{ action: 'update', kind: 'user', name: 'alice', changes }]);
    expect(result.errors).toEqual([]);
  });

  it.each([
    ['the fingerprint of the line', [fingerprint(KEY_A)]],
    ['the line itself', [KEY_A]],
    ['the line with other white space', [`  ${KEY_A.replaceAll(' ', ' \t ')}  `]],
  ])('sees no sshKeys change when the host reports %s', (_, sshKeys) => {
    expect(planWeb({ seen: { users: [managedUser(ALICE, ['dev'], { sshKeys })] } }).instances).toEqual({});
  });

  it('sees no change when keys with options match, and compares keys as a set', () => {
    const keys = [`from="10.0.0.0/8",no-agent-forwarding ${KEY_A}`, KEY_B];
    const alice = user('alice', 20001, { ...ALICE_RECORD, sshKeys: keys });
    const seen = managedUser(alice, ['dev'], { sshKeys: [fingerprint(KEY_B), fingerprint(keys[0]!)] });
    expect(planWeb({ users: [alice], seen: { users: [seen] } }).instances).toEqual({});
  });

  it('sees a missing key when the host reports one key twice, once as a line and once as a fingerprint', () => {
    // KeyFingerprints.sameKeys (src/plan/build-plan.ts) checks length and membership entry by
    // entry, and duplicates only as strings: two forms of KEY_A pass for {KEY_A, KEY_B}.
    const alice = user('alice', 20001, { ...ALICE_RECORD, sshKeys: [KEY_A, KEY_B] });
    const seen = managedUser(alice, ['dev'], { sshKeys: [fingerprint(KEY_A), KEY_A] });
    expect(entriesOf(planWeb({ users: [alice], seen: { users: [seen] } }))).toEqual([
      { action: 'update', kind: 'user', name: 'alice', changes: { sshKeys: { before: [KEY_A, fingerprint(KEY_A)].sort(), after: [KEY_A, KEY_B] } } },
    ]);
  });

  it('sees a missing key when the host lists one key twice with different white space', () => {
    const alice = user('alice', 20001, { ...ALICE_RECORD, sshKeys: [KEY_A, KEY_B] });
    const seen = managedUser(alice, ['dev'], { sshKeys: [KEY_A, ` ${KEY_A}`] });
    expect(entriesOf(planWeb({ users: [alice], seen: { users: [seen] } }))).toEqual([
      { action: 'update', kind: 'user', name: 'alice', changes: { sshKeys: { before: [` ${KEY_A}`, KEY_A], after: [KEY_A, KEY_B] } } },
    ]);
  });

  it('puts every differing attribute of a user in one entry, in a fixed order', () => {
    const seen = managedUser(ALICE, ['dev'], { expires: '2027-01-01', locked: true, shell: '/bin/sh', name: 'A', uid: 20050 });
    const [entry] = entriesOf(planWeb({ seen: { users: [seen] } }));
    expect(entry).toEqual({
      action: 'update',
      kind: 'user',
      name: 'alice',
      changes: {
        uid: { before: 20050, after: 20001 },
        name: { before: 'A', after: 'Alice' },
        shell: { before: '/bin/sh', after: '/bin/bash' },
        locked: { before: true, after: false },
        expires: { before: '2027-01-01', after: null },
      },
    });
    expect(Object.keys((entry as { changes: UserChanges }).changes)).toEqual(['uid', 'name', 'shell', 'locked', 'expires']);
  });

  it('unlocks a locked managed user that belongs again', () => {
    expect(entriesOf(planWeb({ seen: { users: [lockedUser(ALICE)] } }))).toEqual([
      {
        action: 'update',
        kind: 'user',
        name: 'alice',
        changes: {
          groups: { before: [], after: ['dev'] },
          sshKeys: { before: [], after: [KEY_A] },
          locked: { before: true, after: false },
          expires: { before: '1970-01-01', after: null },
        },
      },
    ]);
  });
});

describe('plan: groups and sudoers files', () => {
  it("updates a managed group's gid", () => {
    expect(entriesOf(planWeb({ seen: { groups: [group('dev', 3009)] } }))).toEqual([
      { action: 'update', kind: 'group', name: 'dev', changes: { gid: { before: 3009, after: 3001 } } },
    ]);
  });

  it("updates a sudoers file's content", () => {
    const result = planWeb({ seen: { sudoers: { 'rollcall-dev': '%dev ALL=(ALL) ALL\n' } } });
    expect(entriesOf(result)).toEqual([
      { action: 'update', kind: 'sudoers', name: 'rollcall-dev', changes: { content: { before: '%dev ALL=(ALL) ALL\n', after: DEV_SUDOERS } } },
    ]);
  });

  it('deletes managed groups and sudoers files that no desired user needs', () => {
    const result = planWeb({
      seen: {
        groups: [group('dev', 3001), group('legacy', 3099)],
        sudoers: { 'rollcall-dev': DEV_SUDOERS, 'rollcall-legacy': '%legacy ALL=(ALL) ALL\n' },
      },
    });
    expect(entriesOf(result)).toEqual([
      { action: 'delete', kind: 'group', name: 'legacy' },
      { action: 'delete', kind: 'sudoers', name: 'rollcall-legacy' },
    ]);
  });

  it('deletes the group and sudoers file of a role nobody here holds any more', () => {
    const ops = role('ops', [{ name: 'ops', gid: 3002 }], { sudo: [RULE] });
    const result = planWeb({
      roles: [DEV, ops],
      seen: {
        groups: [group('dev', 3001), group('ops', 3002)],
        sudoers: { 'rollcall-dev': DEV_SUDOERS, 'rollcall-ops': sudoersFile('ops', 'ops', [RULE]) },
      },
    });
    expect(entriesOf(result)).toEqual([
      { action: 'delete', kind: 'group', name: 'ops' },
      { action: 'delete', kind: 'sudoers', name: 'rollcall-ops' },
    ]);
  });

  it('never deletes or changes an unmanaged group', () => {
    const result = planWeb({ seen: { groups: [group('dev', 3001), group('wheel2', 1500, false), group('build', 3098, false)] } });
    expect(result.instances).toEqual({});
    expect(result.errors).toEqual([]);
  });

  it('is an error when a role group without gid does not exist on the instance', () => {
    const devWithDocker = role('dev', [{ name: 'dev', gid: 3001 }, { name: 'docker' }], { sudo: [RULE] });
    const result = planWeb({ roles: [devWithDocker], seen: { users: [managedUser(ALICE, ['dev', 'docker'])] } });
    expect(result.errors).toEqual([{ instance: 'i-web1', message: expect.stringMatching(/group docker .*does not exist here/) }]);
    expect(entriesOf(result).filter((entry) => entry.kind === 'group')).toEqual([]);
  });

  it("uses the host's own group when a role group without gid exists (whatever its gid)", () => {
    const devWithDocker = role('dev', [{ name: 'dev', gid: 3001 }, { name: 'docker' }], { sudo: [RULE] });
    const result = planWeb({
      roles: [devWithDocker],
      seen: { groups: [group('dev', 3001), group('docker', 998, false)], users: [managedUser(ALICE, ['dev', 'docker'])] },
    });
    expect(result).toEqual({ revision: 'rev1', summary: NO_CHANGES, instances: {}, errors: [], warnings: [] });
  });

  it('is an error when an unmanaged group has the name of a role group but another gid', () => {
    const result = planWeb({ seen: { groups: [group('dev', 3050, false)] } });
    expect(result.errors).toEqual([{ instance: 'i-web1', message: expect.stringMatching(/group dev .*gid 3050.*wants gid 3001/) }]);
    expect(result.instances).toEqual({});
  });

  it('accepts an unmanaged group with the name and gid a role wants', () => {
    const result = planWeb({ seen: { groups: [group('dev', 3001, false)] } });
    expect(result.errors).toEqual([]);
    expect(result.instances).toEqual({});
  });

  it("is an error when another group holds a new group's gid", () => {
    const result = planWeb({ seen: { groups: [group('build', 3001, false)] } });
    expect(result.errors).toEqual([{ instance: 'i-web1', message: expect.stringMatching(/gid 3001 .*group build/) }]);
    expect(entriesOf(result).filter((entry) => entry.kind === 'group')).toEqual([]);
  });
});

describe('plan: offboarding', () => {
  const aliceAndBob = (alice: ObservedUser = managedUser(ALICE, ['dev'])) => ({ users: [alice, managedUser(BOB, ['dev'])] });

  it('locks a managed user that no longer belongs: groups and keys removed, locked, expired in 1970', () => {
    expect(entriesOf(planWeb({ users: [BOB], seen: aliceAndBob() }))).toEqual([{ action: 'lock', kind: 'user', name: 'alice', changes: ALICE_LOCK }]);
  });

  it('locks with the groups and keys reported, sorted', () => {
    const seen = managedUser(ALICE, ['zz', 'dev'], { sshKeys: [fingerprint(KEY_C), KEY_A] });
    const [entry] = entriesOf(planWeb({ users: [BOB], seen: aliceAndBob(seen) }));
    expect(entry).toEqual({
      action: 'lock',
      kind: 'user',
      name: 'alice',
      changes: { ...ALICE_LOCK, groups: { before: ['dev', 'zz'], after: [] }, sshKeys: { before: [KEY_A, fingerprint(KEY_C)].sort(), after: [] } },
    });
  });

  it.each([
    ['expired in 1970', '1970-01-01'],
    ['expired on another day in the past', '2026-11-26'],
  ])('plans nothing for a user already fully locked (%s)', (_, expires) => {
    expect(planWeb({ users: [BOB], seen: aliceAndBob(lockedUser(ALICE, { expires })) }).instances).toEqual({});
  });

  it.each<[string, Partial<ObservedUser>, UserChanges]>([
    ['keys still there', { sshKeys: [fingerprint(KEY_A)] }, { sshKeys: ALICE_LOCK.sshKeys! }],
    ['still in a group', { groups: ['dev'] }, { groups: ALICE_LOCK.groups! }],
    ['not locked', { locked: false }, { locked: ALICE_LOCK.locked! }],
    ['expiring in the future', { expires: '2027-06-30' }, { expires: { before: '2027-06-30', after: '1970-01-01' } }],
    ['expiring today (still access today)', { expires: '2026-11-27' }, { expires: { before: '2026-11-27', after: '1970-01-01' } }],
  ])('finishes a lock that is partly done: %s', (_, seen, changes) => {
    const result = planWeb({ users: [BOB], seen: aliceAndBob(lockedUser(ALICE, seen)) });
    expect(entriesOf(result)).toEqual([{ action: 'lock', kind: 'user', name: 'alice', changes }]);
  });

  it('deletes instead with policy.offboard delete', () => {
    expect(entriesOf(planWeb({ users: [BOB], policy: { offboard: 'delete' }, seen: aliceAndBob() }))).toEqual([
      { action: 'delete', kind: 'user', name: 'alice' },
    ]);
  });

  it('deletes a user already locked, with policy.offboard delete', () => {
    expect(entriesOf(planWeb({ users: [BOB], policy: { offboard: 'delete' }, seen: aliceAndBob(lockedUser(ALICE)) }))).toEqual([
      { action: 'delete', kind: 'user', name: 'alice' },
    ]);
  });

  it.each<[string, UserOverrides]>([
    ['state: absent', { state: 'absent' }],
    ['no roles', { roles: [] }],
    ['a role that is not on this hostgroup', { roles: ['dba'] }],
  ])('locks a user with %s', (_, record) => {
    const dba = role('dba', [{ name: 'dba', gid: 3003 }], { hostgroups: ['db'] });
    const alice = user('alice', 20001, { ...ALICE_RECORD, ...record });
    const result = planWeb({
      hostgroups: { web: { tags: { app: 'web' } }, db: { tags: { app: 'db' } } },
      roles: [DEV, dba],
      users: [alice, BOB],
      seen: aliceAndBob(),
    });
    expect(entriesOf(result)).toEqual([{ action: 'lock', kind: 'user', name: 'alice', changes: ALICE_LOCK }]);
  });

  it('removes a role whose last holder left: its group and sudoers file, and locks the user', () => {
    expect(entriesOf(planWeb({ users: [] }))).toEqual([
      { action: 'delete', kind: 'group', name: 'dev' },
      { action: 'delete', kind: 'sudoers', name: 'rollcall-dev' },
      { action: 'lock', kind: 'user', name: 'alice', changes: ALICE_LOCK },
    ]);
  });

  it('creates nothing for a user who does not belong and is not on the instance', () => {
    const alice = user('alice', 20001, { ...ALICE_RECORD, state: 'absent' });
    expect(planWeb({ users: [alice], seen: { groups: [], sudoers: {}, users: [] } }).instances).toEqual({});
  });
});

describe('plan: expires and until, in policy.timezone', () => {
  const LATE_ON_NEW_YEARS_EVE = new Date('2026-12-31T17:00:00Z'); // 2027-01-01 01:00 in Asia/Shanghai

  interface DayCase {
    what: string;
    record: UserOverrides;
    today?: Date;
    timezone?: string;
    belongs: boolean;
  }
  const cases: DayCase[] = [
    { what: 'expires today: the last day of access', record: { expires: '2026-11-27' }, belongs: true },
    { what: 'expired yesterday', record: { expires: '2026-11-26' }, belongs: false },
    { what: 'expires 2026-12-31, at 17:00Z in UTC', record: { expires: '2026-12-31' }, today: LATE_ON_NEW_YEARS_EVE, belongs: true },
    {
      what: 'expires 2026-12-31, at 17:00Z in Asia/Shanghai (already 2027-01-01 there)',
      record: { expires: '2026-12-31' },
      today: LATE_ON_NEW_YEARS_EVE,
      timezone: 'Asia/Shanghai',
      belongs: false,
    },
    { what: 'a grant until today', record: { roles: [{ role: 'dev', until: '2026-11-27' }] }, belongs: true },
    { what: 'a grant until yesterday', record: { roles: [{ role: 'dev', until: '2026-11-26' }] }, belongs: false },
    {
      what: 'a grant until 2026-12-31, at 17:00Z in UTC',
      record: { roles: [{ role: 'dev', until: '2026-12-31' }] },
      today: LATE_ON_NEW_YEARS_EVE,
      belongs: true,
    },
    {
      what: 'a grant until 2026-12-31, at 17:00Z in Asia/Shanghai',
      record: { roles: [{ role: 'dev', until: '2026-12-31' }] },
      today: LATE_ON_NEW_YEARS_EVE,
      timezone: 'Asia/Shanghai',
      belongs: false,
    },
  ];

  it.each(cases)('$what: belongs = $belongs', ({ record, today, timezone, belongs }) => {
    const alice = user('alice', 20001, { ...ALICE_RECORD, ...record });
    const result = planWeb({
      users: [alice, BOB],
      policy: timezone ? { timezone } : {},
      seen: { users: [managedUser(alice, ['dev']), managedUser(BOB, ['dev'])] },
      ...(today ? { today } : {}),
    });
    // An account whose expiry day is in the past is already expired on the host: the lock leaves it.
    const { expires: _expires, ...lockChanges } = ALICE_LOCK;
    const lock = alice.expires ? lockChanges : ALICE_LOCK;
    expect(entriesOf(result)).toEqual(belongs ? [] : [{ action: 'lock', kind: 'user', name: 'alice', changes: lock }]);
  });

  it('is not created once expired', () => {
    const alice = user('alice', 20001, { ...ALICE_RECORD, expires: '2026-11-26' });
    expect(planWeb({ users: [alice], seen: { groups: [], sudoers: {}, users: [] } }).instances).toEqual({});
  });

  it('leaves the groups of a grant whose until has passed, keeping the others', () => {
    const ops = role('ops', [{ name: 'ops', gid: 3002 }]);
    const alice = user('alice', 20001, { ...ALICE_RECORD, roles: ['dev', { role: 'ops', until: '2026-11-26' }] });
    const result = planWeb({
      roles: [DEV, ops],
      users: [alice],
      seen: { groups: [group('dev', 3001), group('ops', 3002)], users: [managedUser(alice, ['dev', 'ops'])] },
    });
    expect(entriesOf(result)).toEqual([
      { action: 'delete', kind: 'group', name: 'ops' },
      { action: 'update', kind: 'user', name: 'alice', changes: { groups: { before: ['dev', 'ops'], after: ['dev'] } } },
    ]);
  });
});

describe('plan: accounts rollcall did not create', () => {
  it('is an error when an unmanaged account has the login of a desired user without adopt', () => {
    const result = planWeb({ seen: { users: [unmanagedUser('alice', 1500)] } });
    expect(result.errors).toEqual([{ instance: 'i-web1', message: expect.stringMatching(/alice.*adopt: true/) }]);
    expect(result.instances).toEqual({});
  });

  it('adopts it with adopt: true: an update with every attribute in after', () => {
    const alice = user('alice', 20001, { ...ALICE_RECORD, adopt: true });
    const result = planWeb({ users: [alice], seen: { users: [unmanagedUser('alice', 1500)] } });
    expect(result.errors).toEqual([]);
    expect(entriesOf(result)).toEqual([
      { action: 'update', kind: 'user', name: 'alice', changes: { uid: { before: 1500, after: 20001 } }, adopt: true, after: ALICE_AFTER },
    ]);
  });

  it('adopts an unmanaged account that already has every desired attribute: no changes, but an entry', () => {
    const alice = user('alice', 20001, { ...ALICE_RECORD, adopt: true });
    const result = planWeb({ users: [alice], seen: { users: [managedUser(alice, ['dev'], { managed: false })] } });
    expect(entriesOf(result)).toEqual([{ action: 'update', kind: 'user', name: 'alice', changes: {}, adopt: true, after: ALICE_AFTER }]);
  });

  it.each([false, true])('is an error when an unmanaged account of another login holds the desired uid (adopt: %s)', (adopt) => {
    const alice = user('alice', 20001, { ...ALICE_RECORD, adopt });
    const result = planWeb({ users: [alice], seen: { users: [unmanagedUser('mallory', 20001)] } });
    expect(result.errors).toEqual([{ instance: 'i-web1', message: expect.stringMatching(/uid 20001 .*mallory/) }]);
    expect(result.instances).toEqual({});
  });

  it('is an error when an unmanaged account shares the uid of a managed desired user', () => {
    // DESIGN: an unmanaged account holding a desired uid is a plan error. The fast path of
    // InstancePlanner.planUsers (src/plan/build-plan.ts) skips the uid check when the user's own
    // account already has its uid, so a second login on uid 20001 (which keeps alice's access
    // after she is locked) is never reported.
    for (const users of [
      [managedUser(ALICE, ['dev']), unmanagedUser('alias', 20001)],
      [unmanagedUser('alias', 20001), managedUser(ALICE, ['dev'])],
    ]) {
      expect(planWeb({ seen: { users } }).errors).toEqual([{ instance: 'i-web1', message: expect.stringMatching(/uid 20001 .*alias/) }]);
    }
  });

  it("is an error when a group holds the gid of a new user's private group", () => {
    const result = planWeb({ seen: { users: [], groups: [group('dev', 3001), group('build', 20001, false)] } });
    expect(result.errors).toEqual([{ instance: 'i-web1', message: expect.stringMatching(/gid 20001.*group build/) }]);
    expect(result.instances).toEqual({});
  });

  it.each(['lock', 'delete'] as const)('never touches root, a uid < 1000 or above 60000 (nobody), even reported as managed (offboard %s)', (offboard) => {
    const system = (login: string, uid: number) => ({ ...managedUser(user(login, uid, { sshKeys: [KEY_C] }), ['dev']) });
    const result = planWeb({
      policy: { offboard },
      seen: { users: [system('root', 0), system('backup', 34), system('deploy', 999), system('nobody', 65534), managedUser(ALICE, ['dev'])] },
    });
    expect(result).toEqual({ revision: 'rev1', summary: NO_CHANGES, instances: {}, errors: [], warnings: [] });
  });

  it.each<[string, ObservedUser, boolean]>([
    ['unmanaged', unmanagedUser('postgres', 26), false],
    ['unmanaged, with adopt: true', unmanagedUser('postgres', 26), true],
    ['reported as managed', { ...managedUser(user('postgres', 26), ['dev']) }, false],
  ])('is an error when a desired login is a system account here (%s)', (_, seen, adopt) => {
    const postgres = user('postgres', 20003, { roles: ['dev'], adopt });
    const result = planWeb({ users: [ALICE, postgres], seen: { users: [managedUser(ALICE, ['dev']), seen] } });
    expect(result.errors).toEqual([{ instance: 'i-web1', message: expect.stringMatching(/postgres is a system account here/) }]);
    expect(result.instances).toEqual({});
  });

  it.each(['lock', 'delete'] as const)('never touches unmanaged accounts no desired user wants (offboard %s)', (offboard) => {
    const ops: ObservedUser = { ...managedUser(user('ops', 1200, { sshKeys: [KEY_C] }), ['dev']), managed: false };
    const result = planWeb({ policy: { offboard }, seen: { users: [unmanagedUser('admin', 1000), ops, managedUser(ALICE, ['dev'])] } });
    expect(result).toEqual({ revision: 'rev1', summary: NO_CHANGES, instances: {}, errors: [], warnings: [] });
  });
});

describe('plan: hostgroups', () => {
  it('changes nothing on an instance in no hostgroup, and warns', () => {
    const desired = desiredState({ roles: [DEV], users: [] });
    const observed = observedState({ 'i-old1': webInstance({ tags: { app: 'legacy' } }) });
    expect(run(desired, observed)).toEqual({
      revision: 'rev1',
      summary: NO_CHANGES,
      instances: {},
      errors: [],
      warnings: [{ instance: 'i-old1', message: expect.stringContaining('no hostgroup') }],
    });
  });

  it('finds an instance by id, whatever its tags', () => {
    const dba = role('dba', [{ name: 'dba', gid: 3003 }], { hostgroups: ['db'] });
    const alice = user('alice', 20001, { ...ALICE_RECORD, roles: ['dba'] });
    const desired = desiredState({ hostgroups: { web: { tags: { app: 'web' } }, db: { instanceIds: ['i-db1'] } }, roles: [DEV, dba], users: [alice] });
    const observed = observedState({ 'i-db1': instance({ tags: {} }), 'i-db2': instance({ tags: { app: 'db' } }) });
    const result = run(desired, observed);
    expect(Object.keys(result.instances)).toEqual(['i-db1']);
    expect(entriesOf(result, 'i-db1')).toEqual([
      { action: 'create', kind: 'group', name: 'dba', after: { gid: 3003 } },
      { action: 'create', kind: 'user', name: 'alice', after: { ...ALICE_AFTER, groups: ['dba'] } },
    ]);
    expect(result.warnings).toEqual([{ instance: 'i-db2', message: expect.stringContaining('no hostgroup') }]);
  });

  it.each<[string, Record<string, string>, boolean]>([
    ['every tag', { app: 'web', tier: 'front' }, true],
    ['every tag, and others', { env: 'prod', tier: 'front', app: 'web' }, true],
    ['only some of the tags', { app: 'web' }, false],
    ['another value', { app: 'web', tier: 'back' }, false],
    ['no tags', {}, false],
  ])('finds an instance by tags: %s → %s', (_, tags, member) => {
    const front = role('dev', [{ name: 'dev', gid: 3001 }], { hostgroups: ['front'], sudo: [RULE] });
    const desired = desiredState({ hostgroups: { front: { tags: { app: 'web', tier: 'front' } } }, roles: [front], users: [ALICE] });
    const result = run(desired, observedState({ 'i-web1': instance({ tags }) }));
    if (member) {
      expect(Object.keys(result.instances)).toEqual(['i-web1']);
      expect(result.warnings).toEqual([]);
    } else {
      expect(result.instances).toEqual({});
      expect(result.warnings).toEqual([{ instance: 'i-web1', message: expect.stringContaining('no hostgroup') }]);
    }
  });

  it('gives an instance in several hostgroups the roles of all of them', () => {
    const dba = role('dba', [{ name: 'dba', gid: 3003 }], { hostgroups: ['db'] });
    const alice = user('alice', 20001, { ...ALICE_RECORD, roles: ['dev', 'dba'] });
    const desired = desiredState({ hostgroups: { web: { tags: { app: 'web' } }, db: { instanceIds: ['i-web1'] } }, roles: [DEV, dba], users: [alice] });
    const result = run(desired, observedState({ 'i-web1': webInstance({ users: [managedUser(alice, ['dev'])] }) }));
    expect(entriesOf(result)).toEqual([
      { action: 'create', kind: 'group', name: 'dba', after: { gid: 3003 } },
      { action: 'update', kind: 'user', name: 'alice', changes: { groups: { before: ['dev'], after: ['dba', 'dev'] } } },
    ]);
  });

  it('warns about an instance id in fleet.yaml that the snapshot does not have', () => {
    const desired = desiredState({ hostgroups: { web: { tags: { app: 'web' } }, db: { instanceIds: ['i-gone1', 'i-web1'] } }, roles: [DEV], users: [ALICE] });
    const result = run(desired, observedState({ 'i-web1': webInstance() }));
    expect(result).toEqual({
      revision: 'rev1',
      summary: NO_CHANGES,
      instances: {},
      errors: [],
      warnings: [{ instance: 'i-gone1', message: expect.stringContaining('hostgroups.db') }],
    });
  });
});

describe('plan: the deletion guard (policy.maxDeletions)', () => {
  /** `n` managed users on i-web1 that no desired user is: each gets a lock (or a delete). */
  const leavers = (n: number) => Array.from({ length: n }, (_, i) => user(`u${String(i + 1).padStart(2, '0')}`, 20101 + i, { sshKeys: [KEY_C] }));
  const guarded = (n: number, options: DesiredOptions & RunOptions = {}) =>
    planWeb({ ...options, seen: { users: [managedUser(ALICE, ['dev']), ...leavers(n).map((u) => managedUser(u, []))] } });

  it('refuses a plan that locks more distinct logins than policy.maxDeletions, naming them', () => {
    const result = guarded(11);
    expect(result.summary).toEqual({ create: 0, update: 0, lock: 11, delete: 0 });
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors;
    expect(error).not.toHaveProperty('instance');
    expect(error!.message).toContain('policy.maxDeletions');
    for (const { login } of leavers(11)) expect(error!.message).toContain(login);
  });

  it('lets exactly policy.maxDeletions through', () => {
    const result = guarded(10);
    expect(result.summary.lock).toBe(10);
    expect(result.errors).toEqual([]);
  });

  it('counts deletes as well as locks', () => {
    const result = guarded(11, { policy: { offboard: 'delete' } });
    expect(result.summary).toEqual({ create: 0, update: 0, lock: 0, delete: 11 });
    expect(result.errors).toEqual([{ message: expect.stringContaining('policy.maxDeletions') }]);
  });

  it('is lifted by allowDeletions (the Rollcall-Allow-Deletions trailer)', () => {
    expect(guarded(11, { allowDeletions: 11 }).errors).toEqual([]);
    expect(guarded(12, { allowDeletions: 11 }).errors).toEqual([{ message: expect.stringContaining('u12') }]);
  });

  it('does not count group and sudoers file deletions', () => {
    const names = Array.from({ length: 11 }, (_, i) => `old${i}`);
    const result = planWeb({
      policy: { maxDeletions: 0 },
      seen: {
        groups: [group('dev', 3001), ...names.map((name, i) => group(name, 3100 + i))],
        sudoers: { 'rollcall-dev': DEV_SUDOERS, ...Object.fromEntries(names.map((name) => [`rollcall-${name}`, `%${name} ALL=(ALL) ALL\n`])) },
      },
    });
    expect(result.summary).toEqual({ create: 0, update: 0, lock: 0, delete: 22 });
    expect(result.errors).toEqual([]);
    expect(guarded(1, { policy: { maxDeletions: 0 } }).errors).toEqual([{ message: expect.stringContaining('u01') }]);
  });

  it('counts a login locked on several instances once', () => {
    const desired = desiredState({ roles: [DEV], users: [BOB], policy: { maxDeletions: 1 } });
    const three = (users: ObservedUser[]) => observedState(Object.fromEntries(['i-web1', 'i-web2', 'i-web3'].map((id) => [id, webInstance({ users })])));
    const once = run(desired, three([managedUser(ALICE, ['dev']), managedUser(BOB, ['dev'])]));
    expect(once.summary.lock).toBe(3);
    expect(once.errors).toEqual([]);

    const carol = user('carol', 20003, { roles: ['dev'] });
    const twice = run(desired, three([managedUser(ALICE, ['dev']), managedUser(BOB, ['dev']), managedUser(carol, ['dev'])]));
    expect(twice.summary.lock).toBe(6);
    expect(twice.errors).toEqual([{ message: expect.stringMatching(/alice.*carol/) }]);
  });
});

describe('plan: summary and order', () => {
  it('counts entries by action across instances', () => {
    const carol = user('carol', 20003, { roles: ['dev'] });
    const desired = desiredState({ roles: [DEV], users: [ALICE, BOB] });
    const observed = observedState({
      'i-web1': webInstance({
        groups: [group('dev', 3001), group('legacy', 3099)],
        sudoers: {},
        users: [managedUser(ALICE, ['dev'], { shell: '/bin/sh' }), managedUser(carol, ['dev'])],
      }),
      'i-web2': instance(),
    });
    const result = run(desired, observed);
    // i-web1: create sudoers + bob, update alice, lock carol, delete legacy; i-web2: group, sudoers, alice, bob.
    expect(result.summary).toEqual({ create: 6, update: 1, lock: 1, delete: 1 });
    const counted = { create: 0, update: 0, lock: 0, delete: 0 };
    for (const entries of Object.values(result.instances)) for (const entry of entries) counted[entry.action]++;
    expect(counted).toEqual(result.summary);
  });

  it('sorts entries: groups, then sudoers files, then users, each by name', () => {
    const zeta = role('zeta', [{ name: 'zeta', gid: 3009 }], { sudo: [RULE] });
    const amy = user('amy', 20010, { roles: ['zeta'] });
    const zed = user('zed', 20011, { roles: ['dev', 'zeta'] });
    const mia = user('mia', 20012, { roles: [] });
    const result = planWeb({
      roles: [zeta, DEV],
      users: [zed, amy, ALICE],
      seen: {
        groups: [group('old', 3090), group('dev', 3001)],
        sudoers: { 'rollcall-old': '%old ALL=(ALL) ALL\n', 'rollcall-dev': '%dev ALL=(ALL) ALL\n' },
        users: [managedUser(mia, ['old']), managedUser(ALICE, ['dev'], { shell: '/bin/sh' })],
      },
    });
    expect(entriesOf(result).map((entry) => `${entry.action} ${entry.kind} ${entry.name}`)).toEqual([
      'delete group old',
      'create group zeta',
      'update sudoers rollcall-dev',
      'delete sudoers rollcall-old',
      'create sudoers rollcall-zeta',
      'update user alice',
      'create user amy',
      'lock user mia',
      'create user zed',
    ]);
  });

  it('sorts instances by id', () => {
    const desired = desiredState({ roles: [DEV], users: [ALICE] });
    const result = run(desired, observedState({ 'i-web3': instance(), 'i-web10': instance(), 'i-web1': instance(), 'i-web2': instance() }));
    expect(Object.keys(result.instances)).toEqual(['i-web1', 'i-web10', 'i-web2', 'i-web3']);
  });
});

describe('plan: determinism', () => {
  /** A fleet with something of everything: creates, updates, locks, deletes, errors and warnings. */
  function fleet(reversed: boolean) {
    const order = <T>(items: T[]) => (reversed ? [...items].reverse() : items);
    const entriesIn = <T>(record: Record<string, T>) => Object.fromEntries(order(Object.entries(record)));
    const ops = role('ops', [{ name: 'ops', gid: 3002 }, { name: 'docker' }], { hostgroups: ['web', 'db'], sudo: [RULE, 'ALL=(ALL) NOPASSWD: /usr/bin/journalctl'] });
    const dba = role('dba', [{ name: 'dba', gid: 3003 }], { hostgroups: ['db'], sudo: ['ALL=(postgres) NOPASSWD: ALL'] });
    const users: User[] = [
      ALICE,
      BOB,
      user('carol', 20003, { roles: ['ops', 'dba'], sshKeys: [KEY_C, KEY_A], expires: '2027-01-31' }),
      user('dave', 20004, { roles: [{ role: 'dba', until: '2026-11-01' }, 'dev'] }),
      user('erin', 20005, { roles: ['dev'], adopt: true }),
      user('frank', 20006, { roles: ['ops'] }),
      user('gina', 20007, { roles: ['dev'], state: 'absent' }),
    ];
    const roles: Role[] = [DEV, ops, dba];
    const desired = desiredState({
      hostgroups: entriesIn({ db: { instanceIds: order(['i-db1', 'i-gone1']) }, web: { tags: entriesIn({ app: 'web', env: 'prod' }) } }),
      roles: order(roles),
      users: order(users),
    });
    const web = (id: string): [string, ObservedInstance] => [
      id,
      instance({
        tags: entriesIn({ env: 'prod', app: 'web', team: 'a' }),
        groups: order([group('dev', 3001), group('docker', 998, false), group('legacy', 3099), group('ops', 3012)]),
        sudoers: entriesIn({ 'rollcall-dev': '%dev ALL=(ALL) ALL\n', 'rollcall-legacy': '%legacy ALL=(ALL) ALL\n' }),
        users: order([
          unmanagedUser('root', 0),
          managedUser(ALICE, ['dev', 'legacy'], { sshKeys: [KEY_B, fingerprint(KEY_A)] }),
          managedUser(users[6]!, ['dev']),
          unmanagedUser('erin', 1400),
          unmanagedUser('frank', 1401),
          unmanagedUser('mallory', 20002),
        ]),
      }),
    ];
    const observed = observedState(
      Object.fromEntries(
        order([
          web('i-web2'),
          web('i-web1'),
          ['i-db1', instance({ tags: {}, groups: order([group('dba', 3003), group('ops', 3002)]) })],
          ['i-old1', instance({ tags: { app: 'legacy' } })],
        ]),
      ),
    );
    return { desired, observed };
  }

  it('gives byte-identical JSON for the same fleet built in another order', () => {
    const a = fleet(false);
    const b = fleet(true);
    expect(JSON.stringify(b.observed)).not.toBe(JSON.stringify(a.observed));
    const first = JSON.stringify(run(a.desired, a.observed));
    expect(JSON.stringify(run(b.desired, b.observed))).toBe(first);
    expect(JSON.stringify(run(a.desired, a.observed))).toBe(first);
    // The scenario does exercise every part of the plan.
    const result = JSON.parse(first) as Plan;
    expect(result.summary.create).toBeGreaterThan(0);
    expect(result.summary.update).toBeGreaterThan(0);
    expect(result.summary.lock).toBeGreaterThan(0);
    expect(result.summary.delete).toBeGreaterThan(0);
    expect(result.errors.length).toBeGreaterThan(1);
    expect(result.warnings.length).toBeGreaterThan(1);
  });

  it('does not change its inputs', () => {
    const { desired, observed } = fleet(false);
    const before = { observed: structuredClone(observed), users: structuredClone(desired.users), roles: structuredClone([...desired.roles]) };
    run(desired, observed);
    expect({ observed, users: desired.users, roles: [...desired.roles] }).toEqual(before);
  });
});
