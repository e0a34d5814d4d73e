import { createHash } from 'node:crypto';
import type { Platform } from '../desired/schema.js';
import type { ApprovalEvent, KnownUser, Request } from './types.js';

/** The events that say someone left the organization, by platform. */
export const LEAVER_EVENTS: Readonly<Record<Platform, string>> = {
  dingtalk: 'user_leave_org',
  lark: 'contact.user.deleted_v3',
};

const PLATFORM_NAMES: Readonly<Record<Platform, string>> = { dingtalk: 'DingTalk', lark: 'Lark' };

/** One platform event saying that people left, as ingress hands it over (verified). */
export interface LeaverEvent {
  platform: Platform;
  /** The event's own id (DingTalk's event id, Lark's header.event_id): with the empId, the idempotency key. */
  eventId: string;
  /** `user_leave_org`, `contact.user.deleted_v3`: the form of record says which. Default {@link LEAVER_EVENTS}. */
  eventType?: string;
  /**
   * The platform user ids of the people who left: DingTalk userId; for Lark both the open_id and the
   * user_id of the event, since a record may carry either.
   */
  userIds: readonly string[];
  /** When the event happened (ISO 8601): the commits' author date. */
  occurredAt: string;
}

/**
 * The offboard requests for people who left: one per record that carries one of `userIds` as its
 * id on `platform` and is not absent already. Records without that platform's id are not matched
 * (people are never guessed by name). Pure.
 */
export function offboardsForLeaver(platform: Platform, userIds: readonly string[], users: readonly KnownUser[], eventType: string = LEAVER_EVENTS[platform]): Request[] {
  const leaving = new Set(userIds);
  return users
    .filter((user) => user.state !== 'absent')
    .filter((user) => {
      const id = user.platformIds?.[platform];
      return id !== undefined && leaving.has(id);
    })
    .map((user): Request => ({ kind: 'offboard', empId: user.empId, flow: `${platform}/${eventType}` }));
}

/**
 * The approval of record for offboarding `request.empId` because of a leaver event: the platform
 * itself is the requester, there are no approvers, and the form names the event and the user id.
 * Its approval id is `<eventId>-<empId>` (one event may offboard several records, each once), made
 * a valid branch name: characters other than letters, digits, `_` and `-` become `_`, and when that
 * (or a length over 128) changed the text, a hash of the original keeps distinct ids distinct.
 */
export function leaverApproval(event: LeaverEvent, request: Request, userId: string): ApprovalEvent {
  const eventType = event.eventType ?? LEAVER_EVENTS[event.platform];
  return {
    platform: event.platform,
    approvalId: leaverApprovalId(event.eventId, request.empId),
    processCode: eventType,
    requester: { id: eventType, name: PLATFORM_NAMES[event.platform] },
    approvers: [],
    form: { event: eventType, eventId: event.eventId, userId },
    finishedAt: event.occurredAt,
  };
}

/**
 * The offboard requests of one leaver event, each with its approval of record, ready for a
 * provider's `submit`. Pure.
 */
export function leaverSubmissions(event: LeaverEvent, users: readonly KnownUser[]): { event: ApprovalEvent; request: Request }[] {
  const eventType = event.eventType ?? LEAVER_EVENTS[event.platform];
  return offboardsForLeaver(event.platform, event.userIds, users, eventType).map((request) => {
    const userId = users.find((user) => user.empId === request.empId)?.platformIds?.[event.platform] ?? '';
    return { event: leaverApproval(event, request, userId), request };
  });
}

/** `<eventId>-<empId>` as a valid, stable approval id (see {@link leaverApproval}). */
export function leaverApprovalId(eventId: string, empId: string): string {
  const raw = `${eventId}-${empId}`;
  const clean = raw.replace(/[^A-Za-z0-9_-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  if (clean === raw && clean.length <= 128) return clean;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 12);
  return `${clean.slice(0, 115) || 'event'}-${hash}`;
}
