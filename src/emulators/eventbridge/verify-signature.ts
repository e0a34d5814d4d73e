import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/*
 * The signature `@alicloud/eventbridge` (1.3.x, through @alicloud/eventbridge-util) puts on every
 * request: `authorization: acs:<AccessKeyId>:<base64(HMAC-SHA1(secret, stringToSign))>`, where
 * stringToSign is
 *
 *   METHOD \n content-md5 \n content-type \n date \n
 *   <each x-acs-* header, names sorted, "name:value\n", tabs and newlines in values as spaces, trimmed>
 *   <path, then ?k=v&… with the query's keys sorted (values not encoded)>
 *
 * (the older OSS/MNS-style scheme, not ACS3). The emulator recomputes it from what arrived.
 */

/** Why a request's signature was refused; `code` is what the reply's `code` says. */
export interface SignatureProblem {
  code: 'MissingAuthorization' | 'InvalidAccessKeyId.NotFound' | 'SignatureDoesNotMatch' | 'RequestTimeTooSkewed';
  message: string;
}

/** How far a request's `date` may be from the emulator's clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

/** The string the SDK signs, from a request as received (Node lower-cases header names). */
export function stringToSign(method: string, path: string, query: URLSearchParams, headers: IncomingHttpHeaders): string {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(',') : (value ?? '');
  };
  const canonicalHeaders = Object.keys(headers)
    .filter((name) => name.startsWith('x-acs-'))
    .sort()
    .map((name) => `${name}:${header(name).replace(/[\t\n\r\f]/g, ' ').trim()}\n`)
    .join('');
  const keys = [...new Set(query.keys())].sort();
  const resource = keys.length === 0 ? path : `${path}?${keys.map((key) => `${key}=${query.get(key)}`).join('&')}`;
  return `${method.toUpperCase()}\n${header('content-md5')}\n${header('content-type')}\n${header('date')}\n${canonicalHeaders}${resource}`;
}

/** The signature the SDK computes for a string to sign. */
export function signString(text: string, accessKeySecret: string): string {
  return createHmac('sha1', accessKeySecret).update(text, 'utf8').digest('base64');
}

/**
 * Checks a request's `authorization` header against the secret of the AccessKey it names, and its
 * `date` against the clock. Returns the AccessKeyId when they hold, else what is wrong.
 */
export function verifySignature(
  request: { method: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders },
  secretOf: (accessKeyId: string) => string | undefined,
  now: Date = new Date(),
): { ok: true; accessKeyId: string } | { ok: false; problem: SignatureProblem } {
  const authorization = request.headers.authorization ?? '';
  const match = /^acs:([^:]+):(.+)$/.exec(authorization);
  if (!match) return { ok: false, problem: { code: 'MissingAuthorization', message: 'the request has no authorization header of the form acs:<AccessKeyId>:<signature>: sign it as @alicloud/eventbridge does' } };
  const [, accessKeyId, signature] = match as unknown as [string, string, string];
  const secret = secretOf(accessKeyId);
  if (secret === undefined) return { ok: false, problem: { code: 'InvalidAccessKeyId.NotFound', message: `Specified access key is not found: ${accessKeyId} (use the AccessKey pair the emulator printed)` } };
  const expectedText = stringToSign(request.method, request.path, request.query, request.headers);
  const expected = Buffer.from(signString(expectedText, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, problem: { code: 'SignatureDoesNotMatch', message: `The request signature does not conform to Aliyun standards. Server string to sign is: ${JSON.stringify(expectedText)}` } };
  }
  const dateHeader = request.headers.date;
  const date = dateHeader === undefined ? Number.NaN : Date.parse(dateHeader);
  if (Number.isNaN(date) || Math.abs(now.getTime() - date) > MAX_SKEW_MS) {
    return { ok: false, problem: { code: 'RequestTimeTooSkewed', message: `the request's date header (${dateHeader ?? 'missing'}) is more than 15 minutes from the server's time ${now.toUTCString()}` } };
  }
  return { ok: true, accessKeyId };
}
