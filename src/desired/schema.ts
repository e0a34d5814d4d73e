import { z } from 'zod';
import { LINUX_NAME, LOGIN_SHELLS, RESERVED_NAMES, ROLE_NAME } from './linux-names.js';
import { parseSshKey } from './ssh-key.js';
import { checkSudoRule } from './sudo-rule.js';

/**
 * The desired-state files as zod schemas: the shape of each file and the formats of single values.
 * Checks that need more than one value (references, uniqueness, uid ranges) live in
 * `check-desired-state.ts`, where they can point at the YAML node at fault.
 *
 * Our own files are strict: an unknown field is an error (a typo must never be silently ignored).
 */

const WHOLE_DATE = 'must be a date written YYYY-MM-DD, like 2027-01-31';

export const LinuxName = z
  .string({ error: 'must be a string' })
  .regex(LINUX_NAME, { error: 'must be a Linux name: a lowercase letter or _, then up to 31 of a-z 0-9 _ - (^[a-z_][a-z0-9_-]{0,31}$)' });

export const RoleName = z
  .string({ error: 'must be a role name (a string)' })
  .regex(ROLE_NAME, { error: 'must be a role name: a lowercase letter, then a-z 0-9 _ - (no dots: sudo skips sudoers.d files with a dot)' });

export const HostgroupName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, { error: 'must be a hostgroup name: a lowercase letter, then a-z 0-9 _ -' });

export const IsoDate = z.iso.date({ error: WHOLE_DATE });

/** `30s`, `10m`, `1h`: the drift check period. */
export const Duration = z
  .string({ error: 'must be a duration like 30s, 10m or 1h' })
  .regex(/^[1-9][0-9]*(s|m|h)$/, { error: 'must be a duration like 30s, 10m or 1h' });

export const EnvName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'must be the name of an environment variable (A-Z, 0-9, _)' });

const IdNumber = z.int({ error: 'must be a whole number' });

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A string schema whose values `check` judges: it returns why a value is wrong, or undefined. */
function checkedString(check: (value: string) => string | undefined, typeError = 'must be a string') {
  return z.string({ error: typeError }).superRefine((value, ctx) => {
    const error = check(value);
    if (error) ctx.addIssue({ code: 'custom', message: error, input: value });
  });
}

export const Login = LinuxName.refine((login) => !RESERVED_NAMES.has(login), {
  error: (issue) => `"${String(issue.input)}" is reserved for a system account or group; choose another login`,
});

/** The GECOS field of /etc/passwd. */
export const Gecos = checkedString((name) =>
  name.includes(':') || CONTROL_CHARACTERS.test(name)
    ? 'must not contain ":", newlines or control characters (it is the GECOS field of /etc/passwd)'
    : undefined,
);

export const Shell = checkedString((shell) =>
  LOGIN_SHELLS.includes(shell) ? undefined : `"${shell}" is not a login shell rollcall knows (${LOGIN_SHELLS.join(', ')})`,
);

/** One authorized_keys line: `[options] type base64 [comment]`. */
export const SshKeyLine = checkedString((line) => {
  const parsed = parseSshKey(line);
  return parsed.ok ? undefined : parsed.error;
}, 'ssh keys must be strings');

/** The part of a sudoers line after `%<group> `. */
export const SudoRule = checkedString(checkSudoRule, 'sudo rules must be strings');

// ── fleet.yaml ────────────────────────────────────────────────────────────────────────────────

