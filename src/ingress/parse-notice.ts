import { z } from 'zod';
import type { IngressNotice, IngressPath } from './ingress-notice.js';

/*
 * Verified, decrypted platform events → IngressNotice. Pure and lenient: the platforms add fields
 * and vary their casing between HTTP push and stream, so only what a notice needs is read, and an
 * event that is not about a finished approval or a departure is ignored with a reason (logged),
 * never an error. Nothing here is trusted beyond the instance id: the instance is fetched again
 * (confirm-approval.ts) before anything happens.
 */

/** What a platform event becomes: a notice, or a reason it needs none (to log). */
export type ParsedNotice = { notice: IngressNotice } | { ignored: string };

/** What a decrypted DingTalk HTTP push becomes: the URL check is answered, not recorded. */
export type ParsedDingtalkHttpEvent = ParsedNotice | { checkUrl: true };

const id = z.union([z.string().min(1), z.number().transform(String)]);
const idList = z.union([id.transform((one) => [one]), z.array(z.unknown()).transform((values) => values.flatMap((value) => (typeof value === 'string' && value !== '' ? [value] : typeof value === 'number' ? [String(value)] : [])))]);

const BpmsInstanceChange = z.looseObject({
  processInstanceId: id,
  processCode: z.string().min(1).nullish().catch(undefined),
  type: z.string().nullish().catch(undefined),
  result: z.string().nullish().catch(undefined),
});

/** DingTalk over HTTP sends `UserId: [...]`, over stream `userId`; either may be one id or a list. */
const DingtalkUserLeave = z.looseObject({
  UserId: idList.nullish().catch(undefined),
  userId: idList.nullish().catch(undefined),
  userIds: idList.nullish().catch(undefined),
});

const LarkApprovalInstance = z.looseObject({
  instance_code: z.string().min(1),
  approval_code: z.string().min(1).nullish().catch(undefined),
  status: z.string().nullish().catch(undefined),
});

const LarkUserDeleted = z.looseObject({
  object: z.looseObject({
    open_id: z.string().nullish(),
    user_id: z.string().nullish(),
    union_id: z.string().nullish(),
  }),
});

/**
 * A DingTalk event (HTTP push fields, or a stream frame's `data`) as a notice.
 * - `bpms_instance_change` with `type: finish` and `result: agree` → approval notice (other types
 *   and results are ignored: only a finished, approved instance can change anything);
 * - `user_leave_org` → user-left notice with every id given;
 * - anything else is ignored.
 *
 * @param eventId the delivery's id (stream `eventId`, HTTP `eventId` when present). Without one, a
 *   stable id is derived from the content (`bpms_instance_change:<instance>:finish`,
 *   `user_leave_org:<ids>:<time>`) so that a redelivery of the same push deduplicates.
 * @param receivedAt when no time is in the event, the departure's time (default: now).
 */
export function noticeFromDingtalkEvent(eventType: string, eventId: string | undefined, data: Record<string, unknown>, via: IngressPath, receivedAt?: Date): ParsedNotice {
  if (eventType === 'bpms_instance_change') {
    const parsed = BpmsInstanceChange.safeParse(data);
    if (!parsed.success) return { ignored: 'a DingTalk bpms_instance_change without a processInstanceId' };
    const { processInstanceId, processCode, type, result } = parsed.data;
    if (type !== 'finish') return { ignored: `DingTalk approval ${processInstanceId} changed (${type ?? 'no type'}), not finished` };
    if (result !== 'agree') return { ignored: `DingTalk approval ${processInstanceId} finished with result ${result ?? 'none'}, not agree` };
    return {
      notice: {
        kind: 'approval',
        platform: 'dingtalk',
        eventId: eventId ?? `bpms_instance_change:${processInstanceId}:finish`,
        instanceId: processInstanceId,
        // DingTalk's instance reply has no processCode: confirmApproval falls back on the event's.
        ...(processCode ? { processCode } : {}),
        via,
      },
    };
  }
  if (eventType === 'user_leave_org') {
    const parsed = DingtalkUserLeave.safeParse(data);
    const userIds = parsed.success ? unique([...(parsed.data.UserId ?? []), ...(parsed.data.userId ?? []), ...(parsed.data.userIds ?? [])]) : [];
    if (userIds.length === 0) return { ignored: 'a DingTalk user_leave_org without any UserId' };
    const at = timeOf(data, ['TimeStamp', 'timeStamp', 'timestamp', 'eventBornTime']);
    return {
      notice: {
        kind: 'user-left',
        platform: 'dingtalk',
        eventId: eventId ?? `user_leave_org:${userIds.join(',')}:${at ?? 'undated'}`,
        userIds,
        at: at ?? (receivedAt ?? new Date()).toISOString(),
        via,
      },
    };
  }
  return { ignored: `DingTalk event ${JSON.stringify(eventType.slice(0, 64))} is not one rollcall acts on` };
}

