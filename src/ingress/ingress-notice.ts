import type { Platform } from '../desired/schema.js';

/** How a delivery reached rollcall. */
export type IngressPath = 'http' | 'stream' | 'eventbridge';

/**
 * A verified delivery saying that an approval instance changed. Nothing in it is acted on but the
 * instance id: the instance is fetched from the platform's API before anything happens.
 */
export interface ApprovalNotice {
  kind: 'approval';
  platform: Platform;
  /** The delivery's own id (DingTalk eventId / messageId, Lark uuid / event_id): what retries repeat. */
  eventId: string;
  /** DingTalk processInstanceId, Lark instance_code. */
  instanceId: string;
  /**
   * The process or approval code the event named, unverified: only used to skip, without an API
   * call, approvals of flows rollcall has no business with (a company runs many approval flows).
   */
  processCode?: string;
  via: IngressPath;
}

/**
 * A verified delivery saying that people left the organisation (DingTalk `user_leave_org`, Lark
 * `contact.user.deleted_v3`): the user records carrying one of these platform ids are offboarded.
 */
export interface UserLeftNotice {
  kind: 'user-left';
  platform: Platform;
  eventId: string;
  /** Every id the event gives for the people who left (DingTalk userId; Lark open_id, user_id, union_id). */
  userIds: string[];
  /** When they left, ISO 8601 (the event's time): the offboarding commit's author date. */
  at: string;
  via: IngressPath;
}

export type IngressNotice = ApprovalNotice | UserLeftNotice;

/**
 * Where ingress hands a verified notice. Synchronous on purpose: it is called before the delivery
 * is acknowledged (a stream SDK's listener must return its ack synchronously), and it must make
 * the notice durable (the state store) before returning, so that an acknowledged delivery is
 * never lost. Returns false when the notice was seen before (a redelivery): acknowledged, ignored.
 */
export type NoticeSink = (notice: IngressNotice) => boolean;
