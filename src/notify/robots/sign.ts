import { createHmac } from 'node:crypto';

/*
 * The two custom-robot signatures. They look alike and differ in every detail that matters:
 * DingTalk signs in milliseconds with the secret as the key; Lark signs in seconds with
 * `timestamp + "\n" + secret` as the key and an empty message (many published snippets swap the
 * two, which Lark answers with 19021).
 */

/**
 * DingTalk's `sign` query value: urlencode(base64(HMAC-SHA256(key = secret, message = `${timestampMs}\n${secret}`))).
 * Already URL-encoded: append it to the query as is, never through URLSearchParams (that would encode it twice).
 */
export function dingtalkSign(timestampMs: number, secret: string): string {
  const digest = createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
  return encodeURIComponent(digest);
}

/** Lark's body `sign`: base64(HMAC-SHA256(key = `${timestampSeconds}\n${secret}`, message = empty)). */
export function larkSign(timestampSeconds: number, secret: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}
