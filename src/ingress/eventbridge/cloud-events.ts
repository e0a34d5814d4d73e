import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { constantTimeEqual } from '../callback-checks.js';
import type { IngressNotice } from '../ingress-notice.js';
import { noticeFromDingtalkEvent, noticeFromLarkEvent } from '../parse-notice.js';
import { HTTP_EVENT_TYPE, readApprovalWebhook, type ApprovalWebhookSecrets, type WebhookRefusal } from './approval-webhooks.js';

/*
 * CloudEvents from EventBridge's HTTP target: Cloud Assistant's (acs.ecs) and the approval
 * platforms': their own webhooks as the stack's HTTPS event sources wrap them (HTTPEvents,
 * verified here with the platforms' secrets), or events already decrypted (data = the event).
 * What an event says is read leniently; what the envelope must have (id, source, type) is not.
 */

/** The sources rollcall reads; anything else is ignored. */
export const CLOUD_EVENT_SOURCES = { dingtalk: 'dingtalk.approval', lark: 'lark.approval', ecs: 'acs.ecs' } as const;
export const FIRST_HEARTBEAT = 'ecs:CloudAssistant:FirstHeartbeat';
export const TASK_COMPLETED = 'ecs:CloudAssistant:TaskCompleted';

/** What one CloudEvent means to rollcall. */
export type CloudEventMeaning =
  /** A finished approval or a departure, from `dingtalk.approval` / `lark.approval`; the CloudEvent id is its event id. */
  | { kind: 'notice'; notice: IngressNotice }
  /** Cloud Assistant's agent on a new instance reported for the first time. */
  | { kind: 'instance-appeared'; instanceId: string }
  /** One instance's run of a command ended (Success, Failed, Timeout, …). */
  | { kind: 'invocation-finished'; invokeId: string; instanceId?: string; status?: string; exitCode?: number }
  /**
   * A platform's webhook (an HTTPEvent) that failed verification, or came for a platform whose
   * callback secrets are not configured: not an approval. `detail` names no secret.
   */
  | { kind: 'refused'; platform: 'dingtalk' | 'lark'; reason: WebhookRefusal; detail: string }
  /** DingTalk's `check_url` or Lark's `url_verification` through the bus, which cannot carry the answer back. */
  | { kind: 'url-check'; platform: 'dingtalk' | 'lark' }
  | { kind: 'ignored'; reason: string };

/** One CloudEvent of a delivery: its envelope (id and source to deduplicate on) and its meaning. */
export type ParsedCloudEvent = { id: string; source: string; type: string } & CloudEventMeaning;

export type ReadCloudEventsResult = { ok: true; events: ParsedCloudEvent[] } | { ok: false; status: 400 | 415; error: string };

export interface ReadCloudEventsOptions {
  /** The request's headers: the content type picks the mode (structured, batch, binary with `ce-*`). */
  headers?: IncomingHttpHeaders;
  /** When the delivery arrived: the time of a departure whose event carries none. Default now. */
  receivedAt?: Date;
  /**
   * The platforms' callback secrets, to verify their webhooks inside HTTPEvents. A webhook for a
   * platform without secrets is refused (`not-configured`). Default: none.
   */
  webhooks?: ApprovalWebhookSecrets;
  /** Accepted distance between a webhook's timestamp and the bus's publish time. Default 5 minutes. */
  windowMs?: number;
}

const Envelope = z.looseObject({
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  specversion: z.string().optional(),
  subject: z.string().optional(),
  data: z.unknown().optional(),
});
type Envelope = z.infer<typeof Envelope>;

/**
 * Reads a delivery of CloudEvents: structured mode (`application/cloudevents+json`, one event),
 * batch mode (`application/cloudevents-batch+json`, a JSON list), binary mode (`ce-id`,
 * `ce-source`, `ce-type` headers, the body the data), or plain `application/json` (one event or a
 * list, as EventBridge's HTTP target sends). Each event is classified; an event rollcall does not
 * act on is `ignored`, not an error.
 *
 * @returns 415 for a content type that cannot hold CloudEvents, 400 for a body that is not JSON
 *   or an event without id, source or type (the whole delivery: EventBridge must not retry it
 *   unchanged, and a half-accepted batch would hide the fault).
 */
