import { createHash } from 'node:crypto';
import type { Hostgroup, RoleGrant, RoleGroup } from '../../src/desired/schema.js';
import type { DesiredState, Role, User } from '../../src/desired/types.js';
import type { ObservedGroup, ObservedInstance, ObservedState, ObservedUser } from '../../src/plan/observed-state.js';
import type { PlanPolicy } from '../../src/plan/types.js';

/**
 * Builders for the planner's inputs: a desired state made directly in TypeScript (no YAML) and
 * snapshots whose managed users match their desired records exactly, so that a test changes one
 * thing and sees one entry.
 */

/** The instant most tests plan at: 2026-11-27 in UTC and in Asia/Shanghai alike. */
export const TODAY = new Date('2026-11-27T04:00:00Z');

// Real public keys (from desired-state/users), so fingerprints are those of real authorized_keys lines.
export const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN8QEjW/WLKUJCu73SJqUCM9t/kLvRAqofrJN26bQsz1 alice@laptop';
export const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0iWFZtEfQpo25dt3cGcivfoUEV7OZT1nH7/20AkJuT bob@laptop';
export const KEY_C = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICp15eWRnZHhVBttfGQFMqWSNZwTI2nQcVMWNUlS0wGV carol@laptop';

/**
 * `sha256:<hex>` of an authorized_keys line as the agent reports it (trimmed, blanks folded),
 * computed here independently of src/desired/ssh-key.ts.
 */
export function fingerprint(line: string): string {
  return `sha256:${createHash('sha256').update(line.trim().replace(/[ \t]+/g, ' ')).digest('hex')}`;
}

/** fleet.yaml's policy with every default of DESIGN.md. */
export function policy(overrides: Partial<PlanPolicy> = {}): PlanPolicy {
  return {
    uidRange: [20000, 29999],
    offboard: 'lock',
    maxDeletions: 10,
    drift: 'correct',
    interval: '10m',
    timezone: 'UTC',
    privilegedGroups: [],
    ...overrides,
  };
}

export function role(name: string, groups: RoleGroup[], options: { hostgroups?: string[]; sudo?: string[] } = {}): Role {
  return { name, hostgroups: options.hostgroups ?? ['web'], groups, sudo: options.sudo ?? [] };
}

export type UserOverrides = Partial<Omit<User, 'login' | 'uid' | 'roles'>> & { roles?: (string | RoleGrant)[] };

/** A user record as the loader returns it: defaults applied, grants expanded. empId is `E<uid>`. */
export function user(login: string, uid: number, overrides: UserOverrides = {}): User {
  const { roles = [], ...rest } = overrides;
  return {
    empId: `E${uid}`,
    login,
    uid,
    name: '',
    sshKeys: [],
    shell: '/bin/bash',
    state: 'present',
    adopt: false,
    ...rest,
    roles: roles.map((grant) => (typeof grant === 'string' ? { role: grant } : grant)),
  };
}

export interface DesiredOptions {
  hostgroups?: Record<string, Hostgroup>;
  roles?: Role[];
  users?: User[];
  policy?: Partial<PlanPolicy>;
  /** Keep `roles` and `users` in the order given instead of sorting them (as the loader does). */
  unsorted?: boolean;
}

/** A DesiredState as loadDesiredState returns it; hostgroup `web` is every instance tagged app=web. */
export function desiredState(options: DesiredOptions = {}): DesiredState {
  const roles = options.roles ?? [];
  const users = options.users ?? [];
  return {
    fleet: {
      region: 'cn-hangzhou',
      hostgroups: options.hostgroups ?? { web: { tags: { app: 'web' } } },
      policy: { ...policy(options.policy), remindBefore: 7 },
    },
    roles: new Map((options.unsorted ? roles : [...roles].sort((a, b) => cmp(a.name, b.name))).map((r) => [r.name, r])),
    users: options.unsorted ? users : [...users].sort((a, b) => cmp(a.empId, b.empId)),
    approvals: { flows: [], channels: {} },
    revision: 'rev1',
  };
}

/** The snapshot of a managed account that matches `desired` exactly, with `groups` as its supplementary groups. */
export function managedUser(desired: User, groups: string[], overrides: Partial<ObservedUser> = {}): ObservedUser {
  return {
    login: desired.login,
    uid: desired.uid,
    gid: desired.uid,
    name: desired.name,
    home: `/home/${desired.login}`,
    shell: desired.shell,
    groups: [...groups],
    sshKeys: desired.sshKeys.map(fingerprint),
    locked: false,
    expires: desired.expires ?? null,
    managed: true,
    ...overrides,
  };
}

/** What a lock leaves behind: no groups, no keys, locked, expired in 1970. */
export function lockedUser(desired: User, overrides: Partial<ObservedUser> = {}): ObservedUser {
  return managedUser(desired, [], { sshKeys: [], locked: true, expires: '1970-01-01', ...overrides });
}

export function unmanagedUser(login: string, uid: number): ObservedUser {
  return { login, uid, managed: false };
}

export function group(name: string, gid: number, managed = true): ObservedGroup {
  return { name, gid, members: [], managed };
}

export function instance(options: Partial<ObservedInstance> = {}): ObservedInstance {
  return { tags: { app: 'web' }, users: [], groups: [], sudoers: {}, ...options };
}

export function observedState(instances: Record<string, ObservedInstance>): ObservedState {
  return { instances };
}

/** The sudoers.d file rollcall writes for a role. */
export function sudoersFile(roleName: string, groupName: string, rules: string[]): string {
  return `# Managed by rollcall (role ${roleName}); edits here are overwritten.\n${rules.map((rule) => `%${groupName} ${rule}\n`).join('')}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