export const Hostgroup = z.strictObject(
  {
  /** Instances whose ECS tags include all of these. */
  tags: z.record(z.string(), z.string({ error: 'tag values must be strings: quote numbers and booleans' })).optional(),
  /** Instances by id. An id that no longer exists is a warning, not an error. */
  instanceIds: z.array(z.string().regex(/^i-[a-z0-9]+$/, { error: 'must be an ECS instance id like i-uf6abc0001' })).optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be a mapping: { tags: { key: value } } or { instanceIds: [i-…] }' : undefined) },
);
export type Hostgroup = z.output<typeof Hostgroup>;

export const Policy = z.strictObject({
  /** rollcall allocates uids here; it never touches uid < 1000. */
  uidRange: z.tuple([IdNumber, IdNumber], { error: 'must be a pair [first, last] of whole numbers, like [20000, 29999]' }),
  offboard: z.enum(['lock', 'delete'], { error: 'must be lock or delete' }).default('lock'),
  /** Distinct logins one plan may lock or delete; more refuses the plan. */
  maxDeletions: z.int({ error: 'must be a whole number' }).min(0, { error: 'must be 0 or more' }).default(10),
  drift: z.enum(['correct', 'detect'], { error: 'must be correct or detect' }).default('correct'),
  interval: Duration.default('10m'),
  /** The day boundaries of `expires` and `until`. */
  timezone: z
    .string()
    .refine(isTimeZone, { error: 'must be an IANA time zone like Asia/Shanghai or UTC' })
    .default('UTC'),
  /** Root-equivalent groups a role may grant. */
  privilegedGroups: z.array(LinuxName).default([]),
  /**
   * Days before a user's `expires` or a grant's `until` that the user's request channel is
   * reminded of it (who loses what, and when); 0 sends no reminders.
   */
  remindBefore: z.int({ error: 'must be a whole number of days' }).min(0, { error: 'must be 0 or more days' }).max(365, { error: 'must be at most 365 days' }).default(7),
});
export type Policy = z.output<typeof Policy>;

export const FleetFile = z.strictObject({
  region: z.string().regex(/^[a-z]{2}-[a-z0-9-]+$/, { error: 'must be an Alibaba Cloud region id like cn-hangzhou' }),
  hostgroups: z.record(HostgroupName, Hostgroup),
  policy: Policy,
});
export type FleetFile = z.output<typeof FleetFile>;

// ── roles/<role>.yaml ─────────────────────────────────────────────────────────────────────────

export const RoleGroup = z.strictObject({
  name: LinuxName,
  /** Without a gid the group must already exist on the host; with one, rollcall creates it. */
  gid: IdNumber.optional(),
});
export type RoleGroup = z.output<typeof RoleGroup>;

export const RoleFile = z.strictObject({
  description: z.string().optional(),
  hostgroups: z.array(HostgroupName).min(1, { error: 'must name at least one hostgroup' }),
  /** Supplementary groups; a bare name is short for `{ name }`. */
  groups: z.array(z.union([LinuxName, RoleGroup], { error: 'must be a group name or { name, gid }' })).default([]),
  /** Written as `%<first group> <rule>` lines to /etc/sudoers.d/rollcall-<role>. */
  sudo: z.array(SudoRule).default([]),
});
export type RoleFile = z.output<typeof RoleFile>;

// ── users/<empId>.yaml ────────────────────────────────────────────────────────────────────────

export const RoleGrant = z.strictObject({
  role: RoleName,
  /** Last day of this grant, in policy.timezone. */
  until: IsoDate.optional(),
});
export type RoleGrant = z.output<typeof RoleGrant>;

export const EmpId = z
  .string({ error: 'must be a string: quote numeric ids, like empId: "10042"' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: 'must be letters, digits, _ . - (it is also the file name)' });

/** A person's user id on a chat platform: DingTalk userId, Lark open_id or user_id. */
export const PlatformUserId = z
  .string({ error: 'must be a string: quote numeric ids, like dingtalk: "0123456789"' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, { error: 'must be a platform user id: letters, digits, _ . @ - (up to 64)' });

/**
 * The person's user id on each chat platform. Self-service flows (`subject: originator`) find the
 * requester's own record by it, and people who leave the organization are offboarded by it
 * (DingTalk user_leave_org, Lark contact.user.deleted_v3). Onboarding flows fill it in.
 */
export const PlatformIds = z.strictObject({
  /** DingTalk userId. */
  dingtalk: PlatformUserId.optional(),
  /** Lark open_id (or user_id, whichever the events carry). */
  lark: PlatformUserId.optional(),
});
export type PlatformIds = z.output<typeof PlatformIds>;

export const UserFile = z.strictObject({
  empId: EmpId,
  login: Login,
  uid: IdNumber,
  /** GECOS. */
  name: Gecos.default(''),
  roles: z.array(z.union([RoleName, RoleGrant], { error: 'must be a role name or { role, until }' })),
  sshKeys: z.array(SshKeyLine).default([]),
  shell: Shell.default('/bin/bash'),
  /** Last day of access, in policy.timezone; offboarded after it. */
  expires: IsoDate.optional(),
  state: z.enum(['present', 'absent'], { error: 'must be present or absent' }).default('present'),
  /** Lets rollcall take over an existing account with this login that it did not create. */
  adopt: z.boolean({ error: 'must be true or false' }).default(false),
  /** The person's ids on the chat platforms: how self-service requests and leavers find this record. */
  ids: PlatformIds.optional(),
});
export type UserFile = z.output<typeof UserFile>;

// ── approvals.yaml ────────────────────────────────────────────────────────────────────────────

export const Platform = z.enum(['dingtalk', 'lark'], { error: 'must be dingtalk or lark' });
export type Platform = z.output<typeof Platform>;

export const RequestKind = z.enum(['onboard', 'offboard', 'grant', 'revoke'], {
  error: 'must be onboard, offboard, grant or revoke',
});
export type RequestKind = z.output<typeof RequestKind>;

/** Which form field holds which value: the values are the fields' labels in the approval form. */
export const FlowFields = z.strictObject({
  empId: z.string().optional(),
  login: z.string().optional(),
  name: z.string().optional(),
  role: z.string().optional(),
  until: z.string().optional(),
  sshKey: z.string().optional(),
  expires: z.string().optional(),
  /**
   * The field holding the subject's platform user id (a contact picker): an onboarding stores it
   * as the new record's `ids.<platform>`.
   */
  userId: z.string().optional(),
});
export type FlowFields = z.output<typeof FlowFields>;

export const Flow = z.strictObject({
  platform: Platform,
  /** DingTalk's id of the approval template. */
  processCode: z.string().optional(),
  /** Lark's id of the approval definition. */
  approvalCode: z.string().optional(),
  request: RequestKind,
  /** Whose record the request changes: the one a form field names, or the requester's own. */
  subject: z.enum(['field', 'originator'], { error: 'must be field or originator' }).default('field'),
  /** Roles this flow may grant. */
  roles: z.array(RoleName).default([]),
  fields: FlowFields.default({}),
  /** The channel results are posted to. */
  notify: z.string(),
});
export type Flow = z.output<typeof Flow>;

export const Channel = z.strictObject({
  platform: Platform,
  /** The environment variable holding the robot's webhook URL (secrets only by env). */
  webhookEnv: EnvName,
  /** The environment variable holding the robot's signing secret. */
  secretEnv: EnvName.optional(),
});
export type Channel = z.output<typeof Channel>;

export const ApprovalsFile = z.strictObject({
  flows: z.array(Flow).default([]),
  channels: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/, { error: 'must be a channel name: a lowercase letter, then a-z 0-9 _ -' }), Channel).default({}),
});
export type ApprovalsFile = z.output<typeof ApprovalsFile>;

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
