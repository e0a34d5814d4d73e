import { RollcallError } from '../config/errors.js';
import type { PlatformPerson, ApprovalEvent } from '../requests/types.js';
import type { DingtalkOpenApi, DingtalkProcessInstance } from './dingtalk/open-api.js';
import type { ApprovalNotice } from './ingress-notice.js';
import type { LarkApprovalInstance, LarkOpenApi } from './lark/open-api.js';

/*
 * A notice says only "look at instance X". Confirmation fetches X from the platform's API and
 * builds the ApprovalEvent from that reply alone: a forged or stale event can at most make rollcall
 * look at an instance, never decide what it says.
 */

/** The result of confirming a notice: the approval, or why there is none (to log and drop). */
export type ConfirmedApproval = { ok: true; event: ApprovalEvent } | { ok: false; reason: string };

/** The open-API clients of the configured platforms. */
export interface ConfirmClients {
  dingtalk?: DingtalkOpenApi;
  lark?: LarkOpenApi;
}

/**
 * Fetches the notice's instance and, when it is finished and approved, returns the ApprovalEvent.
 * Not approved, not finished, or no client for the platform → `{ ok: false, reason }`.
 *
 * Everything comes from the reply but DingTalk's processCode: DingTalk's instance reply has none,
 * so the notice's (from the verified `bpms_instance_change` event) stands in. It picks the flow
 * of approvals.yaml; a forged one would need a forged delivery, which verification refuses.
 *
 * @throws RollcallError `cloud-api` when the platform fails after the client's retries (the
 *   notice should be kept and tried again) or the reply lacks what an ApprovalEvent needs.
 */
export async function confirmApproval(notice: ApprovalNotice, clients: ConfirmClients): Promise<ConfirmedApproval> {
  if (notice.platform === 'dingtalk') {
    if (clients.dingtalk === undefined) return { ok: false, reason: 'DingTalk is not configured (ROLLCALL_DINGTALK_APP_KEY and ROLLCALL_DINGTALK_APP_SECRET): cannot confirm the approval' };
    return dingtalkApproval(notice, await clients.dingtalk.processInstance(notice.instanceId));
  }
  if (clients.lark === undefined) return { ok: false, reason: 'Lark is not configured (ROLLCALL_LARK_APP_ID and ROLLCALL_LARK_APP_SECRET): cannot confirm the approval' };
  return larkApproval(notice, await clients.lark.approvalInstance(notice.instanceId));
}

/** The ApprovalEvent of a DingTalk instance; exported for tests of replies the emulator does not make. */
export function dingtalkApproval(notice: ApprovalNotice, instance: DingtalkProcessInstance): ConfirmedApproval {
  const id = notice.instanceId;
  if (instance.status !== 'COMPLETED') return { ok: false, reason: `DingTalk approval ${id} is ${instance.status}, not finished` };
  if (instance.result !== 'agree') return { ok: false, reason: `DingTalk approval ${id} finished with result ${instance.result || 'none'}, not agree` };

  const processCode = text(instance['processCode']) ?? notice.processCode;
  if (processCode === undefined) {
    throw new RollcallError('cloud-api', `DingTalk's reply for approval ${id} has no processCode, and the event did not give one: cannot tell which flow of approvals.yaml it belongs to`);
  }
  const finishedAt = isoTime(instance['finishTime']) ?? lastRecordTime(instance.operationRecords);
  if (finishedAt === undefined) throw new RollcallError('cloud-api', `DingTalk's reply for approval ${id} is COMPLETED but has no finishTime`);

  const approvers = dedupe(
    instance.tasks
      .filter((task) => task.result?.toUpperCase() === 'AGREE' && (task.status == null || task.status.toUpperCase() === 'COMPLETED'))
      .map((task) => person(task.userId, task, ['userName', 'name'])),
  );
  const form: Record<string, string> = {};
  for (const field of instance.formComponentValues) {
    if (!field.name || field.name in form) continue;
    form[field.name] = flattenPicker(field.value ?? '');
  }
  return {
    ok: true,
    event: {
      platform: 'dingtalk',
      approvalId: id,
      processCode,
      requester: person(instance.originatorUserId, instance, ['originatorUserName', 'originatorName']),
      approvers,
      form,
      finishedAt,
    },
  };
}

