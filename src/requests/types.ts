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
  /** The flow that made it: `<platform>/<process or approval code>`. */
  flow: string;
}

/** A user record as far as mapping an approval needs it. */
export interface KnownUser {
  empId: string;
  login: string;
  /**
   * The person's ids on each platform, to find a self-service requester's own record. The user
   * file schema has no such field yet: callers fill it from wherever they keep that mapping.
   */
  platformIds?: Partial<Record<Platform, string>>;
}
