import { setTimeout as sleep } from 'node:timers/promises';

/** Error codes of Alibaba Cloud APIs that mean "try again later", not "you asked wrongly". */
const RETRYABLE_CODES = /^(Throttling(\..*)?|ServiceUnavailable|InternalError|Busy.*|.*\.Throttling)$/;
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** The first wait; each later one doubles, with full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** For tests: no real waiting. */
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
}

/** Whether an SDK error is worth another try: throttling, a busy service, a dropped connection. */
export function isRetryable(error: unknown): boolean {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  if (name === 'ThrottlingError') return true;
  if (typeof code === 'string' && (RETRYABLE_CODES.test(code) || RETRYABLE_NETWORK.has(code))) return true;
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return typeof cause?.code === 'string' && RETRYABLE_NETWORK.has(cause.code);
}

/**
 * Calls `call` until it succeeds, retrying what {@link isRetryable} allows with jittered exponential
 * backoff and honouring a server's `retryAfter`; anything else is thrown at once. The SDK itself
 * does not retry.
 */
export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 8;
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 10_000;
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) throw error;
      const backoff = random() * Math.min(max, base * 2 ** (attempt - 1));
      const retryAfter = Number((error as { retryAfter?: unknown }).retryAfter);
      await wait(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.max(retryAfter, backoff) : backoff);
    }
  }
}
