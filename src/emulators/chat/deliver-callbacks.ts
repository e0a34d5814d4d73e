import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { decryptDingtalk, dingtalkSignature, encryptDingtalk } from '../../ingress/dingtalk/callback-crypto.js';
import { encryptLark, larkSignature } from '../../ingress/lark/callback-crypto.js';

/*
 * HTTP event callbacks sent the way DingTalk and Lark send them (sealed, signed), with the
 * platforms' reply rules: DingTalk wants the encrypted, signed "success" within 1500 ms, Lark a 200
 * within 3 s. A delivery that fails is tried again after each delay (the platforms retry too).
 * The same callbacks can go to an EventBridge HTTPS event source's webhook instead (`…ToBus`):
 * there the bus answers for rollcall, so any 2xx is delivered.
 */

/** Where DingTalk pushes an app's events, and the app's callback secrets. */
export interface DingtalkCallbackTarget {
  url: string;
  token: string;
  /** The 43-character encodingAesKey. */
  aesKey: string;
}

/** Where Lark posts an app's events, and the app's callback secrets. */
export interface LarkCallbackTarget {
  url: string;
  /** When set, bodies are `{encrypt}` and signed; otherwise plain JSON. */
  encryptKey?: string;
  verificationToken: string;
}

/** How one HTTP delivery ended (the last attempt's status and error when it failed). */
export interface HttpDeliveryOutcome {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

export interface HttpDeliveryOptions {
  /** Waits between attempts; their count + 1 is the number of attempts. Default [500, 2000, 5000]. */
  retryDelaysMs?: readonly number[];
  /** Per attempt: DingTalk 1500 ms, Lark 3000 ms by default (the platforms' reply deadlines). */
  timeoutMs?: number;
  /** Aborts waits and requests (the emulator closing). */
  signal?: AbortSignal;
}

const DEFAULT_RETRY_DELAYS_MS = [500, 2000, 5000];

const DingtalkReply = z.looseObject({ msg_signature: z.string(), timeStamp: z.union([z.string(), z.number()]).transform(String), nonce: z.string(), encrypt: z.string() });

interface Attempt {
  ok: boolean;
  status?: number;
  error?: string;
}

/**
 * Pushes a DingTalk event (`EventType` etc. in `event`) to the app's URL: sealed with the
 * encodingAesKey for `ownerKey` (the app's appKey), signed in the query. Counts as delivered only
 * when the reply is `{msg_signature, timeStamp, nonce, encrypt}` whose signature verifies and whose
 * `encrypt` opens to "success".
 */
export function deliverDingtalkCallback(target: DingtalkCallbackTarget, ownerKey: string, event: object, options: HttpDeliveryOptions = {}): Promise<HttpDeliveryOutcome> {
  return withRetries(options, () => postDingtalk(target, ownerKey, event, options.timeoutMs ?? 1500, options.signal));
}

/**
 * Pushes the same sealed, signed DingTalk callback as `deliverDingtalkCallback` to an EventBridge
 * HTTPS event source's webhook (`target.url`, its `?token=` kept). The bus answers, not rollcall,
 * so DingTalk's sealed "success" cannot come back: any 2xx is delivered.
 */
export function deliverDingtalkCallbackToBus(target: DingtalkCallbackTarget, ownerKey: string, event: object, options: HttpDeliveryOptions = {}): Promise<HttpDeliveryOutcome> {
  return withRetries(options, async () => accepted(await sendDingtalk(target, ownerKey, event, options.timeoutMs ?? 1500, options.signal)));
}

/** DingTalk's URL check, as its console runs it when the URL is saved: `{"EventType":"check_url"}`, once. */
export function checkDingtalkCallbackUrl(target: DingtalkCallbackTarget, ownerKey: string, options: Omit<HttpDeliveryOptions, 'retryDelaysMs'> = {}): Promise<HttpDeliveryOutcome> {
  return withRetries({ ...options, retryDelaysMs: [] }, () => postDingtalk(target, ownerKey, { EventType: 'check_url' }, options.timeoutMs ?? 1500, options.signal));
}

/**
 * Posts a Lark event envelope (v1 or v2, `token` already inside) to the app's URL: encrypted and
 * signed when the target has an Encrypt Key. Delivered = HTTP 200.
 */
export function deliverLarkCallback(target: LarkCallbackTarget, envelope: object, options: HttpDeliveryOptions = {}): Promise<HttpDeliveryOutcome> {
  return withRetries(options, async () => {
    const answer = await postLark(target, envelope, options.timeoutMs ?? 3000, options.signal);
    if ('error' in answer) return answer;
    return answer.status === 200 ? { ok: true, status: 200 } : { ok: false, status: answer.status, error: `answered HTTP ${answer.status}, not 200` };
  });
}

/**
 * Posts the same Lark callback as `deliverLarkCallback` (encrypted and signed with an Encrypt Key)
 * to an EventBridge HTTPS event source's webhook. The bus answers for rollcall: any 2xx is delivered.
 */
export function deliverLarkCallbackToBus(target: LarkCallbackTarget, envelope: object, options: HttpDeliveryOptions = {}): Promise<HttpDeliveryOutcome> {
  return withRetries(options, async () => accepted(await postLark(target, envelope, options.timeoutMs ?? 3000, options.signal)));
}

/** Lark's URL verification, once: `{challenge, token, type: "url_verification"}` → must answer `{challenge}`. */
export function checkLarkCallbackUrl(target: LarkCallbackTarget, options: Omit<HttpDeliveryOptions, 'retryDelaysMs'> = {}): Promise<HttpDeliveryOutcome> {
  const challenge = randomUUID();
  return withRetries({ ...options, retryDelaysMs: [] }, async () => {
    const answer = await postLark(target, { challenge, token: target.verificationToken, type: 'url_verification' }, options.timeoutMs ?? 1000, options.signal);
    if ('error' in answer) return answer;
    let echoed: unknown;
    try {
      echoed = (JSON.parse(answer.text) as { challenge?: unknown }).challenge;
    } catch {
      echoed = undefined;
    }
    if (answer.status !== 200 || echoed !== challenge) return { ok: false, status: answer.status, error: 'the URL verification was not answered with {"challenge": <the challenge sent>}' };
    return { ok: true, status: 200 };
  });
}

async function withRetries(options: HttpDeliveryOptions, attempt: () => Promise<Attempt>): Promise<HttpDeliveryOutcome> {
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  let last: Attempt = { ok: false, error: 'not attempted' };
  for (let index = 0; index <= delays.length; index += 1) {
    if (index > 0) {
      try {
        await sleep(delays[index - 1], undefined, { signal: options.signal });
      } catch {
        return { ...last, attempts: index, error: `${last.error ?? 'failed'}; gave up: the emulator closed` };
      }
    }
    last = await attempt();
    if (last.ok) return { ...last, attempts: index + 1 };
  }
  return { ...last, attempts: delays.length + 1 };
}

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal | undefined): Promise<{ status: number; text: string } | { ok: false; error: string }> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    return { ok: false, error: `POST ${url} failed: ${reason}` };
  }
}

