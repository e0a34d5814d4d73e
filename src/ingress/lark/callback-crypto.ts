import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { RollcallError } from '../../config/errors.js';
import {
  CallbackRejected,
  checkWindow,
  constantTimeEqual,
  decodeStrictBase64,
  parseJsonBody,
  parseTimestamp,
} from '../callback-checks.js';

const IV_BYTES = 16;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Lark's AES key is the sha256 of the Encrypt Key, whatever its length. */
function larkAesKey(encryptKey: string): Buffer {
  if (encryptKey.length === 0) {
    throw new RollcallError('invalid-input', "the Lark Encrypt Key is empty: copy it from the app's Events & Callbacks > Encryption strategy page, or leave it unset");
  }
  return createHash('sha256').update(encryptKey, 'utf8').digest();
}

/**
 * Seals `plaintext` the way Lark does: base64(iv ‖ AES-256-CBC(key = sha256(encryptKey), iv,
 * PKCS#7)). Used by the chat emulator and tests.
 *
 * @param iv 16 bytes; random unless a test fixes it.
 */
export function encryptLark(encryptKey: string, plaintext: string, iv: Buffer = randomBytes(IV_BYTES)): string {
  if (iv.length !== IV_BYTES) {
    throw new RollcallError('internal', `encryptLark needs an iv of exactly ${IV_BYTES} bytes, got ${iv.length}`);
  }
  const cipher = createCipheriv('aes-256-cbc', larkAesKey(encryptKey), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/**
 * Opens a Lark `encrypt` field. Published vector: Encrypt Key `test key` and
 * `P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=` give `hello world`.
 *
 * @throws CallbackRejected `bad-encryption` when the field is not base64, is too short or not
 *   whole blocks, has bad padding (almost always a wrong Encrypt Key), or is not UTF-8.
 */
export function decryptLark(encryptKey: string, encrypt: string): string {
  const key = larkAesKey(encryptKey);
  const sealed = decodeStrictBase64(encrypt, 'encrypt field');
  if (sealed.length < 2 * IV_BYTES || sealed.length % IV_BYTES !== 0) {
    throw new CallbackRejected('bad-encryption', `the Lark encrypt field decodes to ${sealed.length} bytes, not an iv and whole AES blocks; it was truncated or is not Lark's`);
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, sealed.subarray(0, IV_BYTES));
    plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES)), decipher.final()]);
  } catch (error) {
    throw new CallbackRejected('bad-encryption', 'the Lark encrypt field does not decrypt with the configured Encrypt Key (bad padding): check the key, or the message was altered', { cause: error });
  }
  try {
    return UTF8.decode(plain);
  } catch (error) {
    throw new CallbackRejected('bad-encryption', 'the decrypted Lark message is not UTF-8 text: check the Encrypt Key', { cause: error });
  }
}

/**
 * Lark's `X-Lark-Signature`: sha256 hex of timestamp ‖ nonce ‖ encryptKey ‖ the raw body bytes.
 * The raw body, not a re-serialised one: any other bytes give another hash.
 */
export function larkSignature(timestamp: string, nonce: string, encryptKey: string, rawBody: Buffer): string {
  return createHash('sha256').update(`${timestamp}${nonce}${encryptKey}`, 'utf8').update(rawBody).digest('hex');
}

/** Request headers as Node gives them (lower-case names); other casings are found too. */
export type CallbackHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyLarkCallbackOptions {
  headers: CallbackHeaders;
  /** The body exactly as received: the signature covers these bytes. */
  rawBody: Buffer;
  /** The app's Encrypt Key. When set, every request must be signed with it. */
  encryptKey?: string;
  /** The app's Verification Token, checked on every request (with or without an Encrypt Key). */
  verificationToken: string;
  now: Date;
  /** Accepted distance between `X-Lark-Request-Timestamp` and `now`, either way. Default 5 minutes. */
  windowMs?: number;
}

/** What a verified Lark callback carries. */
export type LarkCallback =
  | { kind: 'challenge'; challenge: string }
  | {
      kind: 'event';
      /** The inner event; for v1 envelopes the outer fields (less `token`) under the inner ones. */
      event: Record<string, unknown>;
      /** The id to deduplicate on: v1 `uuid`, v2 `header.event_id`. */
      eventId: string;
      /** v1 `event.type` (`approval_instance`), v2 `header.event_type`. */
      eventType: string;
    };

// Vendors' payloads are parsed leniently: unknown fields pass through.
const EncryptedBody = z.looseObject({ encrypt: z.string() });
const UrlVerification = z.looseObject({ type: z.literal('url_verification'), challenge: z.string().min(1) });
const V2Envelope = z.looseObject({
  schema: z.literal('2.0'),
  header: z.looseObject({ event_id: z.string().min(1), event_type: z.string().min(1) }),
  event: z.record(z.string(), z.unknown()),
});
const V1Envelope = z.looseObject({
  type: z.literal('event_callback'),
  uuid: z.string().min(1),
  event: z.looseObject({ type: z.string().min(1) }),
});

