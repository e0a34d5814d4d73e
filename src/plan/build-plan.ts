import { compareStrings } from '../desired/compare-strings.js';
import { FIRST_REGULAR_ID, isProtectedAccount } from '../desired/linux-names.js';
import { isKeyFingerprint, keyFingerprint } from '../desired/ssh-key.js';
import type { DesiredState, User } from '../desired/types.js';
import { DesiredResolver, HostgroupIndex, type DesiredOnInstance } from './desired-on-instance.js';
import { checkDeletionGuard } from './deletion-guard.js';
import { localDate } from './local-date.js';
import type { ObservedInstance, ObservedState, ObservedUser } from './observed-state.js';
import {
  LOCKED_EXPIRES,
  type Plan,
  type PlanAction,
  type PlanEntry,
  type PlanPolicy,
  type PlanProblem,
  type UserAttributes,
  type UserChanges,
} from './types.js';

/**
 * Plans what must change on each observed instance so that it matches the desired state. Pure: no
 * I/O, no clock (`today` is an argument), no logger; the same inputs give the same plan, byte for
 * byte once serialized.
 *
 * Only what the snapshot says rollcall created (`managed`) is updated, locked or deleted; root,
 * uid < 1000 and unmanaged accounts are never touched, and an instance in no hostgroup is left alone.
 */
export function plan(desired: DesiredState, observed: ObservedState, policy: PlanPolicy, today: Date): Plan {
  const day = localDate(today, policy.timezone);
  const resolver = new DesiredResolver(desired, day);
  const keys = new KeyFingerprints();
  const hostgroupNames = Object.keys(desired.fleet.hostgroups).sort(compareStrings);
  const hostgroups = new HostgroupIndex(desired.fleet.hostgroups);
  const instances: Record<string, PlanEntry[]> = {};
  const errors: PlanProblem[] = [];
  const warnings: PlanProblem[] = [];

  for (const name of hostgroupNames) {
    for (const id of desired.fleet.hostgroups[name]!.instanceIds ?? []) {
      if (!Object.hasOwn(observed.instances, id)) {
        warnings.push({ instance: id, message: `is listed in hostgroups.${name}, but the fleet did not report it (released, stopped, or in another region?): nothing is planned for it` });
      }
    }
  }

  for (const id of Object.keys(observed.instances).sort(compareStrings)) {
    const instance = observed.instances[id]!;
    const memberOf = hostgroups.of(id, instance.tags);
    if (memberOf.length === 0) {
      warnings.push({ instance: id, message: 'is in no hostgroup, so nothing on it is changed (if it lost a tag by mistake, tag it again)' });
      continue;
    }
    const planner = new InstancePlanner(id, instance, resolver.resolve(memberOf), policy, day, keys, errors);
    const entries = planner.plan();
    if (entries.length > 0) instances[id] = entries;
  }

  const guard = checkDeletionGuard(instances, policy);
  return {
    revision: desired.revision,
    summary: summarize(instances),
    instances,
    errors: [...(guard ? [guard] : []), ...errors],
    warnings,
  };
}

const KIND_ORDER = { group: 0, sudoers: 1, user: 2 } as const;

class InstancePlanner {
  private readonly entries: PlanEntry[] = [];
  private readonly usersByLogin = new Map<string, ObservedUser>();
  private readonly groupsByName = new Map<string, ObservedInstance['groups'][number]>();
  private owners?: { gids: Map<number, string>; uids: Map<number, ObservedUser[]> };
  /** uids that more than one account holds here: another account with a user's uid shares its files. */
  private readonly sharedUids = new Set<number>();

  constructor(
    private readonly id: string,
    private readonly instance: ObservedInstance,
    private readonly wanted: DesiredOnInstance,
    private readonly policy: PlanPolicy,
    private readonly today: string,
    private readonly keys: KeyFingerprints,
    private readonly errors: PlanProblem[],
  ) {
    const uids = new Set<number>();
    for (const user of instance.users) {
      this.usersByLogin.set(user.login, user);
      if (uids.has(user.uid)) this.sharedUids.add(user.uid);
      uids.add(user.uid);
    }
    for (const group of instance.groups) this.groupsByName.set(group.name, group);
  }

  /**
   * Who holds each uid and gid here. Only a change needs them (an account already at its uid holds
   * it), so they are built on first use: most instances in a large fleet never ask.
   */
  private get ids(): { gids: Map<number, string>; uids: Map<number, ObservedUser[]> } {
    if (!this.owners) {
      const gids = new Map<number, string>();
      const uids = new Map<number, ObservedUser[]>();
      for (const group of this.instance.groups) gids.set(group.gid, `group ${group.name}`);
      for (const user of this.instance.users) {
        const holders = uids.get(user.uid);
        if (holders) holders.push(user);
        else uids.set(user.uid, [user]);
        if (user.gid !== undefined && !gids.has(user.gid)) gids.set(user.gid, `the private group of ${user.login}`);
      }
      this.owners = { gids, uids };
    }
    return this.owners;
  }

