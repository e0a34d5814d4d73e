import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { CallbackRejected, type CallbackRejectedReason } from '../../../src/ingress/callback-checks.js';
import { decryptDingtalk, dingtalkReply, dingtalkSignature, encryptDingtalk, verifyDingtalkCallback } from '../../../src/ingress/dingtalk/callback-crypto.js';

// DingTalk's published vector.
const TOKEN = 'mryue';
const AES_KEY = 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7';
const OWNER = 'ding6ccabc44d2c8d38b';
const TIMESTAMP = '1608001896814';
const NONCE = 'WL4PK6yA';
const ENCRYPT =
  '0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3';
const SIGNATURE = '03044561471240d4a14bb09372dfcfd4fd0e40cb';
const AT_TIMESTAMP = new Date(Number(TIMESTAMP) + 1_000);
const SECRETS = [TOKEN, AES_KEY, OWNER];

/** Runs `fn`, expects a CallbackRejected with `reason`, and that its message names no secret. */
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
  expect(rejected.retryable).toBe(false);
  for (const secret of SECRETS) expect(rejected.message).not.toContain(secret);
  return rejected;
}

/** AES-256-CBC with DingTalk's key and iv over bytes the test pads itself (or not). */
function sealRaw(plain: Buffer): string {
  const key = Buffer.from(`${AES_KEY}=`, 'base64');
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

function framed(message: string, owner: string, declaredLength?: number): Buffer {
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(declaredLength ?? body.length);
  return Buffer.concat([Buffer.alloc(16, 7), length, body, Buffer.from(owner, 'utf8')]);
}

function signedQuery(encrypt: string, timestamp = TIMESTAMP) {
  return { msg_signature: dingtalkSignature(TOKEN, timestamp, NONCE, encrypt), timestamp, nonce: NONCE };
}

function verify(overrides: Partial<Parameters<typeof verifyDingtalkCallback>[0]> = {}) {
  return verifyDingtalkCallback({
    query: { msg_signature: SIGNATURE, timestamp: TIMESTAMP, nonce: NONCE },
    body: { encrypt: ENCRYPT },
    token: TOKEN,
    encodingAesKey: AES_KEY,
    ownerKey: OWNER,
    now: AT_TIMESTAMP,
    ...overrides,
  });
}

describe('the published vector', () => {
  it('signs to the published signature', () => {
    expect(dingtalkSignature(TOKEN, TIMESTAMP, NONCE, ENCRYPT)).toBe(SIGNATURE);
  });

  it('decrypts to the URL check', () => {
    expect(decryptDingtalk(AES_KEY, ENCRYPT, OWNER)).toBe('{"EventType":"check_url"}');
  });

  it('verifies as a callback, with the query as an object or as URLSearchParams', () => {
    expect(verify()).toEqual({ event: { EventType: 'check_url' } });
    const params = new URLSearchParams({ signature: SIGNATURE, timeStamp: TIMESTAMP, nonce: NONCE });
    expect(verify({ query: params })).toEqual({ event: { EventType: 'check_url' } });
  });

  it('reads the body as raw bytes, as text or already parsed', () => {
    const text = JSON.stringify({ encrypt: ENCRYPT });
    expect(verify({ body: Buffer.from(text) }).event).toEqual({ EventType: 'check_url' });
    expect(verify({ body: text }).event).toEqual({ EventType: 'check_url' });
  });

  it('takes the first value of a repeated query key', () => {
    expect(verify({ query: { msg_signature: [SIGNATURE, 'other'], timestamp: TIMESTAMP, nonce: NONCE } }).event).toEqual({ EventType: 'check_url' });
  });
});

describe('encryptDingtalk', () => {
  it('round-trips UTF-8 messages through decryptDingtalk', () => {
    for (const message of ['', 'success', '{"title":"开通账号 ✓"}', 'x'.repeat(1000)]) {
      const sealed = encryptDingtalk(AES_KEY, message, OWNER);
      expect(Buffer.from(sealed, 'base64').length % 32).toBe(0);
      expect(decryptDingtalk(AES_KEY, sealed, OWNER)).toBe(message);
    }
  });

  it('pads a plaintext that fills whole blocks with a full 32-byte block', () => {
    // 16 random + 4 length + 24 message + 20 owner key = 64 bytes: one more block of padding.
    const sealed = encryptDingtalk(AES_KEY, 'y'.repeat(24), OWNER, Buffer.alloc(16));
    expect(Buffer.from(sealed, 'base64').length).toBe(96);
    expect(decryptDingtalk(AES_KEY, sealed, OWNER)).toBe('y'.repeat(24));
  });

  it('is deterministic given the random bytes, and different for different ones', () => {
    const a = encryptDingtalk(AES_KEY, 'success', OWNER, Buffer.alloc(16, 1));
    expect(encryptDingtalk(AES_KEY, 'success', OWNER, Buffer.alloc(16, 1))).toBe(a);
    expect(encryptDingtalk(AES_KEY, 'success', OWNER, Buffer.alloc(16, 2))).not.toBe(a);
    expect(sealRaw(Buffer.concat([framed('success', OWNER).fill(1, 0, 16), Buffer.alloc(17, 17)]))).toBe(a);
  });

  it('refuses random bytes that are not 16', () => {
    expect(() => encryptDingtalk(AES_KEY, 'success', OWNER, Buffer.alloc(15))).toThrow(/exactly 16/);
  });

  it('refuses an encodingAesKey that is not 43 base64 characters, without echoing it', () => {
    const badKey = `${AES_KEY.slice(0, 42)}!`;
    for (const key of [AES_KEY.slice(0, 42), badKey, `${AES_KEY}=`]) {
      let caught: unknown;
      try {
        decryptDingtalk(key, ENCRYPT, OWNER);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RollcallError);
      expect(caught).not.toBeInstanceOf(CallbackRejected);
      expect((caught as RollcallError).code).toBe('invalid-input');
      expect((caught as RollcallError).message).toMatch(/43 base64 characters/);
      expect((caught as RollcallError).message).not.toContain(key);
    }
  });
});

describe('dingtalkReply', () => {
  it('seals "success" with our owner key and signs it with the timestamp in milliseconds', () => {
    const now = new Date(1_700_000_000_123);
    const reply = dingtalkReply({ token: TOKEN, encodingAesKey: AES_KEY, ownerKey: OWNER, now, nonce: 'n0nce' });
    expect(reply.timeStamp).toBe('1700000000123');
    expect(reply.nonce).toBe('n0nce');
    expect(decryptDingtalk(AES_KEY, reply.encrypt, OWNER)).toBe('success');
    expect(reply.msg_signature).toBe(dingtalkSignature(TOKEN, '1700000000123', 'n0nce', reply.encrypt));
  });

  it('draws an 8-character alphanumeric nonce when none is given', () => {
    const reply = dingtalkReply({ token: TOKEN, encodingAesKey: AES_KEY, ownerKey: OWNER, now: AT_TIMESTAMP });
    expect(reply.nonce).toMatch(/^[A-Za-z0-9]{8}$/);
  });
});

describe('decryptDingtalk rejections', () => {
  it('refuses a tampered ciphertext', () => {
    const bytes = Buffer.from(ENCRYPT, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 0x80; // flips the top bit of the declared length
    expectRejected(() => decryptDingtalk(AES_KEY, bytes.toString('base64'), OWNER), 'bad-encryption');
  });

  it('refuses bad padding: a zero pad byte, one over 32, or inconsistent pad bytes', () => {
    const plain = framed('{"a":1}', OWNER); // 16 + 4 + 7 + 20 = 47 bytes
    const cases = [
      Buffer.concat([plain, Buffer.alloc(16, 0), Buffer.alloc(1, 0)]),
      Buffer.concat([plain, Buffer.alloc(16, 0), Buffer.alloc(1, 33)]),
      Buffer.concat([plain, Buffer.alloc(16, 17), Buffer.alloc(1, 16)]),
    ];
    for (const padded of cases) {
      expect(padded.length).toBe(64);
      const error = expectRejected(() => decryptDingtalk(AES_KEY, sealRaw(padded), OWNER), 'bad-encryption');
      expect(error.message).toMatch(/padding/);
    }
  });

  it('refuses PKCS#7 padding to 16-byte blocks (a ciphertext that is not whole 32-byte blocks)', () => {
    const plain = framed('{"a":1}', OWNER);
    const sealed = sealRaw(Buffer.concat([plain, Buffer.alloc(1, 1)])); // 48 bytes
    expectRejected(() => decryptDingtalk(AES_KEY, sealed, OWNER), 'bad-encryption');
  });

  it('refuses a declared length longer than the message', () => {
    const plain = framed('{"a":1}', OWNER, 1000);
    const sealed = sealRaw(Buffer.concat([plain, Buffer.alloc(17, 17)]));
    const error = expectRejected(() => decryptDingtalk(AES_KEY, sealed, OWNER), 'bad-encryption');
    expect(error.message).toMatch(/longer than it holds/);
  });

  it('refuses a message sealed for another app, and one with no owner key', () => {
    const other = encryptDingtalk(AES_KEY, '{"a":1}', 'ding0000000000000000');
    expectRejected(() => decryptDingtalk(AES_KEY, other, OWNER), 'wrong-owner');
    const none = encryptDingtalk(AES_KEY, '{"a":1}', '');
    expectRejected(() => decryptDingtalk(AES_KEY, none, OWNER), 'wrong-owner');
    const longer = encryptDingtalk(AES_KEY, '{"a":1}', `${OWNER}x`);
    expectRejected(() => decryptDingtalk(AES_KEY, longer, OWNER), 'wrong-owner');
  });

  it('refuses truncated or damaged base64', () => {
    expectRejected(() => decryptDingtalk(AES_KEY, ENCRYPT.slice(0, -3), OWNER), 'bad-encryption');
    expectRejected(() => decryptDingtalk(AES_KEY, ENCRYPT.slice(0, -4), OWNER), 'bad-encryption');
    expectRejected(() => decryptDingtalk(AES_KEY, `${ENCRYPT.slice(0, 10)}*${ENCRYPT.slice(11)}`, OWNER), 'bad-encryption');
    expectRejected(() => decryptDingtalk(AES_KEY, '', OWNER), 'bad-encryption');
  });

  it('refuses a message that is not UTF-8', () => {
    const plain = Buffer.concat([Buffer.alloc(16), Buffer.from([0, 0, 0, 2, 0xc3, 0x28]), Buffer.from(OWNER)]);
    const sealed = sealRaw(Buffer.concat([plain, Buffer.alloc(22, 22)]));
    expectRejected(() => decryptDingtalk(AES_KEY, sealed, OWNER), 'bad-encryption');
  });
});

describe('verifyDingtalkCallback rejections', () => {
  it('refuses a wrong signature, and a signature made with another token', () => {
    expectRejected(() => verify({ query: { msg_signature: SIGNATURE.replace('0', '1'), timestamp: TIMESTAMP, nonce: NONCE } }), 'bad-signature');
    expectRejected(() => verify({ token: 'another' }), 'bad-signature');
  });

  it('refuses a tampered encrypt field by its signature before decrypting it', () => {
    const tampered = `${ENCRYPT.slice(0, 20)}${ENCRYPT[20] === 'A' ? 'B' : 'A'}${ENCRYPT.slice(21)}`;
    expectRejected(() => verify({ body: { encrypt: tampered } }), 'bad-signature');
  });

  it('refuses a timestamp outside the window either way, and accepts one at its edge', () => {
    const ts = Number(TIMESTAMP);
    expectRejected(() => verify({ now: new Date(ts + 5 * 60_000 + 1) }), 'stale');
    const ahead = expectRejected(() => verify({ now: new Date(ts - 6 * 60_000) }), 'stale');
    expect(ahead.message).toMatch(/360 s ahead of our clock/);
    expect(verify({ now: new Date(ts + 5 * 60_000) }).event).toEqual({ EventType: 'check_url' });
    expectRejected(() => verify({ now: new Date(ts + 2_000), windowMs: 1_000 }), 'stale');
  });

  it('refuses a timestamp that is not a number', () => {
    const encrypt = encryptDingtalk(AES_KEY, '{}', OWNER);
    expectRejected(() => verify({ query: signedQuery(encrypt, '16080018968xx'), body: { encrypt } }), 'malformed');
  });

  it('refuses a query without signature, timestamp or nonce, naming what is missing', () => {
    const error = expectRejected(() => verify({ query: { msg_signature: SIGNATURE, timestamp: TIMESTAMP } }), 'malformed');
    expect(error.message).toMatch(/lacks nonce/);
    expectRejected(() => verify({ query: { timestamp: TIMESTAMP, nonce: NONCE } }), 'malformed');
    expectRejected(() => verify({ query: { msg_signature: SIGNATURE, timestamp: '', nonce: NONCE } }), 'malformed');
  });

  it('refuses a body without encrypt, a body that is not JSON, and one that is not an object', () => {
    expectRejected(() => verify({ body: {} }), 'malformed');
    expectRejected(() => verify({ body: { encrypt: 42 } }), 'malformed');
    expectRejected(() => verify({ body: Buffer.from('encrypt=abc') }), 'malformed');
    expectRejected(() => verify({ body: '[]' }), 'malformed');
  });

  it('refuses an event that decrypts to text that is not JSON', () => {
    const encrypt = encryptDingtalk(AES_KEY, `not json ${TOKEN}`, OWNER);
    const error = expectRejected(() => verify({ query: signedQuery(encrypt), body: { encrypt } }), 'malformed');
    expect(error.cause).toBeUndefined();
  });

  it('refuses a signed but truncated encrypt field', () => {
    const encrypt = ENCRYPT.slice(0, -6);
    expectRejected(() => verify({ query: signedQuery(encrypt), body: { encrypt } }), 'bad-encryption');
  });

  it('refuses a signed event sealed for another app', () => {
    const encrypt = encryptDingtalk(AES_KEY, '{"EventType":"bpms_instance_change"}', 'ding0000000000000000');
    expectRejected(() => verify({ query: signedQuery(encrypt), body: { encrypt } }), 'wrong-owner');
  });

  it('accepts an event it sealed and signed itself', () => {
    const event = { EventType: 'bpms_instance_change', type: 'finish', result: 'agree', processInstanceId: 'p-1' };
    const encrypt = encryptDingtalk(AES_KEY, JSON.stringify(event), OWNER);
    expect(verify({ query: signedQuery(encrypt), body: { encrypt } })).toEqual({ event });
  });
});