/**
 * Checks a Lark HTTP callback on its raw body and says what it carries. In order: with an Encrypt
 * Key, the signature headers over the raw bytes (constant time) and the timestamp window; then
 * decryption of an `{encrypt}` body; then the Verification Token (`token` of v1 and of the URL
 * check, `header.token` of v2; constant time), always, because without an Encrypt Key it is the
 * only proof of origin; then the URL verification challenge or the v1/v2 event envelope.
 * Unlike the SDK's EventDispatcher, the v1 inner event's fields are not overwritten by the outer
 * envelope's `type` and `uuid`.
 *
 * @throws CallbackRejected with the reason the request is refused.
 */
export function verifyLarkCallback(options: VerifyLarkCallbackOptions): LarkCallback {
  const timestamp = header(options.headers, 'x-lark-request-timestamp');
  if (options.encryptKey !== undefined) {
    const nonce = header(options.headers, 'x-lark-request-nonce');
    const signature = header(options.headers, 'x-lark-signature');
    if (timestamp === undefined || nonce === undefined || signature === undefined) {
      const missing = [
        timestamp === undefined ? 'X-Lark-Request-Timestamp' : undefined,
        nonce === undefined ? 'X-Lark-Request-Nonce' : undefined,
        signature === undefined ? 'X-Lark-Signature' : undefined,
      ].filter((name) => name !== undefined);
      throw new CallbackRejected('malformed', `the Lark callback lacks the header(s) ${missing.join(', ')}, which an app with an Encrypt Key always receives`);
    }
    if (!constantTimeEqual(signature, larkSignature(timestamp, nonce, options.encryptKey, options.rawBody))) {
      throw new CallbackRejected('bad-signature', 'the Lark callback\'s X-Lark-Signature does not match: check the configured Encrypt Key, or the body was altered');
    }
  }
  // Without an Encrypt Key the timestamp is not signed; it is still checked when present.
  if (timestamp !== undefined) {
    checkWindow(parseTimestamp(timestamp, 'X-Lark-Request-Timestamp') * 1000, options.now, options.windowMs, 'Lark callback');
  }

  const payload = openPayload(parseJsonBody(options.rawBody, 'Lark callback body'), options.encryptKey);

  const token = isRecord(payload.header) ? payload.header.token : payload.token;
  if (typeof token !== 'string' || token === '') {
    throw new CallbackRejected('malformed', 'the Lark callback carries no verification token (`token`, or `header.token` in schema 2.0)');
  }
  if (!constantTimeEqual(token, options.verificationToken)) {
    throw new CallbackRejected('bad-signature', "the Lark callback's verification token is not the configured one: check the app's Verification Token");
  }

  const challenge = UrlVerification.safeParse(payload);
  if (challenge.success) return { kind: 'challenge', challenge: challenge.data.challenge };

  const v2 = V2Envelope.safeParse(payload);
  if (v2.success) {
    return { kind: 'event', event: v2.data.event, eventId: v2.data.header.event_id, eventType: v2.data.header.event_type };
  }
  const v1 = V1Envelope.safeParse(payload);
  if (v1.success) {
    const { event: inner, token: _token, ...outer } = v1.data;
    return { kind: 'event', event: { ...outer, ...inner }, eventId: v1.data.uuid, eventType: inner.type };
  }
  throw new CallbackRejected(
    'malformed',
    'the Lark callback is neither a URL verification, a v1 event_callback (with uuid and event.type) nor a schema 2.0 event (with header.event_id, header.event_type and event)',
  );
}

/** The callback's JSON object, decrypted when the body is `{encrypt}`. */
function openPayload(body: unknown, encryptKey: string | undefined): Record<string, unknown> {
  const encrypted = EncryptedBody.safeParse(body);
  let payload = body;
  if (encrypted.success) {
    if (encryptKey === undefined) {
      throw new CallbackRejected('bad-encryption', 'the Lark callback is encrypted but no Encrypt Key is configured: set the app\'s Encrypt Key');
    }
    try {
      payload = JSON.parse(decryptLark(encryptKey, encrypted.data.encrypt)) as unknown;
    } catch (error) {
      if (error instanceof CallbackRejected) throw error;
      // No cause: JSON.parse quotes the text, and the text is the decrypted event.
      throw new CallbackRejected('malformed', 'the decrypted Lark callback is not JSON');
    }
  }
  if (!isRecord(payload)) {
    throw new CallbackRejected('malformed', 'the Lark callback is not a JSON object');
  }
  return payload;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function header(headers: CallbackHeaders, name: string): string | undefined {
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  const first = typeof value === 'string' ? value : value?.[0];
  return first === undefined || first === '' ? undefined : first;
}
