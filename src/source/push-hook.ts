import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * `POST /hooks/git`: verify and read a push notification. The payload is only a wake-up: rollcall
 * then fetches from its configured remote, never trusting the payload's content.
 */
export type PushHookResult =
  | { ok: true; provider: 'github' | 'gitlab' | 'codeup' | 'unknown'; ref?: string; after?: string; tracked: boolean }
  | { ok: false; status: 400 | 401; message: string };

/** The parts of an HTTP request the hook reads: the raw body, since signatures cover its bytes. */
export interface PushHookRequest {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface PushHookOptions {
  /** The webhook's secret; without one, any request is accepted (see {@link readPushHook}). */
  secret?: string;
  /** The tracked branch: a push to `refs/heads/<branch>` is `tracked`. */
  branch: string;
}

type Provider = Extract<PushHookResult, { ok: true }>['provider'];

/** What rollcall reads of a push payload (GitHub, GitLab and Codeup all send these two), leniently. */
const PushPayload = z.object({
  ref: z.string().optional().catch(undefined),
  after: z
    .string()
    .regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/)
    .optional()
    .catch(undefined),
});

/**
 * Verifies and reads a push notification from GitHub, GitLab or Codeup (Alibaba Cloud DevOps).
 *
 * With a secret: GitHub's `X-Hub-Signature-256: sha256=<HMAC-SHA256(secret, body)>`, or the secret
 * itself in GitLab's `X-Gitlab-Token` / Codeup's `X-Codeup-Token`, must match (compared in constant
 * time); otherwise 401. Without a secret every request is accepted: anyone who can reach the hook
 * can make rollcall fetch early, which is harmless, since rollcall only reconciles what it fetches
 * from its own remote. A body that is not a JSON object is 400. GitHub's `ping` and any event that
 * is not a push are ok with `tracked: false`.
 */
export function readPushHook(request: PushHookRequest, options: PushHookOptions): PushHookResult {
  const header = headerReader(request.headers);
  const provider = detectProvider(header);
  if (options.secret !== undefined) {
    const refusal = verify(provider, header, request.body, options.secret);
    if (refusal) return { ok: false, status: 401, message: refusal };
  }
  const payload = parseBody(request.body, header('content-type'));
  if (typeof payload === 'string') return { ok: false, status: 400, message: payload };
  const { ref, after } = PushPayload.parse(payload);
  const isPush = isPushEvent(provider, header);
  return {
    ok: true,
    provider,
    ...(ref !== undefined ? { ref } : {}),
    ...(after !== undefined ? { after } : {}),
    tracked: isPush && ref === `refs/heads/${options.branch}`,
  };
}

type HeaderReader = (name: string) => string | undefined;

/** Headers by lower-case name; a header sent twice is not trusted, so it reads as absent. */
function headerReader(headers: PushHookRequest['headers']): HeaderReader {
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const single = Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
    if (single !== undefined) byName.set(name.toLowerCase(), single);
  }
  return (name) => byName.get(name);
}

function detectProvider(header: HeaderReader): Provider {
  if (header('x-github-event') !== undefined || header('x-hub-signature-256') !== undefined) return 'github';
  if (header('x-gitlab-event') !== undefined || header('x-gitlab-token') !== undefined) return 'gitlab';
  // Codeup documents `Codeup-Event`; `X-Codeup-Event` is accepted as well.
  if (header('x-codeup-token') !== undefined || header('codeup-event') !== undefined || header('x-codeup-event') !== undefined) return 'codeup';
  return 'unknown';
}

/** Why the request is refused, or undefined when its signature or token matches. */
function verify(provider: Provider, header: HeaderReader, body: Buffer, secret: string): string | undefined {
  switch (provider) {
    case 'github': {
      const signature = header('x-hub-signature-256');
      if (signature === undefined) return "the request has no X-Hub-Signature-256 header: set the GitHub webhook's secret to rollcall's push hook secret";
      const hex = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim())?.[1];
      const expected = createHmac('sha256', secret).update(body).digest();
      if (hex === undefined || !timingSafeEqual(Buffer.from(hex, 'hex'), expected)) {
        return "X-Hub-Signature-256 does not match the body: the GitHub webhook's secret differs from rollcall's push hook secret";
      }
      return undefined;
    }
    case 'gitlab':
    case 'codeup': {
      const name = provider === 'gitlab' ? 'X-Gitlab-Token' : 'X-Codeup-Token';
      const token = header(name.toLowerCase());
      const service = provider === 'gitlab' ? 'GitLab' : 'Codeup';
      if (token === undefined) return `the request has no ${name} header: set the ${service} webhook's secret token to rollcall's push hook secret`;
      if (!sameSecret(token, secret)) return `${name} does not match: the ${service} webhook's secret token differs from rollcall's push hook secret`;
      return undefined;
    }
    case 'unknown':
      return "the request carries no signature (X-Hub-Signature-256) or token (X-Gitlab-Token, X-Codeup-Token): set the webhook's secret to rollcall's push hook secret";
  }
}

/** Constant-time equality of two strings of any length: their digests have the same length. */
function sameSecret(given: string, secret: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(secret));
}

/** The payload object, or why the body cannot be read. GitHub can send it form-encoded as `payload=`. */
function parseBody(body: Buffer, contentType: string | undefined): unknown {
  let text = body.toString('utf8');
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) return 'the form-encoded body has no payload field: send the push event as JSON';
    text = payload;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `the body is not JSON (${error instanceof Error ? error.message : String(error)}): send the push event as JSON`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the body is not a JSON object: send the push event as JSON';
  return parsed;
}

function isPushEvent(provider: Provider, header: HeaderReader): boolean {
  switch (provider) {
    case 'github':
      return header('x-github-event') === 'push';
    case 'gitlab':
      return (header('x-gitlab-event') ?? 'Push Hook') === 'Push Hook';
    case 'codeup':
      return (header('codeup-event') ?? header('x-codeup-event') ?? 'Push Hook') === 'Push Hook';
    case 'unknown':
      return true;
  }
}
