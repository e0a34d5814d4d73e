import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { EcsApiError } from './api-error.js';

/** One request as the signature sees it: decoded parameters, lower-cased header names, raw body. */
export interface SignedRequest {
  method: string;
  /** Query parameters, decoded, in the order they arrived. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Parameters of an `application/x-www-form-urlencoded` body, decoded (the v2 signature covers them). */
  form: ReadonlyArray<readonly [string, string]>;
  /** Header names lower-cased, as `node:http` gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

/** Who signed a request, and what it carried against replays. */
export interface VerifiedSignature {
  accessKeyId: string;
  /** `ACS3-HMAC-SHA256` (header) or `HMAC-SHA1` (v2, in the query). */
  algorithm: 'ACS3-HMAC-SHA256' | 'HMAC-SHA1';
  /** `x-acs-signature-nonce`, or `SignatureNonce` for v2. */
  nonce: string;
  /** `x-acs-date`, or `Timestamp` for v2 (ISO 8601, UTC). */
  timestamp: string;
}

const ACS3 = 'ACS3-HMAC-SHA256';

/**
 * Checks a request's signature the way the ECS endpoint does, for both algorithms the SDK can
 * send: ACS3-HMAC-SHA256 in the `authorization` header (the default), and the older RPC v2
 * signature in the query (`signatureAlgorithm: 'v2'`). `secretOf` maps an AccessKey id to its
 * secret, or undefined when the key is unknown.
 *
 * Throws EcsApiError: `IncompleteSignature` (no or garbled signature, unsigned `x-acs-*` headers),
 * `InvalidAccessKeyId.NotFound` (unknown key), `SignatureDoesNotMatch` (any other difference,
 * including a changed parameter, header or body).
 */
export function verifySignature(request: SignedRequest, secretOf: (accessKeyId: string) => string | undefined): VerifiedSignature {
  const authorization = header(request.headers, 'authorization');
  if (authorization !== undefined) return verifyAcs3(request, authorization, secretOf);
  if ([...request.query, ...request.form].some(([name]) => name === 'Signature')) return verifyV2(request, secretOf);
  throw incomplete('the request carries no signature: neither an authorization header nor a Signature parameter');
}

function verifyAcs3(request: SignedRequest, authorization: string, secretOf: (id: string) => string | undefined): VerifiedSignature {
  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  if (algorithm !== ACS3) throw incomplete(`unsupported signature algorithm ${JSON.stringify(algorithm)}: the emulator verifies ${ACS3} and the v2 query signature`);
  const fields = new Map<string, string>();
  for (const part of authorization.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || !signedHeaders || !signature || !/^[0-9a-f]{64}$/i.test(signature)) {
    throw incomplete('the authorization header must read "ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<names>,Signature=<64 hex digits>"');
  }
  const names = signedHeaders.split(';').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  const signedSet = new Set(names);
  // The action and version travel in x-acs-* headers: an unsigned one could be swapped in transit.
  const unsigned = Object.keys(request.headers).filter((name) => (name.startsWith('x-acs-') || name === 'host') && !signedSet.has(name));
  if (unsigned.length > 0) throw incomplete(`these headers must be signed: ${unsigned.sort().join(', ')}`);
  const missing = names.filter((name) => header(request.headers, name) === undefined);
  if (missing.length > 0) throw incomplete(`signed headers missing from the request: ${missing.join(', ')}`);
  const nonce = header(request.headers, 'x-acs-signature-nonce');
  const timestamp = header(request.headers, 'x-acs-date');
  if (nonce === undefined || timestamp === undefined) throw incomplete('the x-acs-signature-nonce and x-acs-date headers are required');

  const secret = secretOf(accessKeyId);
  if (secret === undefined) throw unknownKey(accessKeyId);

  const sortedNames = [...names].sort();
  const canonicalRequest = [
    request.method.toUpperCase(),
    '/',
    canonicalQuery(request.query),
    sortedNames.map((name) => `${name}:${header(request.headers, name)!.trim()}\n`).join(''),
    sortedNames.join(';'),
    // The body as received, not the x-acs-content-sha256 header: a changed body must not verify.
    createHash('sha256').update(request.body).digest('hex'),
  ].join('\n');
  const stringToSign = `${ACS3}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const expected = createHmac('sha256', secret).update(stringToSign).digest('hex');
  if (!equal(expected, signature.toLowerCase())) {
    throw new EcsApiError(400, 'SignatureDoesNotMatch', `The request signature does not conform to Aliyun standards. server string to sign is:${stringToSign}`);
  }
  return { accessKeyId, algorithm: ACS3, nonce, timestamp };
}

function verifyV2(request: SignedRequest, secretOf: (id: string) => string | undefined): VerifiedSignature {
  const all = [...request.query, ...request.form];
  const value = (name: string) => all.find(([key]) => key === name)?.[1];
  const signature = value('Signature');
  const accessKeyId = value('AccessKeyId');
  const nonce = value('SignatureNonce');
  const timestamp = value('Timestamp');
  if (!signature || !accessKeyId) throw incomplete('a v2 signature needs the Signature and AccessKeyId parameters');
  if (value('SignatureMethod') !== 'HMAC-SHA1' || value('SignatureVersion') !== '1.0') {
    throw incomplete('a v2 signature needs SignatureMethod=HMAC-SHA1 and SignatureVersion=1.0');
  }
  if (nonce === undefined || timestamp === undefined) throw incomplete('a v2 signature needs the SignatureNonce and Timestamp parameters');
  const secret = secretOf(accessKeyId);
  if (secret === undefined) throw unknownKey(accessKeyId);

  const signed = all.filter(([name]) => name !== 'Signature');
  const canonicalized = sortPairs(signed).map(([name, v]) => `${percentEncode(name)}=${percentEncode(v)}`).join('&');
  const stringToSign = `${request.method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalized)}`;
  const expected = createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
  if (!equal(expected, signature)) {
    throw new EcsApiError(400, 'SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`);
  }
  return { accessKeyId, algorithm: 'HMAC-SHA1', nonce, timestamp };
}

/**
 * RFC 3986 percent-encoding, as Alibaba Cloud's signatures use it: everything but
 * `A-Z a-z 0-9 - _ . ~` is encoded, space as `%20`. (encodeURIComponent leaves `!'()*` alone.)
 */
export function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query as ACS3 signs it: sorted by name, `name=value` percent-encoded, joined by `&`. */
export function canonicalQuery(query: ReadonlyArray<readonly [string, string]>): string {
  return sortPairs(query).map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`).join('&');
}

/** Sorted by name in code-unit order, as the SDK sorts (a stable sort keeps repeated names in order). */
function sortPairs(pairs: ReadonlyArray<readonly [string, string]>): (readonly [string, string])[] {
  return [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function incomplete(why: string): EcsApiError {
  return new EcsApiError(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards: ${why}.`);
}

function unknownKey(accessKeyId: string): EcsApiError {
  return new EcsApiError(404, 'InvalidAccessKeyId.NotFound', `Specified access key is not found: ${accessKeyId}.`);
}
