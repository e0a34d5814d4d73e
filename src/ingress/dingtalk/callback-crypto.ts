import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { RollcallError } from '../../config/errors.js';
import { CallbackRejected, checkWindow, constantTimeEqual, decodeStrictBase64, parseJsonBody, parseTimestamp } from '../callback-checks.js';





/** DingTalk pads to 32-byte blocks (its samples' PKCS7Padding), not AES's 16. */
const DINGTALK_BLOCK = 32;
const RANDOM_BYTES = 16;
const LENGTH_BYTES = 4;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The 32-byte AES key from the 43 characters the DingTalk console shows. */
function dingtalkAesKey(encodingAesKey: string): Buffer {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) {
    throw new RollcallError(
      'invalid-input',
      `the DingTalk encodingAesKey must be the 43 base64 characters shown in the app's event subscription settings (got ${encodingAesKey.length} characters)`,
    );
  }
  return Buffer.from(`${encodingAesKey}=`, 'base64');
}


/**
 * DingTalk's callback signature: the sha1 hex of the four values sorted and concatenated.
 * Computed vector: token `mryue`, timestamp `1608001896814`, nonce `WL4PK6yA` and the published
 * `encrypt` give `03044561471240d4a14bb09372dfcfd4fd0e40cb`.
 */
export function dingtalkSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join('')).digest('hex');
}

/**
 * Seals `message` the way DingTalk does: AES-256-CBC (iv = the key's first 16 bytes) over
 * random(16) ‖ uint32 BE byte length ‖ message ‖ ownerKey, PKCS#7-padded to 32-byte blocks,
 * base64. Used for the `Enc("success")` reply and by the chat emulator.
 *
 * @param random16 the 16 leading random bytes; fixed only in tests.
 */
export function encryptDingtalk(encodingAesKey: string, message: string, ownerKey: string, random16: Buffer = randomBytes(RANDOM_BYTES)): string {
  if (random16.length !== RANDOM_BYTES) {
    throw new RollcallError('internal', `encryptDingtalk needs exactly ${RANDOM_BYTES} random bytes, got ${random16.length}`);
  }
  const key = dingtalkAesKey(encodingAesKey);
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32BE(body.length);
  const plain = Buffer.concat([random16, length, body, Buffer.from(ownerKey, 'utf8')]);
  const pad = DINGTALK_BLOCK - (plain.length % DINGTALK_BLOCK);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}

/**
 * Opens a DingTalk `encrypt` field and returns the message. The padding is checked strictly and
 * the trailing owner key is compared with `expectedOwnerKey` (the internal app's appKey) in
 * constant time.
 *
 * @throws CallbackRejected `bad-encryption` when the field does not decrypt to a well-formed
 *   message, `wrong-owner` when it was sealed for another app.
 */
export function decryptDingtalk(encodingAesKey: string, encrypt: string, expectedOwnerKey: string): string {
  const key = dingtalkAesKey(encodingAesKey);
  const sealed = decodeStrictBase64(encrypt, 'encrypt field');
  if (sealed.length % DINGTALK_BLOCK !== 0) {
    throw new CallbackRejected('bad-encryption', `the DingTalk encrypt field decodes to ${sealed.length} bytes, not a multiple of ${DINGTALK_BLOCK}; it was truncated or is not DingTalk's`);
  }
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(sealed), decipher.final()]);
  // Not constant time: verifyDingtalkCallback checks the signature over the ciphertext first, so
  // nobody without the token learns anything from how padding fails (no padding oracle).
  const pad = padded.at(-1) ?? 0;
  const padOk = pad >= 1 && pad <= DINGTALK_BLOCK && padded.subarray(padded.length - pad).every((byte) => byte === pad);
  if (!padOk) {
    throw new CallbackRejected('bad-encryption', 'the DingTalk encrypt field does not decrypt with the configured encodingAesKey (bad padding): check the key, or the message was altered');
  }
  const plain = padded.subarray(0, padded.length - pad);
  if (plain.length < RANDOM_BYTES + LENGTH_BYTES) {
    throw new CallbackRejected('bad-encryption', 'the DingTalk encrypt field decrypts to fewer bytes than its header needs');
  }
  const length = plain.readUInt32BE(RANDOM_BYTES);
  const end = RANDOM_BYTES + LENGTH_BYTES + length;
  if (end > plain.length) {
    throw new CallbackRejected('bad-encryption', 'the DingTalk encrypt field declares a message longer than it holds: check the encodingAesKey, or the message was altered');
  }
  if (!constantTimeEqual(plain.subarray(end), Buffer.from(expectedOwnerKey, 'utf8'))) {
    throw new CallbackRejected('wrong-owner', "the DingTalk message was sealed for another app: check that the configured appKey (owner key) is the app whose event subscription points here");
  }
  try {
    return UTF8.decode(plain.subarray(RANDOM_BYTES + LENGTH_BYTES, end));
  } catch (error) {
    throw new CallbackRejected('bad-encryption', 'the DingTalk message is not UTF-8 text', { cause: error });
  }
}