/** An answer from a bus's webhook: delivered when 2xx. */
function accepted(answer: { status: number; text: string } | { ok: false; error: string }): Attempt {
  if ('error' in answer) return answer;
  return answer.status >= 200 && answer.status < 300 ? { ok: true, status: answer.status } : { ok: false, status: answer.status, error: `answered HTTP ${answer.status}, not 2xx` };
}

/** Seals and signs a DingTalk event and posts it: signature, timestamp and nonce in the query, `{encrypt}` the body. */
function sendDingtalk(target: DingtalkCallbackTarget, ownerKey: string, event: object, timeoutMs: number, signal: AbortSignal | undefined): Promise<{ status: number; text: string } | { ok: false; error: string }> {
  const timestamp = String(Date.now());
  const nonce = randomBytes(6).toString('base64url').slice(0, 8);
  const encrypt = encryptDingtalk(target.aesKey, JSON.stringify(event), ownerKey);
  const url = new URL(target.url);
  url.searchParams.set('msg_signature', dingtalkSignature(target.token, timestamp, nonce, encrypt));
  url.searchParams.set('timestamp', timestamp);
  url.searchParams.set('nonce', nonce);
  return post(url.toString(), JSON.stringify({ encrypt }), {}, timeoutMs, signal);
}

async function postDingtalk(target: DingtalkCallbackTarget, ownerKey: string, event: object, timeoutMs: number, signal: AbortSignal | undefined): Promise<Attempt> {
  const answer = await sendDingtalk(target, ownerKey, event, timeoutMs, signal);
  if ('error' in answer) return answer;
  if (answer.status !== 200) return { ok: false, status: answer.status, error: `answered HTTP ${answer.status}, not 200` };
  let reply: z.infer<typeof DingtalkReply> | undefined;
  try {
    const parsed = DingtalkReply.safeParse(JSON.parse(answer.text));
    reply = parsed.success ? parsed.data : undefined;
  } catch {
    reply = undefined;
  }
  if (reply === undefined) return { ok: false, status: 200, error: 'the reply is not {msg_signature, timeStamp, nonce, encrypt}' };
  if (reply.msg_signature !== dingtalkSignature(target.token, reply.timeStamp, reply.nonce, reply.encrypt)) {
    return { ok: false, status: 200, error: "the reply's msg_signature does not match its timeStamp, nonce and encrypt under the token" };
  }
  let plain: string;
  try {
    plain = decryptDingtalk(target.aesKey, reply.encrypt, ownerKey);
  } catch (error) {
    return { ok: false, status: 200, error: `the reply's encrypt does not open: ${(error as Error).message}` };
  }
  return plain === 'success' ? { ok: true, status: 200 } : { ok: false, status: 200, error: `the reply's encrypt opens to ${JSON.stringify(plain.slice(0, 40))}, not "success"` };
}

async function postLark(target: LarkCallbackTarget, envelope: object, timeoutMs: number, signal: AbortSignal | undefined): Promise<{ status: number; text: string } | { ok: false; error: string }> {
  const plain = JSON.stringify(envelope);
  const body = target.encryptKey === undefined ? plain : JSON.stringify({ encrypt: encryptLark(target.encryptKey, plain) });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(8).toString('hex');
  const headers: Record<string, string> = { 'X-Lark-Request-Timestamp': timestamp, 'X-Lark-Request-Nonce': nonce };
  if (target.encryptKey !== undefined) headers['X-Lark-Signature'] = larkSignature(timestamp, nonce, target.encryptKey, Buffer.from(body, 'utf8'));
  return post(target.url, body, headers, timeoutMs, signal);
}
