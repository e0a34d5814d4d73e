import { dingtalkSign } from '../../notify/robots/sign.js';
import type { BusEvent } from './cloud-event-envelope.js';
import type { TargetConfig } from './load-terraform-rules.js';
import { isJson, plainText, transformParam } from './target-transform.js';

/*
 * What a target sends for one event, from its type and its params (README.md, "Targets"):
 * - http / https: `url` (else the endpoint), `Method` (POST), `Body` (the whole event when absent),
 *   `HeaderParameters` and `QueryStringParameters` (JSON objects of names to values);
 * - acs.dingtalk: a custom robot's webhook `URL` (else the endpoint), signed with `SecretKey`
 *   when given, the message as `Body`.
 * Other types reach cloud services the emulator does not have: they are not deliverable here.
 */

/** One HTTP request to a target. */
export interface TargetRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Absent for GET and HEAD. */
  body?: string;
}

export type BuiltTargetRequest =
  | { kind: 'http'; request: TargetRequest; dingtalk: boolean }
  | { kind: 'not-deliverable'; reason: string }
  /** The params made something that cannot be sent (a url that is no URL, headers that are not an object). */
  | { kind: 'invalid'; reason: string };

/** The target types the emulator delivers to. */
export const DELIVERABLE_TYPES: ReadonlySet<string> = new Set(['http', 'https', 'acs.dingtalk']);

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * The request a target makes of an event. `redirect` rewrites the URL (the emulator sends a
 * production URL to a local server); `now` is DingTalk's signing time.
 */
export function buildTargetRequest(event: BusEvent, target: TargetConfig, redirect: (url: string) => string, now: Date = new Date()): BuiltTargetRequest {
  if (!DELIVERABLE_TYPES.has(target.type)) {
    return { kind: 'not-deliverable', reason: `target type ${target.type} reaches a cloud service the emulator does not have: the event is recorded, not delivered` };
  }
  const param = (key: string) => {
    const found = target.params.get(key);
    return found === undefined ? undefined : transformParam(event, found);
  };
  try {
    if (target.type === 'acs.dingtalk') {
      const url = targetUrl(redirect(textOf(param('URL'), 'URL') ?? target.endpoint));
      const secret = textOf(param('SecretKey'), 'SecretKey');
      const body = target.params.has('Body') ? param('Body') : event;
      // dingtalkSign is URL-encoded already: appended by hand, never through URLSearchParams.
      const signed = secret ? `${url.href}${url.search ? '&' : '?'}timestamp=${now.getTime()}&sign=${dingtalkSign(now.getTime(), secret)}` : url.href;
      return { kind: 'http', dingtalk: true, request: { url: signed, method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: plainText(body) } };
    }
    const url = targetUrl(redirect(textOf(param('url'), 'url') ?? target.endpoint));
    for (const [name, value] of Object.entries(nameValues(param('QueryStringParameters'), 'QueryStringParameters'))) url.searchParams.set(name, value);
    const method = (textOf(param('Method'), 'Method') ?? 'POST').toUpperCase();
    if (!METHODS.has(method)) return { kind: 'invalid', reason: `Method ${method} is not an HTTP method (${[...METHODS].join(', ')})` };
    const withBody = method !== 'GET' && method !== 'HEAD';
    const body = withBody ? plainText(target.params.has('Body') ? param('Body') : event) : undefined;
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = isJson(body) ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8';
    for (const [name, value] of Object.entries(nameValues(param('HeaderParameters'), 'HeaderParameters'))) headers[name.toLowerCase()] = value;
    return { kind: 'http', dingtalk: false, request: { url: url.href, method, headers, ...(body !== undefined ? { body } : {}) } };
  } catch (error) {
    return { kind: 'invalid', reason: (error as Error).message };
  }
}

function targetUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new Error(`the target URL ${JSON.stringify(text.slice(0, 120))} is not a URL: give url (or the endpoint) as http(s)://host/path`);
  }
}

/** A string param's value; undefined when the param is absent or made nothing. */
function textOf(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`param ${key} made ${Array.isArray(value) ? 'a list' : 'an object'}, not text`);
}

/** A JSON object (or its text) of names to values, as header or query parameters. */
function nameValues(value: unknown, key: string): Record<string, string> {
  if (value === undefined || value === null || value === '') return {};
  let object = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch {
      throw new Error(`param ${key} is not a JSON object of names to values: ${JSON.stringify(value.slice(0, 80))}`);
    }
  }
  if (typeof object !== 'object' || object === null || Array.isArray(object)) throw new Error(`param ${key} must make a JSON object of names to values`);
  const pairs: Record<string, string> = {};
  for (const [name, item] of Object.entries(object)) {
    if (item === undefined || item === null) continue;
    pairs[name] = typeof item === 'string' ? item : JSON.stringify(item);
  }
  return pairs;
}
