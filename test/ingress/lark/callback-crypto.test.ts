import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { CallbackRejected, type CallbackRejectedReason } from '../../../src/ingress/callback-checks.js';
import { decryptLark, encryptLark, larkSignature, verifyLarkCallback } from '../../../src/ingress/lark/callback-crypto.js';

const ENCRYPT_KEY = 'kL9sEncryptKeyForTests';
const TOKEN = 'vT0kenForTests';
const NOW = new Date(1_700_000_000_000);
const TIMESTAMP = '1700000000';
const NONCE = 'n-123';
const SECRETS = [ENCRYPT_KEY, TOKEN];
const IV = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

function expectRejected(fn: () => unknown, reason: CallbackRejectedReason): CallbackRejected {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CallbackRejected);
  const rejected = caught as CallbackRejected;
  expect(rejected.reason).toBe(reason);
  expect(rejected.code).toBe('invalid-input');
  for (const secret of SECRETS) expect(rejected.message).not.toContain(secret);
  return rejected;
}

/** The headers Lark sends with `rawBody`, signed with the Encrypt Key. */
function signedHeaders(rawBody: Buffer, timestamp = TIMESTAMP): Record<string, string> {
  return {
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': NONCE,
    'x-lark-signature': larkSignature(timestamp, NONCE, ENCRYPT_KEY, rawBody),
  };
}

/** A body as Lark sends it to an app with an Encrypt Key: `{"encrypt": …}`. */
function sealedBody(payload: unknown): Buffer {
  return Buffer.from(JSON.stringify({ encrypt: encryptLark(ENCRYPT_KEY, JSON.stringify(payload)) }));
}

/** Verifies `payload` sealed and signed as Lark would, with `overrides` to the options. */
function verifySealed(payload: unknown, overrides: Partial<Parameters<typeof verifyLarkCallback>[0]> = {}) {
  const rawBody = sealedBody(payload);
  return verifyLarkCallback({ headers: signedHeaders(rawBody), rawBody, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW, ...overrides });
}

const V2_EVENT = {
  schema: '2.0',
  header: { event_id: 'ev-2', event_type: 'approval.instance.status_changed_v4', create_time: '1700000000000', token: TOKEN, app_id: 'cli_0123456789abcdef' },
  event: { instance_code: 'INST-1', status: 'APPROVED' },
};
const V1_EVENT = {
  ts: '1700000000.1',
  uuid: 'outer-uuid',
  token: TOKEN,
  type: 'event_callback',
  event: { app_id: 'cli_0123456789abcdef', type: 'approval_instance', approval_code: 'A-1', instance_code: 'INST-1', status: 'APPROVED', uuid: 'inner-uuid' },
};

