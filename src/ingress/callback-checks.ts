import { createHash, timingSafeEqual } from 'node:crypto';
import { RollcallError } from '../config/errors.js';

/*
 * What every chat callback check shares (DingTalk and Lark): the rejection error, constant-time
 * comparison, strict base64, JSON bodies and the timestamp window.
 */

/**
 * Why a chat platform's callback was refused. Callers answer every reason the same way (401/400,
 * nothing done) and log the reason; the messages never contain a secret.
 * - `bad-signature`: the signature (or Lark's verification token) does not match ours.
 * - `bad-encryption`: the `encrypt` field is not a ciphertext our key decrypts (bad base64, bad
 *   length, bad padding, an inner length that does not fit, bytes that are not UTF-8).
 * - `wrong-owner`: the message decrypts but was sealed for another app (DingTalk's owner key).
 * - `stale`: the request's timestamp is outside the accepted window (a replay, or a clock off).
 * - `malformed`: a field is missing or has the wrong shape, or a body is not JSON.
 */
export type CallbackRejectedReason = 'bad-signature' | 'bad-encryption' | 'wrong-owner' | 'stale' | 'malformed';

/**
 * A callback that rollcall refuses. It is an `invalid-input` RollcallError (the sender must fix
 * the request; sending it again unchanged cannot help) with a `reason` to branch on.
 */
export class CallbackRejected extends RollcallError {
  readonly reason: CallbackRejectedReason;

  constructor(reason: CallbackRejectedReason, message: string, options: { cause?: unknown } = {}) {
    super('invalid-input', message, options);
    this.reason = reason;
  }
}

/**
 * Compares two strings in time that does not depend on where they differ. Both sides are hashed
 * first so that strings of different lengths compare too (timingSafeEqual needs equal lengths)
 * without revealing the expected length.
 */
export function constantTimeEqual(actual: string | Buffer, expected: string | Buffer): boolean {
  const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(actual), digest(expected));
}

/** The default accepted distance between a callback's timestamp and our clock, either way. */
export const DEFAULT_CALLBACK_WINDOW_MS = 5 * 60 * 1000;

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes base64 strictly: Buffer.from(…, 'base64') silently skips bad characters and truncated
 * tails, which would turn a damaged field into a confusing decryption error later.
 */
export function decodeStrictBase64(value: string, field: string): Buffer {
  if (value.length === 0 || value.length % 4 !== 0 || !STRICT_BASE64.test(value)) {
    throw new CallbackRejected('bad-encryption', `the callback's ${field} is not complete base64 (length ${value.length}); it was damaged or truncated on the way`);
  }
  return Buffer.from(value, 'base64');
}

/**
 * A body as JSON: raw bytes or text are parsed; anything else is taken as already parsed.
 *
 * @throws CallbackRejected `malformed` when the text is not JSON.
 */
export function parseJsonBody(body: unknown, what: string): unknown {
  if (!Buffer.isBuffer(body) && typeof body !== 'string') return body;
  try {
    return JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : body) as unknown;
  } catch {
    throw new CallbackRejected('malformed', `the ${what} is not JSON`);
  }
}

/**
 * A timestamp field as epoch milliseconds or seconds, digits only.
 *
 * @throws CallbackRejected `malformed` when it is not a whole number.
 */
export function parseTimestamp(value: string, what: string): number {
  if (!/^\d{1,16}$/.test(value)) {
    throw new CallbackRejected('malformed', `the ${what} must be a whole number, got ${JSON.stringify(value.slice(0, 32))}`);
  }
  return Number(value);
}

/**
 * Refuses a request whose timestamp (epoch ms) is further than `windowMs` from `now`.
 *
 * @throws CallbackRejected `stale`.
 */
export function checkWindow(timestampMs: number, now: Date, windowMs: number = DEFAULT_CALLBACK_WINDOW_MS, what: string): void {
  const skewMs = timestampMs - now.getTime();
  if (Math.abs(skewMs) > windowMs) {
    const direction = skewMs < 0 ? 'behind' : 'ahead of';
    throw new CallbackRejected(
      'stale',
      `the ${what} timestamp is ${Math.round(Math.abs(skewMs) / 1000)} s ${direction} our clock (at most ${Math.round(windowMs / 1000)} s accepted): a replayed request, or a clock to fix`,
    );
  }
}
