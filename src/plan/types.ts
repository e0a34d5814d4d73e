import type { Policy } from '../desired/schema.js';

export type PlanAction = 'create' | 'update' | 'lock' | 'delete';
export type PlanKind = 'group' | 'sudoers' | 'user';

/** One attribute's difference: the value on the instance, and the value rollcall will set. */
export interface Change<T> {
  before: T;
  after: T;
}

/** Everything rollcall sets on a user account. */
export interface UserAttributes {
  uid: number;
  /** The private primary group, always `gid = uid`. */
  gid: number;
  /** GECOS. */
  name: string;
  home: string;
  shell: string;
  /** Supplementary groups, sorted. */
  groups: string[];
  /** authorized_keys lines, as written in the user file. */
  sshKeys: string[];
  locked: boolean;
  /** Last day of access, or null. */
  expires: string | null;
}

export type UserChanges = { [K in keyof UserAttributes]?: Change<UserAttributes[K]> };

export type PlanEntry =
  | { action: 'create'; kind: 'group'; name: string; after: { gid: number } }
  | { action: 'update'; kind: 'group'; name: string; changes: { gid: Change<number> } }
  | { action: 'delete'; kind: 'group'; name: string }
  | { action: 'create'; kind: 'sudoers'; name: string; after: { content: string } }
  | { action: 'update'; kind: 'sudoers'; name: string; changes: { content: Change<string> } }
  | { action: 'delete'; kind: 'sudoers'; name: string }
  | { action: 'create'; kind: 'user'; name: string; after: UserAttributes }
  /**
   * `adopt` takes over an account rollcall did not create: `after` then carries every attribute,
   * because the snapshot may not have reported the unmanaged account's.
   */
  | { action: 'update'; kind: 'user'; name: string; changes: UserChanges; adopt?: true; after?: UserAttributes }
  /** Lock: password locked, expiry in the past, keys and supplementary groups removed. */
  | { action: 'lock'; kind: 'user'; name: string; changes: UserChanges }
  | { action: 'delete'; kind: 'user'; name: string };

/** Something that stops a plan (or one instance of it) from being applied. */
export interface PlanProblem {
  /** The instance it concerns; absent for the plan as a whole (the deletion guard). */
  instance?: string;
  message: string;
}

export interface Plan {
  /** What the plan brings the fleet to: a commit sha, or `sha256:` of the loaded files. */
  revision: string;
  /** Plan entries by action, across all instances. */
  summary: Record<PlanAction, number>;
  /** Entries per instance id, both sorted; instances without changes are left out. */
  instances: Record<string, PlanEntry[]>;
  /** When not empty the plan must not be applied (an instance's errors hold that instance back). */
  errors: PlanProblem[];
  /** Worth a look, but not in the way: an instance in no hostgroup, an instance id that is gone. */
  warnings: PlanProblem[];
}

/** The policy the planner follows: fleet.yaml's, plus what the revision's commit allows. */
export interface PlanPolicy extends Omit<Policy, 'remindBefore'> {
  /** From the commit trailer `Rollcall-Allow-Deletions: N`: lifts `maxDeletions` to N for this revision. */
  allowDeletions?: number;
}

/** The state a lock leaves: an expiry day in the past that needs no clock to compute. */
export const LOCKED_EXPIRES = '1970-01-01';
