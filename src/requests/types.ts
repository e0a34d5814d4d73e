import type { Platform, RequestKind } from '../desired/schema.js';

/** Someone on a chat platform: their platform user id, and their name when the platform gave it. */
export interface PlatformPerson {
  /** DingTalk userId or Lark open_id / user_id. */
  id: string;
  name?: string;
}

/**
 * A finished, approved approval instance as ingress hands it over: verified, confirmed with the
 * platform's API, and platform-neutral from here on.
 */
export interface ApprovalEvent {
  platform: Platform;
  /** The approval instance id (DingTalk processInstanceId, Lark instance_code): the idempotency key. */
  approvalId: string;
  /** DingTalk processCode or Lark approval code: which flow of approvals.yaml this is. */
  processCode: string;
  requester: PlatformPerson;
  approvers: PlatformPerson[];
  /** Field label → value, as the form shows them. */
  form: Record<string, string>;
  /** When the instance finished (ISO 8601): the commit's author date. */
  finishedAt: string;
}

/** What one approval asks for, validated: the change of one user file. */
export interface Request {
  kind: RequestKind;
  /** Whose record: the file `users/<empId>.yaml`. */
  empId: string;
  login?: string;
  /** GECOS, for onboard. */
  name?: string;
  /** The role to grant or revoke (onboard: the first role, optional). */
  role?: string;
  /** Last day of a granted role, YYYY-MM-DD. */
  until?: string;
  /** One authorized_keys line without options, for onboard. */
  sshKey?: string;
  /** The subject's user id on the flow's platform, for onboard: written as `ids.<platform>`. */
  platformId?: string;
  /** The flow that made it: `<platform>/<process or approval code>`. */
  flow: string;
}

/** A user record as far as mapping an approval needs it. */
export interface KnownUser {
  empId: string;
  login: string;
  /**
   * The person's ids on each platform (the record's `ids`): a self-service requester's own record
   * is found by them, and so are the records of someone who left.
   */
  platformIds?: Partial<Record<Platform, string>>;
  /** The record's `state`; absent users are not offboarded again. Default present. */
  state?: 'present' | 'absent';
}

/** The {@link KnownUser} of a user record (as loaded, or as parsed from its YAML). */
export function knownUser(record: { empId: string; login: string; ids?: Partial<Record<Platform, string>> | undefined; state?: 'present' | 'absent' | undefined }): KnownUser {
  return {
    empId: record.empId,
    login: record.login,
    ...(record.ids !== undefined ? { platformIds: { ...record.ids } } : {}),
    ...(record.state !== undefined ? { state: record.state } : {}),
  };
}