describe('decryptLark and encryptLark', () => {
  it('decrypt the published vector', () => {
    expect(decryptLark('test key', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=')).toBe('hello world');
  });

  it('round-trip UTF-8 text, the iv leading the ciphertext', () => {
    for (const text of ['', 'hello world', '{"name":"张三","role":"分析师"}', 'z'.repeat(5000)]) {
      const sealed = encryptLark(ENCRYPT_KEY, text, IV);
      expect(Buffer.from(sealed, 'base64').subarray(0, 16)).toEqual(IV);
      expect(decryptLark(ENCRYPT_KEY, sealed)).toBe(text);
    }
    expect(encryptLark(ENCRYPT_KEY, 'x')).not.toBe(encryptLark(ENCRYPT_KEY, 'x'));
  });

  it('refuse an iv that is not 16 bytes', () => {
    expect(() => encryptLark(ENCRYPT_KEY, 'x', Buffer.alloc(8))).toThrow(/exactly 16 bytes/);
  });

  it('refuse an empty Encrypt Key as a configuration error', () => {
    let caught: unknown;
    try {
      decryptLark('', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RollcallError);
    expect(caught).not.toBeInstanceOf(CallbackRejected);
    expect((caught as RollcallError).code).toBe('invalid-input');
  });

  it('refuse a tampered ciphertext (the pad byte changed through the iv)', () => {
    const bytes = Buffer.from('P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=', 'base64');
    bytes[15] = (bytes[15] ?? 0) ^ 0xff;
    const error = expectRejected(() => decryptLark('test key', bytes.toString('base64')), 'bad-encryption');
    expect(error.message).toMatch(/bad padding/);
  });

  it('refuse a wrong Encrypt Key', () => {
    expectRejected(() => decryptLark('another key', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk='), 'bad-encryption');
  });

  it('refuse truncated base64, an iv alone, and bytes that are not whole blocks', () => {
    const vector = 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=';
    expectRejected(() => decryptLark('test key', vector.slice(0, -2)), 'bad-encryption');
    expectRejected(() => decryptLark('test key', vector.slice(0, 24)), 'bad-encryption');
    expectRejected(() => decryptLark('test key', Buffer.alloc(16, 1).toString('base64')), 'bad-encryption');
    expectRejected(() => decryptLark('test key', Buffer.alloc(40, 1).toString('base64')), 'bad-encryption');
    expectRejected(() => decryptLark('test key', ''), 'bad-encryption');
  });
});

describe('larkSignature', () => {
  it('hashes timestamp, nonce, key and the raw body bytes', () => {
    expect(larkSignature('1700000000', 'abc', 'test key', Buffer.from('{"a":1}'))).toBe('86347fa886eba0d0afc399a93fa70a911d2fffa08edd9726b35617a872b41257');
  });

  it('differs for the same JSON serialised differently', () => {
    expect(larkSignature(TIMESTAMP, NONCE, ENCRYPT_KEY, Buffer.from('{"a":1}'))).not.toBe(larkSignature(TIMESTAMP, NONCE, ENCRYPT_KEY, Buffer.from('{ "a": 1 }')));
  });
});

describe('verifyLarkCallback with an Encrypt Key', () => {
  it('answers an encrypted URL verification with its challenge', () => {
    expect(verifySealed({ challenge: 'ch-1', token: TOKEN, type: 'url_verification' })).toEqual({ kind: 'challenge', challenge: 'ch-1' });
  });

  it('reads a schema 2.0 event: id and type from the header', () => {
    expect(verifySealed(V2_EVENT)).toEqual({
      kind: 'event',
      event: { instance_code: 'INST-1', status: 'APPROVED' },
      eventId: 'ev-2',
      eventType: 'approval.instance.status_changed_v4',
    });
  });

  it('reads a v1 event_callback: id from the outer uuid, the inner fields winning, no token', () => {
    const result = verifySealed(V1_EVENT);
    expect(result).toEqual({
      kind: 'event',
      eventId: 'outer-uuid',
      eventType: 'approval_instance',
      event: {
        ts: '1700000000.1',
        app_id: 'cli_0123456789abcdef',
        type: 'approval_instance',
        approval_code: 'A-1',
        instance_code: 'INST-1',
        status: 'APPROVED',
        uuid: 'inner-uuid',
      },
    });
  });

  it('finds headers whatever their case, and the first of repeated ones', () => {
    const rawBody = sealedBody(V2_EVENT);
    const signed = signedHeaders(rawBody);
    const headers = {
      'X-Lark-Request-Timestamp': signed['x-lark-request-timestamp'],
      'X-Lark-Request-Nonce': [NONCE, 'other'],
      'X-Lark-Signature': signed['x-lark-signature'],
    };
    expect(verifyLarkCallback({ headers, rawBody, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }).kind).toBe('event');
  });

  it('refuses a wrong signature, and one made with another key', () => {
    const rawBody = sealedBody(V2_EVENT);
    const headers = { ...signedHeaders(rawBody), 'x-lark-signature': '0'.repeat(64) };
    expectRejected(() => verifyLarkCallback({ headers, rawBody, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }), 'bad-signature');
    const otherKey = { ...signedHeaders(rawBody), 'x-lark-signature': larkSignature(TIMESTAMP, NONCE, 'other', rawBody) };
    expectRejected(() => verifyLarkCallback({ headers: otherKey, rawBody, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }), 'bad-signature');
  });

  it('refuses a signature over a re-serialised body rather than the raw one', () => {
    const rawBody = Buffer.from(`{ "encrypt" : ${JSON.stringify(encryptLark(ENCRYPT_KEY, JSON.stringify(V2_EVENT)))} }`);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(rawBody.toString()) as unknown));
    const headers = signedHeaders(reserialised);
    expectRejected(() => verifyLarkCallback({ headers, rawBody, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }), 'bad-signature');
    expect(verifyLarkCallback({ headers: signedHeaders(rawBody), rawBody, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }).kind).toBe('event');
  });

  it('refuses a tampered ciphertext by its signature, and by its padding when re-signed', () => {
    const rawBody = sealedBody(V2_EVENT);
    const { encrypt } = JSON.parse(rawBody.toString()) as { encrypt: string };
    const bytes = Buffer.from(encrypt, 'base64');
    bytes[bytes.length - 17] = (bytes[bytes.length - 17] ?? 0) ^ 0xff; // the last pad byte
    const tampered = Buffer.from(JSON.stringify({ encrypt: bytes.toString('base64') }));
    expectRejected(() => verifyLarkCallback({ headers: signedHeaders(rawBody), rawBody: tampered, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }), 'bad-signature');
    expectRejected(() => verifyLarkCallback({ headers: signedHeaders(tampered), rawBody: tampered, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }), 'bad-encryption');
  });

  it('refuses a signed but truncated encrypt field', () => {
    const rawBody = Buffer.from(JSON.stringify({ encrypt: 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReE' }));
    expectRejected(() => verifyLarkCallback({ headers: signedHeaders(rawBody), rawBody, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }), 'bad-encryption');
  });

  it('refuses a request without its signature headers, naming them', () => {
    const rawBody = sealedBody(V2_EVENT);
    const { 'x-lark-signature': _signature, ...unsigned } = signedHeaders(rawBody);
    const error = expectRejected(() => verifyLarkCallback({ headers: unsigned, rawBody, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }), 'malformed');
    expect(error.message).toMatch(/X-Lark-Signature/);
    expectRejected(() => verifyLarkCallback({ headers: {}, rawBody, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }), 'malformed');
  });

  it('refuses a timestamp outside the window either way (seconds), and accepts one at its edge', () => {
    const rawBody = sealedBody(V2_EVENT);
    const at = (timestamp: string, windowMs?: number) => () =>
      verifyLarkCallback({ headers: signedHeaders(rawBody, timestamp), rawBody, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW, ...(windowMs === undefined ? {} : { windowMs }) });
    expectRejected(at('1699999699'), 'stale');
    expectRejected(at('1700000301'), 'stale');
    expect(at('1699999700')().kind).toBe('event');
    expectRejected(at('1699999990', 5_000), 'stale');
    expectRejected(at('17e8'), 'malformed');
  });

  it('refuses a wrong verification token inside a correctly signed and encrypted body', () => {
    expectRejected(() => verifySealed({ ...V2_EVENT, header: { ...V2_EVENT.header, token: 'other' } }), 'bad-signature');
    expectRejected(() => verifySealed({ ...V1_EVENT, token: 'other' }), 'bad-signature');
    expectRejected(() => verifySealed({ challenge: 'c', token: 'other', type: 'url_verification' }), 'bad-signature');
  });

  it('refuses a decrypted body that is not JSON, or not an object', () => {
    const notJson = Buffer.from(JSON.stringify({ encrypt: encryptLark(ENCRYPT_KEY, `token=${TOKEN}`) }));
    const error = expectRejected(() => verifyLarkCallback({ headers: signedHeaders(notJson), rawBody: notJson, encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: NOW }), 'malformed');
    expect(error.cause).toBeUndefined();
    expectRejected(() => verifySealed([V2_EVENT]), 'malformed');
  });
});

describe('verifyLarkCallback without an Encrypt Key', () => {
  const plain = (payload: unknown, headers: Record<string, string> = {}) => {
    const rawBody = Buffer.from(JSON.stringify(payload));
    return verifyLarkCallback({ headers, rawBody, verificationToken: TOKEN, now: NOW });
  };

  it('answers a plain URL verification and reads plain events, unsigned', () => {
    expect(plain({ challenge: 'ch-2', token: TOKEN, type: 'url_verification' })).toEqual({ kind: 'challenge', challenge: 'ch-2' });
    expect(plain(V2_EVENT)).toMatchObject({ kind: 'event', eventId: 'ev-2' });
    expect(plain(V1_EVENT)).toMatchObject({ kind: 'event', eventId: 'outer-uuid', eventType: 'approval_instance' });
  });

  it('still refuses a stale timestamp when one is sent', () => {
    expectRejected(() => plain(V2_EVENT, { 'x-lark-request-timestamp': '1600000000' }), 'stale');
    expect(plain(V2_EVENT, { 'x-lark-request-timestamp': TIMESTAMP }).kind).toBe('event');
  });

  it('refuses a wrong or missing verification token', () => {
    expectRejected(() => plain({ ...V2_EVENT, header: { ...V2_EVENT.header, token: 'other' } }), 'bad-signature');
    expectRejected(() => plain({ ...V1_EVENT, token: `${TOKEN}x` }), 'bad-signature');
    const { token: _token, ...tokenless } = V1_EVENT;
    expectRejected(() => plain(tokenless), 'malformed');
    expectRejected(() => plain({ ...V2_EVENT, header: { ...V2_EVENT.header, token: undefined } }), 'malformed');
  });

  it('refuses an encrypted body it has no key for', () => {
    const rawBody = sealedBody(V2_EVENT);
    const error = expectRejected(() => verifyLarkCallback({ headers: {}, rawBody, verificationToken: TOKEN, now: NOW }), 'bad-encryption');
    expect(error.message).toMatch(/no Encrypt Key is configured/);
  });

  it('refuses a body that is not JSON', () => {
    expectRejected(() => verifyLarkCallback({ headers: {}, rawBody: Buffer.from('challenge=1'), verificationToken: TOKEN, now: NOW }), 'malformed');
    expectRejected(() => verifyLarkCallback({ headers: {}, rawBody: Buffer.from(''), verificationToken: TOKEN, now: NOW }), 'malformed');
  });

  it('refuses envelopes it does not know, or that lack their ids', () => {
    expectRejected(() => plain({ type: 'something_else', token: TOKEN }), 'malformed');
    expectRejected(() => plain({ ...V2_EVENT, header: { ...V2_EVENT.header, event_id: '' } }), 'malformed');
    expectRejected(() => plain({ ...V1_EVENT, uuid: undefined }), 'malformed');
    expectRejected(() => plain({ ...V1_EVENT, event: { ...V1_EVENT.event, type: undefined } }), 'malformed');
    expectRejected(() => plain({ type: 'url_verification', token: TOKEN }), 'malformed');
  });
});