const DingtalkHttpEvent = z.looseObject({ EventType: z.string().min(1), eventId: z.string().min(1).optional() });

/**
 * A decrypted DingTalk HTTP push (`EventType` and the event's fields at the top level). The URL
 * check (`check_url`) is `{ checkUrl: true }`: answered with success, nothing recorded.
 */
export function noticeFromDingtalkHttpEvent(event: unknown, via: IngressPath, receivedAt?: Date): ParsedDingtalkHttpEvent {
  const parsed = DingtalkHttpEvent.safeParse(event);
  if (!parsed.success) return { ignored: 'a DingTalk push without an EventType' };
  if (parsed.data.EventType === 'check_url') return { checkUrl: true };
  return noticeFromDingtalkEvent(parsed.data.EventType, parsed.data.eventId, parsed.data, via, receivedAt);
}

/**
 * A Lark event (what `verifyLarkCallback` returns, or the long connection's event) as a notice.
 * - v1 `approval_instance` and v2 `approval.instance.status_changed_v4` with status APPROVED →
 *   approval notice (other statuses are ignored);
 * - `contact.user.deleted_v3` → user-left notice with every id in `event.object`;
 * - anything else is ignored.
 *
 * @param receivedAt when the event carries no time (v2 events keep it in the header), the
 *   departure's time (default: now).
 */
export function noticeFromLarkEvent(eventType: string, eventId: string, event: Record<string, unknown>, via: IngressPath, receivedAt?: Date): ParsedNotice {
  if (eventType === 'approval_instance' || eventType === 'approval.instance.status_changed_v4') {
    const parsed = LarkApprovalInstance.safeParse(event);
    if (!parsed.success) return { ignored: `a Lark ${eventType} without an instance_code` };
    const { instance_code: instanceId, approval_code: processCode, status } = parsed.data;
    if (status?.toUpperCase() !== 'APPROVED') return { ignored: `Lark approval ${instanceId} is ${status ?? 'without a status'}, not APPROVED` };
    return { notice: { kind: 'approval', platform: 'lark', eventId, instanceId, ...(processCode ? { processCode } : {}), via } };
  }
  if (eventType === 'contact.user.deleted_v3') {
    const parsed = LarkUserDeleted.safeParse(event);
    if (!parsed.success) return { ignored: 'a Lark contact.user.deleted_v3 without an object' };
    const { open_id: openId, user_id: userId, union_id: unionId } = parsed.data.object;
    const userIds = unique([openId, userId, unionId].filter((value): value is string => typeof value === 'string' && value !== ''));
    if (userIds.length === 0) return { ignored: 'a Lark contact.user.deleted_v3 without open_id, user_id or union_id' };
    const at = timeOf(event, ['ts', 'create_time', 'operate_time']);
    return { notice: { kind: 'user-left', platform: 'lark', eventId, userIds, at: at ?? (receivedAt ?? new Date()).toISOString(), via } };
  }
  return { ignored: `Lark event ${JSON.stringify(eventType.slice(0, 64))} is not one rollcall acts on` };
}

/** The first of `fields` that is an epoch time (seconds or ms, number or digits, Lark's `ts` with a fraction), as ISO 8601. */
function timeOf(data: Record<string, unknown>, fields: readonly string[]): string | undefined {
  for (const field of fields) {
    const value = data[field];
    const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,16}(\.\d+)?$/.test(value) ? Number(value) : undefined;
    if (number === undefined || !Number.isFinite(number) || number <= 0) continue;
    // Seconds until 2286 are below 1e10; milliseconds since 1970-04 are above.
    const ms = number < 1e10 ? Math.round(number * 1000) : Math.round(number);
    const date = new Date(ms);
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  return undefined;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