/** Query values as URLSearchParams or a parsed query object (Node's repeated keys as arrays). */
export type CallbackQuery = URLSearchParams | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyDingtalkCallbackOptions {
  /** The request's query: `msg_signature` (or `signature`), `timestamp` (or `timeStamp`), `nonce`. */
  query: CallbackQuery;
  /** The request body `{"encrypt": "…"}`: raw bytes or text (parsed as JSON) or the parsed value. */
  body: unknown;
  /** The app's callback token. */
  token: string;
  encodingAesKey: string;
  /** The internal app's appKey, which DingTalk appends to every message it seals for it. */
  ownerKey: string;
  now: Date;
  /** Accepted distance between the request's timestamp and `now`, either way. Default 5 minutes. */
  windowMs?: number;
}

const DingtalkBody = z.looseObject({ encrypt: z.string().min(1) });

/**
 * Checks a DingTalk HTTP push and returns its event: the signature first (constant time, over the
 * encrypt field as sent), then the timestamp window, then decryption and the owner key, then JSON.
 * The URL check arrives as the event `{"EventType":"check_url"}` and is answered like any other.
 *
 * @throws CallbackRejected with the reason the request is refused.
 */
export function verifyDingtalkCallback(options: VerifyDingtalkCallbackOptions): { event: unknown } {
  const signature = queryValue(options.query, 'msg_signature') ?? queryValue(options.query, 'signature');
  const timestamp = queryValue(options.query, 'timestamp') ?? queryValue(options.query, 'timeStamp');
  const nonce = queryValue(options.query, 'nonce');
  const missing = [
    signature === undefined ? 'msg_signature' : undefined,
    timestamp === undefined ? 'timestamp' : undefined,
    nonce === undefined ? 'nonce' : undefined,
  ].filter((name) => name !== undefined);
  if (signature === undefined || timestamp === undefined || nonce === undefined) {
    throw new CallbackRejected('malformed', `the DingTalk callback's query lacks ${missing.join(', ')}`);
  }
  const body = DingtalkBody.safeParse(parseJsonBody(options.body, 'DingTalk callback body'));
  if (!body.success) {
    throw new CallbackRejected('malformed', 'the DingTalk callback body must be a JSON object with a non-empty string "encrypt"');
  }
  const { encrypt } = body.data;

  if (!constantTimeEqual(signature, dingtalkSignature(options.token, timestamp, nonce, encrypt))) {
    throw new CallbackRejected('bad-signature', "the DingTalk callback's msg_signature does not match: check the configured token, or the request was altered");
  }
  checkWindow(parseTimestamp(timestamp, 'DingTalk callback timestamp'), options.now, options.windowMs, 'DingTalk callback');

  const message = decryptDingtalk(options.encodingAesKey, encrypt, options.ownerKey);
  try {
    return { event: JSON.parse(message) as unknown };
  } catch {
    // No cause: JSON.parse quotes the text, and the text is the decrypted event.
    throw new CallbackRejected('malformed', 'the decrypted DingTalk event is not JSON');
  }
}

export interface DingtalkReplyOptions {
  token: string;
  encodingAesKey: string;
  ownerKey: string;
  now: Date;
  /** Default: 8 random alphanumeric characters. */
  nonce?: string;
}

/** The answer DingTalk waits for (within 1500 ms): "success", sealed and signed. */
export interface DingtalkReply {
  msg_signature: string;
  timeStamp: string;
  nonce: string;
  encrypt: string;
}

/** Builds the reply to a DingTalk HTTP push: `{msg_signature, timeStamp, nonce, encrypt: Enc("success")}`. */
export function dingtalkReply(options: DingtalkReplyOptions): DingtalkReply {
  const timeStamp = String(options.now.getTime());
  const nonce = options.nonce ?? randomNonce(8);
  const encrypt = encryptDingtalk(options.encodingAesKey, 'success', options.ownerKey);
  return { msg_signature: dingtalkSignature(options.token, timeStamp, nonce, encrypt), timeStamp, nonce, encrypt };
}

function randomNonce(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

function queryValue(query: CallbackQuery, name: string): string | undefined {
  const value = query instanceof URLSearchParams ? (query.get(name) ?? undefined) : query[name];
  const first = typeof value === 'string' ? value : value?.[0];
  return first === undefined || first === '' ? undefined : first;
}



