import type { ApprovalsFile, FleetFile, RoleGrant, RoleGroup, UserFile } from './schema.js';

/** A role with its shorthand expanded: every group is `{ name, gid? }`. */
export interface Role {
  name: string;
  description?: string;
  hostgroups: string[];
  groups: RoleGroup[];
  sudo: string[];
}

/** A user record with its shorthand expanded: every grant is `{ role, until? }`. */
export interface User extends Omit<UserFile, 'roles'> {
  roles: RoleGrant[];
}

/** Everything under desired-state/, loaded, defaulted and cross-checked. */
export interface DesiredState {
  fleet: FleetFile;
  /** By role name, sorted. */
  roles: ReadonlyMap<string, Role>;
  /** Sorted by empId. */
  users: readonly User[];
  approvals: ApprovalsFile;
  /**
   * What this state is: the commit sha when it comes from a clean git tree (the caller sets that),
   * else `sha256:` of the loaded files' paths and contents.
   */
  revision: string;
}