export function readCloudEvents(body: Buffer, options: ReadCloudEventsOptions = {}): ReadCloudEventsResult {
  const headers = options.headers ?? {};
  const mediaType = (headerValue(headers, 'content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
  const binary = headerValue(headers, 'ce-specversion') !== undefined;
  if (!binary && mediaType !== '' && mediaType !== 'application/json' && mediaType !== 'application/cloudevents+json' && mediaType !== 'application/cloudevents-batch+json') {
    return { ok: false, status: 415, error: `content type ${JSON.stringify(mediaType.slice(0, 80))} cannot hold CloudEvents: send application/cloudevents+json, application/cloudevents-batch+json or application/json` };
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    if (!binary) return { ok: false, status: 400, error: 'the body is not JSON: send a CloudEvent or a batch of them' };
    // Binary mode: a data that is not JSON is kept as text; no source rollcall reads sends one.
    parsed = body.toString('utf8');
  }

  let candidates: unknown[];
  if (binary) {
    candidates = [{ id: headerValue(headers, 'ce-id'), source: headerValue(headers, 'ce-source'), type: headerValue(headers, 'ce-type'), subject: headerValue(headers, 'ce-subject'), data: parsed }];
  } else if (mediaType === 'application/cloudevents-batch+json') {
    if (!Array.isArray(parsed)) return { ok: false, status: 400, error: 'a CloudEvents batch must be a JSON list of events' };
    candidates = parsed;
  } else if (mediaType === 'application/cloudevents+json') {
    if (Array.isArray(parsed)) return { ok: false, status: 400, error: 'a structured CloudEvent is one JSON object: send a list as application/cloudevents-batch+json' };
    candidates = [parsed];
  } else {
    candidates = Array.isArray(parsed) ? parsed : [parsed];
  }

  const events: ParsedCloudEvent[] = [];
  for (const [index, candidate] of candidates.entries()) {
    const envelope = Envelope.safeParse(candidate);
    if (!envelope.success) {
      const issue = envelope.error.issues[0];
      const where = candidates.length > 1 || Array.isArray(parsed) ? `event ${index}: ` : '';
      return { ok: false, status: 400, error: `not a CloudEvent: ${where}${issue?.path.join('.') || 'the event'} ${issue?.message ?? 'is invalid'}`.trim() };
    }
    const { id, source, type } = envelope.data;
    events.push({ id, source, type, ...classify(envelope.data, options) });
  }
  return { ok: true, events };
}

/**
 * Whether the request carries EventBridge's shared secret in `X-Rollcall-Secret`, compared in
 * constant time. A missing header is false.
 */
export function checkEventBridgeSecret(headers: IncomingHttpHeaders, secret: string): boolean {
  const given = headerValue(headers, 'x-rollcall-secret');
  return given !== undefined && secret !== '' && constantTimeEqual(given, secret);
}

function classify(event: Envelope, options: ReadCloudEventsOptions): CloudEventMeaning {
  const { receivedAt } = options;
  const data = record(typeof event.data === 'string' ? jsonOrText(event.data) : event.data);
  const platform = event.source === CLOUD_EVENT_SOURCES.dingtalk ? 'dingtalk' : event.source === CLOUD_EVENT_SOURCES.lark ? 'lark' : undefined;
  if (platform !== undefined && event.type === HTTP_EVENT_TYPE) {
    // A POST to the HTTPS source: anyone may send one, so it is a platform's webhook to verify,
    // never an event to take as it is.
    const parsed = readApprovalWebhook(platform, data, {
      secrets: options.webhooks ?? {},
      at: publishTime(event) ?? receivedAt ?? new Date(),
      ...(options.windowMs !== undefined ? { windowMs: options.windowMs } : {}),
    });
    if ('refused' in parsed) return { kind: 'refused', platform, reason: parsed.refused, detail: parsed.detail };
    if ('urlCheck' in parsed) return { kind: 'url-check', platform };
    return meaning(parsed);
  }
  if (event.source === CLOUD_EVENT_SOURCES.dingtalk) {
    if (data === undefined) return { kind: 'ignored', reason: 'a dingtalk.approval event without an object as data' };
    return meaning(noticeFromDingtalkEvent(dingtalkEventType(event.type, data), event.id, data, 'eventbridge', receivedAt));
  }
  if (event.source === CLOUD_EVENT_SOURCES.lark) {
    if (data === undefined) return { kind: 'ignored', reason: 'a lark.approval event without an object as data' };
    const inner = larkInnerEvent(data);
    if (inner === undefined) return { kind: 'ignored', reason: 'a lark.approval event whose data is neither a v1 event_callback, a v2 envelope nor an event with a type' };
    return meaning(noticeFromLarkEvent(inner.eventType, event.id, inner.event, 'eventbridge', receivedAt));
  }
  if (event.source === CLOUD_EVENT_SOURCES.ecs && event.type === FIRST_HEARTBEAT) {
    const instanceId = text(data?.['instanceId']) ?? text(data?.['InstanceId']) ?? instanceOfSubject(event.subject);
    return instanceId === undefined ? { kind: 'ignored', reason: 'a FirstHeartbeat without an instance id' } : { kind: 'instance-appeared', instanceId };
  }
  if (event.source === CLOUD_EVENT_SOURCES.ecs && event.type === TASK_COMPLETED) {
    const invokeId = text(data?.['invokeId']) ?? text(data?.['InvokeId']);
    if (invokeId === undefined) return { kind: 'ignored', reason: 'a TaskCompleted without an invokeId' };
    const instanceId = text(data?.['instanceId']) ?? text(data?.['InstanceId']) ?? instanceOfSubject(event.subject);
    const status = text(data?.['invocationStatus']) ?? text(data?.['InvocationStatus']);
    const exit = data?.['exitCode'] ?? data?.['ExitCode'];
    const exitCode = typeof exit === 'number' ? exit : typeof exit === 'string' && /^-?\d+$/.test(exit) ? Number(exit) : undefined;
    return {
      kind: 'invocation-finished',
      invokeId,
      ...(instanceId !== undefined ? { instanceId } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(exitCode !== undefined ? { exitCode } : {}),
    };
  }
  return { kind: 'ignored', reason: `${event.source.slice(0, 64)} ${event.type.slice(0, 64)} is not an event rollcall acts on` };
}

function meaning(parsed: { notice: IngressNotice } | { ignored: string }): CloudEventMeaning {
  return 'notice' in parsed ? { kind: 'notice', notice: parsed.notice } : { kind: 'ignored', reason: parsed.ignored };
}

const DINGTALK_EVENT_TYPES = new Set(['bpms_instance_change', 'user_leave_org']);

/**
 * The DingTalk event type: the data's own `EventType` (HTTP push form) or `eventType`, else the
 * CloudEvent type or its last segment (`dingtalk:approval:bpms_instance_change`), else an
 * instance change when the data has a processInstanceId.
 */
function dingtalkEventType(cloudEventType: string, data: Record<string, unknown>): string {
  const lastSegment = cloudEventType.split(/[:.]/).at(-1) ?? cloudEventType;
  const candidates = [text(data['EventType']), text(data['eventType']), cloudEventType, lastSegment].filter((value) => value !== undefined);
  const known = candidates.find((candidate) => DINGTALK_EVENT_TYPES.has(candidate));
  if (known !== undefined) return known;
  if (data['processInstanceId'] !== undefined) return 'bpms_instance_change';
  return candidates[0] ?? cloudEventType;
}

/** The Lark event inside data: a v2 envelope's `event`, a v1 event_callback's `event` (inner fields win), or data itself. */
function larkInnerEvent(data: Record<string, unknown>): { eventType: string; event: Record<string, unknown> } | undefined {
  const header = record(data['header']);
  const event = record(data['event']);
  const v2Type = text(header?.['event_type']);
  if (data['schema'] === '2.0' && v2Type !== undefined && event !== undefined) return { eventType: v2Type, event };
  const v1Type = text(event?.['type']);
  if (data['type'] === 'event_callback' && event !== undefined && v1Type !== undefined) {
    const { event: _inner, token: _token, ...outer } = data;
    return { eventType: v1Type, event: { ...outer, ...event } };
  }
  const ownType = text(data['type']);
  return ownType !== undefined && ownType !== 'event_callback' ? { eventType: ownType, event: data } : undefined;
}

/**
 * When the bus accepted the event: `aliyunpublishtime` (Alibaba writes it `…T21:04:42.179PRC`,
 * China time, or ISO 8601), else the CloudEvent `time`; undefined when neither reads as a time.
 */
function publishTime(event: Envelope): Date | undefined {
  for (const value of [event['aliyunpublishtime'], event['time']]) {
    if (typeof value !== 'string' || value === '') continue;
    const date = new Date(value.replace(/PRC$/, '+08:00'));
    if (!Number.isNaN(date.getTime())) return date;
  }
  return undefined;
}

/** `acs:ecs:<region>:<account>:instance/<id>` → `<id>`. */
function instanceOfSubject(subject: string | undefined): string | undefined {
  const match = /:instance\/([^/\s]+)$/.exec(subject ?? '');
  return match?.[1];
}

function jsonOrText(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}
