import type { Platform } from '../desired/schema.js';
import type { ChangeLine, ResultTrigger } from '../source/result-notes.js';

/**
 * What rollcall tells a chat group about, as data: the reconciler and the request path produce
 * these, `render-*.ts` turn them into each platform's message, the outbox stores them. Nothing in
 * here is platform markup.
 */
export type NotifyEvent =
  | RequestReceivedEvent
  | RequestRefusedEvent
  | PlanEvent
  | AppliedEvent
  | DriftEvent
  | StalledEvent
  | ReminderEvent
  | DigestEvent;

/** Someone on a chat platform. */
export interface ChatPerson {
  /** The platform's user id (DingTalk userId, Lark open_id / user_id): what a mention needs. */
  id: string;
  name?: string;
  /**
   * The platform the id belongs to, when known: a message rendered for the other platform names
   * the person instead of mentioning an id that means nothing there.
   */
  platform?: Platform;
}

/** The approval a message is about. */
export interface ApprovalRef {
  platform: Platform;
  /** DingTalk processInstanceId, Lark instance_code. */
  id: string;
  requester: ChatPerson;
  approvers: ChatPerson[];
}

/** A commit of the desired-state repository. */
export interface RevisionRef {
  /** Full sha. */
  sha: string;
  subject: string;
  /** `Approval: <platform>/<id>` of the commit, when an approval made it. */
  approval?: string;
  /** Who asked for it (`Requested-by: Name <platform:id>`): the plan and the results mention them. */
  requester?: ChatPerson;
}

/** Where people can look further: each becomes a link button where the platform has them. */
export interface Links {
  pullRequest?: string;
  status?: string;
  history?: string;
}

/** An approval became a commit (local provider) or a pull request (github). */
export interface RequestReceivedEvent {
  kind: 'request-received';
  approval: ApprovalRef;
  request: { kind: 'onboard' | 'offboard' | 'grant' | 'revoke'; empId: string; login?: string; role?: string; until?: string };
  /** `rollcall/<platform>-<id>`. */
  branch: string;
  sha: string;
  links: Links;
}

/** An approval that makes no change, and why, in words for the requester. */
export interface RequestRefusedEvent {
  kind: 'request-refused';
  approval: ApprovalRef;
  reason: string;
}

/** What a revision will change, before it is applied: counts per action, and where. */
export interface PlanEvent {
  kind: 'plan';
  revision: RevisionRef;
  instances: { id: string; changes: ChangeLine[] }[];
  links: Links;
}

/** How one instance ended. */
export interface InstanceOutcome {
  id: string;
  ok: boolean;
  /** The operation that failed first (`create user zhangsan`), and its error. */
  failedOperation?: string;
  error?: string;
}

/** A revision (or a drift correction, or a new instance) was applied. */
export interface AppliedEvent {
  kind: 'applied';
  revision: RevisionRef;
  trigger: ResultTrigger;
  durationMs: number;
  /** Logins by what happened to them, on at least one instance; each list sorted. */
  accounts: { created: string[]; updated: string[]; locked: string[]; deleted: string[] };
  instances: InstanceOutcome[];
  links: Links;
}

/** Instances that differ from the revision in force: found (detect) or corrected. */
export interface DriftEvent {
  kind: 'drift';
  corrected: boolean;
  revision: RevisionRef;
  instances: { id: string; changes: ChangeLine[] }[];
  links: Links;
}

/** Why the reconciler is stuck: the operators must act. */
export interface StalledEvent {
  kind: 'stalled';
  reason: 'invalid-revision' | 'deletion-guard' | 'unreachable' | 'apply-failed';
  revision?: RevisionRef;
  message: string;
  /** `file:line:col: message` of an invalid revision. */
  problems?: string[];
  links: Links;
}

/** `policy.remindBefore` a user's `expires` or a role's `until`: who loses what, and when. */
export interface ReminderEvent {
  kind: 'reminder';
  empId: string;
  login: string;
  /** The whole account, or one role. */
  loses: { account: true } | { role: string };
  /** YYYY-MM-DD, the last day of access (policy.timezone). */
  on: string;
  /** The user's platform id, for a mention. */
  mention?: ChatPerson;
}

/**
 * Several events merged into one message, because a robot's rate would otherwise be exceeded.
 * Every event stays in it (counted and, within the platform's size limit, listed).
 */
export interface DigestEvent {
  kind: 'digest';
  events: Exclude<NotifyEvent, DigestEvent>[];
  /** The window the digest covers (ISO 8601). */
  from: string;
  to: string;
}