  plan(): PlanEntry[] {
    this.planGroups();
    this.planSudoers();
    this.planUsers();
    this.planOffboarding();
    return this.entries.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || compareStrings(a.name, b.name));
  }

  private problem(message: string): void {
    this.errors.push({ instance: this.id, message });
  }

  private planGroups(): void {
    for (const [name, { gid, role }] of this.wanted.groups) {
      const seen = this.groupsByName.get(name);
      if (gid === undefined) {
        if (!seen) this.problem(`group ${name} (role ${role}) does not exist here: install what provides it, or give it a gid in roles/${role}.yaml so that rollcall creates it`);
        continue;
      }
      if (seen?.gid === gid) continue;
      if (seen && !seen.managed) {
        this.problem(`group ${name} exists here with gid ${seen.gid} and rollcall did not create it, but roles/${role}.yaml wants gid ${gid}: drop the gid there to use the host's group, or make it ${seen.gid}`);
        continue;
      }
      const owner = this.ids.gids.get(gid);
      if (owner && owner !== `group ${name}`) {
        this.problem(`gid ${gid} of group ${name} (roles/${role}.yaml) is already used here by ${owner}`);
        continue;
      }
      if (seen) this.entries.push({ action: 'update', kind: 'group', name, changes: { gid: { before: seen.gid, after: gid } } });
      else this.entries.push({ action: 'create', kind: 'group', name, after: { gid } });
    }
    for (const group of this.instance.groups) {
      // A managed group named after a wanted user is that user's private group, left by a creation
      // that was cut short: the user's creation takes it over.
      if (group.managed && group.gid >= FIRST_REGULAR_ID && !this.wanted.groups.has(group.name) && !this.wanted.users.has(group.name)) {
        this.entries.push({ action: 'delete', kind: 'group', name: group.name });
      }
    }
  }

  private planSudoers(): void {
    for (const [name, content] of this.wanted.sudoers) {
      const seen = this.instance.sudoers[name];
      if (seen === undefined) this.entries.push({ action: 'create', kind: 'sudoers', name, after: { content } });
      else if (seen !== content) this.entries.push({ action: 'update', kind: 'sudoers', name, changes: { content: { before: seen, after: content } } });
    }
    for (const name of Object.keys(this.instance.sudoers)) {
      // Only rollcall's own files are reported; the prefix check keeps that true whatever the snapshot says.
      if (name.startsWith('rollcall-') && !this.wanted.sudoers.has(name)) this.entries.push({ action: 'delete', kind: 'sudoers', name });
    }
  }

  private planUsers(): void {
    for (const [login, { user, groups }] of this.wanted.users) {
      const seen = this.usersByLogin.get(login);
      if (seen && seen.managed && seen.uid === user.uid && !this.sharedUids.has(user.uid) && !isProtectedAccount(seen.login, seen.uid)) {
        // The common case in a converged fleet: compare in place, allocate only for a difference.
        const changes = this.diffUser(seen, user, groups);
        if (changes) this.entries.push({ action: 'update', kind: 'user', name: login, changes });
        continue;
      }
      const others = (this.ids.uids.get(user.uid) ?? []).filter((holder) => holder.login !== login);
      if (others.length > 0) {
        const names = others.map((holder) => `${holder.managed ? "rollcall's" : 'the'} account ${holder.login}`).join(' and ');
        this.problem(`uid ${user.uid} of ${login} (users/${user.empId}.yaml) is already used here by ${names}`);
        continue;
      }
      if (!seen) {
        const gidOwner = this.ids.gids.get(user.uid);
        if (gidOwner && !this.isOwnPrivateGroup(login, user.uid)) {
          this.problem(`${login} (users/${user.empId}.yaml) needs gid ${user.uid} for its private group, but ${gidOwner} has it here`);
        } else if (this.groupsByName.has(login) && !this.isOwnPrivateGroup(login, user.uid)) {
          this.problem(`a group named ${login} already exists here; rollcall gives each user a private group of its login: remove that group or choose another login in users/${user.empId}.yaml`);
        } else {
          this.entries.push({ action: 'create', kind: 'user', name: login, after: userAttributes(user, groups) });
        }
        continue;
      }
      if (isProtectedAccount(seen.login, seen.uid)) {
        this.problem(`${login} is a system account here (uid ${seen.uid}); rollcall never changes it: choose another login in users/${user.empId}.yaml`);
        continue;
      }
      if (!seen.managed && !user.adopt) {
        this.problem(`an account ${login} (uid ${seen.uid}) already exists here and rollcall did not create it: set adopt: true in users/${user.empId}.yaml to take it over, or choose another login`);
        continue;
      }
      const changes = this.diffUser(seen, user, groups) ?? {};
      if (!seen.managed) this.entries.push({ action: 'update', kind: 'user', name: login, changes, adopt: true, after: userAttributes(user, groups) });
      else if (Object.keys(changes).length > 0) this.entries.push({ action: 'update', kind: 'user', name: login, changes });
    }
  }

  /** Is the group named `login` the private group rollcall made for it (managed, gid = uid)? */
  private isOwnPrivateGroup(login: string, uid: number): boolean {
    const group = this.groupsByName.get(login);
    return group !== undefined && group.managed && group.gid === uid;
  }

  /** Managed accounts that no longer belong here: locked or deleted by policy.offboard. */
  private planOffboarding(): void {
    for (const seen of this.instance.users) {
      if (!seen.managed || isProtectedAccount(seen.login, seen.uid) || this.wanted.users.has(seen.login)) continue;
      if (this.policy.offboard === 'delete') {
        this.entries.push({ action: 'delete', kind: 'user', name: seen.login });
        continue;
      }
      const changes: UserChanges = {};
      if (seen.groups && seen.groups.length > 0) changes.groups = { before: sorted(seen.groups), after: [] };
      if (seen.sshKeys && seen.sshKeys.length > 0) changes.sshKeys = { before: sorted(seen.sshKeys), after: [] };
      if (seen.locked !== true) changes.locked = { before: seen.locked ?? false, after: true };
      if (seen.expires == null || seen.expires >= this.today) changes.expires = { before: seen.expires ?? null, after: LOCKED_EXPIRES };
      if (Object.keys(changes).length > 0) this.entries.push({ action: 'lock', kind: 'user', name: seen.login, changes });
    }
  }

  /**
   * The attributes the snapshot reports that differ from the desired ones, in a fixed order, or
   * undefined when none does. Attributes the snapshot leaves out (an unmanaged account's) are not
   * compared.
   */
  private diffUser(seen: ObservedUser, user: User, groups: readonly string[]): UserChanges | undefined {
    let changes: UserChanges | undefined;
    const home = `/home/${user.login}`;
    const expires = user.expires ?? null;
    if (seen.uid !== user.uid) (changes ??= {}).uid = { before: seen.uid, after: user.uid };
    if (seen.gid !== undefined && seen.gid !== user.uid) (changes ??= {}).gid = { before: seen.gid, after: user.uid };
    if (seen.name !== undefined && seen.name !== user.name) (changes ??= {}).name = { before: seen.name, after: user.name };
    if (seen.home !== undefined && seen.home !== home) (changes ??= {}).home = { before: seen.home, after: home };
    if (seen.shell !== undefined && seen.shell !== user.shell) (changes ??= {}).shell = { before: seen.shell, after: user.shell };
    if (seen.groups && !sameSet(seen.groups, groups)) (changes ??= {}).groups = { before: sorted(seen.groups), after: [...groups] };
    if (seen.sshKeys && !this.keys.sameKeys(seen.sshKeys, user)) (changes ??= {}).sshKeys = { before: sorted(seen.sshKeys), after: user.sshKeys };
    if (seen.locked !== undefined && seen.locked) (changes ??= {}).locked = { before: true, after: false };
    if (seen.expires !== undefined && seen.expires !== expires) (changes ??= {}).expires = { before: seen.expires, after: expires };
    return changes;
  }
}