/** The ApprovalEvent of a Lark instance; exported for tests of replies the emulator does not make. */
export function larkApproval(notice: ApprovalNotice, instance: LarkApprovalInstance): ConfirmedApproval {
  const id = notice.instanceId;
  if (instance.status !== 'APPROVED') return { ok: false, reason: `Lark approval ${id} is ${instance.status}, not APPROVED` };

  const processCode = text(instance.approval_code);
  if (processCode === undefined) throw new RollcallError('cloud-api', `Lark's reply for approval ${id} has no approval_code: cannot tell which flow of approvals.yaml it belongs to`);
  const requesterId = text(instance.user_id) ?? text(instance.open_id);
  if (requesterId === undefined) throw new RollcallError('cloud-api', `Lark's reply for approval ${id} names no requester (neither user_id nor open_id)`);
  const finishedAt = isoTime(instance['end_time']);
  if (finishedAt === undefined) throw new RollcallError('cloud-api', `Lark's reply for approval ${id} is APPROVED but has no end_time`);

  const fromTasks = instance.task_list.filter((task) => task.status === 'APPROVED').map((task) => [text(task.user_id) ?? text(task.open_id), task] as const);
  const fromTimeline = instance.timeline.filter((entry) => entry.type === 'PASS').map((entry) => [text(entry.user_id) ?? text(entry.open_id), entry] as const);
  const approvers = dedupe(
    [...fromTasks, ...fromTimeline].flatMap(([personId, record]) => (personId === undefined ? [] : [person(personId, record, ['user_name', 'name'])])),
  );

  const form: Record<string, string> = {};
  for (const field of instance.form) {
    const label = text(field.name) ?? text(field.custom_id) ?? field.id;
    if (label in form) continue;
    form[label] = stringify(field.value);
  }
  return {
    ok: true,
    event: {
      platform: 'lark',
      approvalId: id,
      processCode,
      requester: person(requesterId, instance, ['user_name', 'name']),
      approvers,
      form,
      finishedAt,
    },
  };
}

/** A person by id, with the first of `nameFields` the record gives as a name. */
function person(id: string, record: Record<string, unknown>, nameFields: readonly string[]): PlatformPerson {
  const name = nameFields.map((field) => text(record[field])).find((value) => value !== undefined);
  return name === undefined ? { id } : { id, name };
}

/** Each person once, in the order they first appear (someone can approve two steps). */
function dedupe(people: readonly PlatformPerson[]): PlatformPerson[] {
  const seen = new Map<string, PlatformPerson>();
  for (const one of people) if (!seen.has(one.id)) seen.set(one.id, one);
  return [...seen.values()];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * DingTalk contact pickers (and some selects) give their value as a JSON list, `["Zhang San"]`:
 * a list of one string is that string, so a form field maps the same whichever widget it uses.
 */
function flattenPicker(value: string): string {
  if (!value.startsWith('[')) return value;
  try {
    const parsed = JSON.parse(value) as unknown;
    if (Array.isArray(parsed) && parsed.length === 1 && typeof parsed[0] === 'string') return parsed[0];
  } catch {
    // Not JSON after all: the value as written.
  }
  return value;
}

/** Lark values: strings as they are, numbers and booleans as text, lists of strings joined, anything else as JSON. */
function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(', ');
  return JSON.stringify(value);
}

/** A time as ISO 8601: epoch ms (number or digits; Lark's `"0"` means none) or a date string (DingTalk's `2026-11-28T00:12Z`). */
function isoTime(value: unknown): string | undefined {
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && /^\d+$/.test(value)) ms = Number(value);
  else if (typeof value === 'string' && value !== '') ms = Date.parse(value);
  else return undefined;
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}

function lastRecordTime(records: readonly Record<string, unknown>[]): string | undefined {
  const times = records.map((record) => isoTime(record['date'])).filter((time) => time !== undefined);
  return times.sort().at(-1);
}
