import { compareStrings } from '../desired/compare-strings.js';
import type { Hostgroup } from '../desired/schema.js';
import type { DesiredState, Role, User } from '../desired/types.js';

/** What one instance should have, given the hostgroups it is in. */
export interface DesiredOnInstance {
  /** By login. */
  users: Map<string, { user: User; groups: string[] }>;
  /** Groups the instance's desired users need, by name: gid when rollcall creates it, undefined when the host must have it. */
  groups: Map<string, { gid: number | undefined; role: string }>;
  /** sudoers.d file name → content. */
  sudoers: Map<string, string>;
}

/** Does the instance with this id and these tags belong to the hostgroup? */
export function inHostgroup(group: Hostgroup, instanceId: string, tags: Readonly<Record<string, string>>): boolean {
  if (group.instanceIds?.includes(instanceId)) return true;
  const wanted = Object.entries(group.tags ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => tags[key] === value);
}

/**
 * Finds the hostgroups of an instance without testing every hostgroup against every instance:
 * hostgroups are indexed by instance id and by one of their tags, and only those candidates are
 * checked in full.
 */
export class HostgroupIndex {
  private readonly byId = new Map<string, string[]>();
  private readonly byTag = new Map<string, string[]>();

  constructor(private readonly hostgroups: Readonly<Record<string, Hostgroup>>) {
    for (const name of Object.keys(hostgroups).sort(compareStrings)) {
      const group = hostgroups[name]!;
      for (const id of group.instanceIds ?? []) push(this.byId, id, name);
      const [first] = Object.entries(group.tags ?? {});
      if (first) push(this.byTag, tagKey(first[0], first[1]), name);
    }
  }

  /** The names of the hostgroups the instance is in, sorted. */
  of(instanceId: string, tags: Readonly<Record<string, string>>): string[] {
    const names = new Set(this.byId.get(instanceId));
    for (const key in tags) {
      for (const name of this.byTag.get(tagKey(key, tags[key]!)) ?? []) {
        if (inHostgroup(this.hostgroups[name]!, instanceId, tags)) names.add(name);
      }
    }
    return [...names].sort(compareStrings);
  }
}

function tagKey(key: string, value: string): string {
  return `${key}\0${value}`;
}

/** The sudoers.d file of a role: `%<first group> <rule>` per rule, under a header that says who owns it. */
export function sudoersFile(role: Role): { name: string; content: string } | undefined {
  const group = role.groups[0];
  if (role.sudo.length === 0 || !group) return undefined;
  const header = `# Managed by rollcall (role ${role.name}); edits here are overwritten.\n`;
  return { name: `rollcall-${role.name}`, content: header + role.sudo.map((rule) => `%${group.name} ${rule}\n`).join('') };
}

/**
 * Resolves the desired state for sets of hostgroups. Instances in the same hostgroups want the same
 * things, so each set is computed once, from indexes (roles by hostgroup, users by role): the cost
 * follows the size of the answer, not users × instances.
 */
export class DesiredResolver {
  private readonly cache = new Map<string, DesiredOnInstance>();
  private readonly rolesByHostgroup = new Map<string, Role[]>();
  private readonly grantsByRole = new Map<string, User[]>();
  private readonly sudoersByRole = new Map<string, { name: string; content: string } | undefined>();

  constructor(desired: DesiredState, today: string) {
    for (const role of desired.roles.values()) {
      for (const hostgroup of role.hostgroups) push(this.rolesByHostgroup, hostgroup, role);
      this.sudoersByRole.set(role.name, sudoersFile(role));
    }
    for (const user of desired.users) {
      if (user.state !== 'present' || (user.expires !== undefined && user.expires < today)) continue;
      for (const grant of user.roles) {
        if (grant.until === undefined || grant.until >= today) push(this.grantsByRole, grant.role, user);
      }
    }
  }

  /** `hostgroups` sorted: the cache key. */
  resolve(hostgroups: readonly string[]): DesiredOnInstance {
    const key = hostgroups.join('\0');
    let resolved = this.cache.get(key);
    if (!resolved) {
      resolved = this.compute(hostgroups);
      this.cache.set(key, resolved);
    }
    return resolved;
  }

  private compute(hostgroups: readonly string[]): DesiredOnInstance {
    const roles = new Map<string, Role>();
    for (const hostgroup of hostgroups) for (const role of this.rolesByHostgroup.get(hostgroup) ?? []) roles.set(role.name, role);

    const groupsOfUser = new Map<User, Set<string>>();
    const groups: DesiredOnInstance['groups'] = new Map();
    const sudoers: DesiredOnInstance['sudoers'] = new Map();
    for (const role of [...roles.values()].sort((a, b) => compareStrings(a.name, b.name))) {
      const holders = this.grantsByRole.get(role.name);
      if (!holders) continue;
      for (const user of holders) {
        let names = groupsOfUser.get(user);
        if (!names) groupsOfUser.set(user, (names = new Set()));
        for (const group of role.groups) names.add(group.name);
      }
      for (const group of role.groups) {
        const known = groups.get(group.name);
        if (!known || (known.gid === undefined && group.gid !== undefined)) groups.set(group.name, { gid: group.gid, role: role.name });
      }
      const file = this.sudoersByRole.get(role.name);
      if (file) sudoers.set(file.name, file.content);
    }
    // Sorted by name once here, so that every instance sharing these hostgroups iterates in order.
    const sortedGroups = new Map([...groups].sort(([a], [b]) => compareStrings(a, b)));
    const users: DesiredOnInstance['users'] = new Map();
    for (const [user, names] of groupsOfUser) users.set(user.login, { user, groups: [...names].sort(compareStrings) });
    return { users, groups: sortedGroups, sudoers };
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