/** Everything rollcall sets on the account of `user`, whose supplementary groups here are `groups`. */
function userAttributes(user: User, groups: readonly string[]): UserAttributes {
  return {
    uid: user.uid,
    gid: user.uid,
    name: user.name,
    home: `/home/${user.login}`,
    shell: user.shell,
    groups: [...groups],
    sshKeys: user.sshKeys,
    locked: false,
    expires: user.expires ?? null,
  };
}

/** Desired keys' fingerprints, computed once per user however many instances it is on. */
class KeyFingerprints {
  private readonly byUser = new Map<User, Set<string>>();

  sameKeys(observed: readonly string[], user: User): boolean {
    let wanted = this.byUser.get(user);
    if (!wanted) this.byUser.set(user, (wanted = new Set(user.sshKeys.map(keyFingerprint))));
    // authorized_keys must hold exactly the wanted keys, once each: a duplicate line is a difference too.
    if (observed.length !== wanted.size) return false;
    const distinct = observed.length > 1 ? new Set<string>() : undefined;
    for (const entry of observed) {
      const fingerprint = wanted.has(entry) || isKeyFingerprint(entry) ? entry : keyFingerprint(entry);
      if (!wanted.has(fingerprint)) return false;
      distinct?.add(fingerprint);
    }
    return !distinct || distinct.size === wanted.size;
  }
}

/** Plan entries counted by action, across all instances: a plan's `summary`. */
export function summarize(instances: Record<string, PlanEntry[]>): Record<PlanAction, number> {
  const summary: Record<PlanAction, number> = { create: 0, update: 0, lock: 0, delete: 0 };
  for (const entries of Object.values(instances)) for (const entry of entries) summary[entry.action]++;
  return summary;
}

function sorted(values: readonly string[]): string[] {
  return [...values].sort(compareStrings);
}


/** Does `values` (in any order, without repeats) hold exactly the sorted, distinct `wanted`? */
function sameSet(values: readonly string[], wanted: readonly string[]): boolean {
  if (values.length !== wanted.length) return false;
  for (const value of values) if (!wanted.includes(value)) return false;
  return values.length < 2 || new Set(values).size === values.length;
}
