import { EcsApiError } from './api-error.js';

/** How far a request's timestamp may be from the emulator's clock, as the real endpoint allows. */
const WINDOW_MS = 15 * 60 * 1000;

/** `2024-05-01T08:00:00Z`, with optional fractional seconds: what both signatures carry. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * Refuses replayed requests as Alibaba Cloud does: a signature nonce may be used once, and a
 * timestamp must be within 15 minutes of now. Runs after the signature is verified, so nobody can
 * use up nonces without the secret.
 */
export class ReplayGuard {
  /** Nonce → when it was first seen (ms). Entries older than the window are dropped. */
  readonly #seen = new Map<string, number>();

  /** Throws `InvalidTimeStamp.Format`, `InvalidTimeStamp.Expired` or `SignatureNonceUsed`. */
  check(nonce: string, timestamp: string, now: number = Date.now()): void {
    if (!ISO_UTC.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
      throw new EcsApiError(400, 'InvalidTimeStamp.Format', `Specified time stamp or date value is not well formatted: ${JSON.stringify(timestamp)}; use ISO 8601 UTC, such as 2024-05-01T08:00:00Z.`);
    }
    if (Math.abs(now - Date.parse(timestamp)) > WINDOW_MS) {
      throw new EcsApiError(400, 'InvalidTimeStamp.Expired', `Specified time stamp or date value is expired: ${timestamp} is more than 15 minutes from the server's time ${new Date(now).toISOString()}.`);
    }
    this.#forgetBefore(now - WINDOW_MS);
    if (this.#seen.has(nonce)) throw new EcsApiError(400, 'SignatureNonceUsed', `Specified signature nonce was used already: ${nonce}.`);
    this.#seen.set(nonce, now);
  }

  #forgetBefore(limit: number): void {
    // Map keeps insertion order, which is time order here: stop at the first recent entry.
    for (const [nonce, seenAt] of this.#seen) {
      if (seenAt >= limit) break;
      this.#seen.delete(nonce);
    }
  }
}
