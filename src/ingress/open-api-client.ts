import { RollcallError } from '../config/errors.js';

/*
 * What the DingTalk and Lark open-API clients share: a token cached until shortly before it
 * expires (concurrent callers share one fetch), requests retried with backoff and jitter, JSON
 * bodies read leniently, and server text with our secrets taken out.
 */

/** A reply as the clients judge it: the status, the body parsed as JSON (undefined when it is not), the headers. */
export interface OpenApiReply {
  status: number;
  body: unknown;
  headers: Headers;
}

/** How a client retries: how many tries, which replies are worth another, and how long to wait. */
export interface RetryPolicy {
  fetch: typeof globalThis.fetch;
  /** Tries per call, the first included. */
  maxAttempts: number;
  sleep: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter of the backoff. */
  random: () => number;
  retryable(reply: OpenApiReply): boolean;
  /** The wait before retry `retry` (1 for the second try); default {@link backoffMs}. */
  delayMs?(retry: number, random: number, last: OpenApiReply | undefined): number;
  /** The error when no try got a reply at all (the network, a wrong base URL). */
  unreachable(reason: string, cause: unknown): RollcallError;
}

/** What a client's caller may set about its HTTP behaviour; tests pass fakes. */
export interface OpenApiClientOptions {
  fetch?: typeof globalThis.fetch;
  /** Epoch ms; drives token expiry. */
  now?: () => number;
  /** Waits between tries; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter of the backoff. */
  random?: () => number;
  /** Tries per call, the first included. Default 5. */
  maxAttempts?: number;
}

/** A client's retry policy: the caller's options with their defaults, and the platform's rules. */
export function retryPolicy(options: OpenApiClientOptions, rules: Pick<RetryPolicy, 'retryable' | 'unreachable' | 'delayMs'>): RetryPolicy {
  return {
    fetch: options.fetch ?? globalThis.fetch,
    maxAttempts: Math.max(1, options.maxAttempts ?? 5),
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
    ...rules,
  };
}

const BASE_DELAY_MS = 500;
/** The longest wait between two tries. */
export const MAX_DELAY_MS = 8_000;
/** A token is fetched again this long before it expires (or at half its life, if that is sooner). */
const REFRESH_MARGIN_MS = 5 * 60_000;

/** Equal jitter under an exponential ceiling: retry 1 waits 0.25–0.5 s, then up to 1, 2, 4, 8 s. */
export function backoffMs(retry: number, random: number): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + (random * ceiling) / 2);
}

/**
 * One request, tried again while the policy says the reply is worth it (throttling, 5xx) or the
 * network failed. Returns the last reply; throws the policy's `unreachable` error when no try got one.
 */
export async function sendWithRetries(url: string, init: RequestInit, policy: RetryPolicy): Promise<OpenApiReply> {
  let last: OpenApiReply | undefined;
  let lastError: unknown;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    if (attempt > 1) await policy.sleep((policy.delayMs ?? backoffMs)(attempt - 1, policy.random(), last));
    let response: Response;
    try {
      response = await policy.fetch(url, init);
    } catch (error) {
      lastError = error;
      last = undefined;
      continue;
    }
    last = { status: response.status, body: parseJson(await response.text()), headers: response.headers };
    if (!policy.retryable(last)) return last;
  }
  if (last !== undefined) return last;
  throw policy.unreachable(lastError instanceof Error ? lastError.message : String(lastError), lastError);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A server's text for an error message: cut short, and without any of our secrets should it echo them. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text.slice(0, 300);
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  return out;
}

/** An access token, reused until shortly before it expires; concurrent callers share one fetch. */
export class TokenCache {
  #token: { value: string; renewAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(
    private readonly fetchToken: () => Promise<{ value: string; lifetimeSeconds: number }>,
    private readonly now: () => number,
  ) {}

  /** The token held now, if any (to keep it out of error messages). */
  get current(): string | undefined {
    return this.#token?.value;
  }

  get(): Promise<string> {
    if (this.#token !== undefined && this.now() < this.#token.renewAt) return Promise.resolve(this.#token.value);
    this.#pending ??= this.fetchToken()
      .then(({ value, lifetimeSeconds }) => {
        const lifetimeMs = lifetimeSeconds * 1000;
        this.#token = { value, renewAt: this.now() + Math.max(lifetimeMs - REFRESH_MARGIN_MS, lifetimeMs / 2) };
        return value;
      })
      .finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  /** The platform refused this token: forget it, unless a concurrent caller has replaced it already. */
  refused(token: string): void {
    if (this.#token?.value === token) this.#token = undefined;
  }
}
