/*
 * Rate limits for robots. A token bucket of capacity B refilled at R tokens per W ms lets through
 * at most B + R tokens in any window of W ms (a full bucket at the window's start, plus the
 * refill during it). So "below the platform's limit" means B + R below the limit, not R: a bucket
 * of 18 refilled at 18 a minute could send 36 in a minute.
 *
 * Arithmetic is in whole numbers (one token = `everyMs` units, one ms adds `tokens` units), so no
 * rounding ever lets one message more through.
 */

/** A bucket's size and speed: `capacity` tokens at most, `tokens` more every `everyMs` (continuously). */
export interface BucketConfig {
  capacity: number;
  refill: { tokens: number; everyMs: number };
}

/** One token bucket. Time comes in as an argument (epoch ms), so tests drive it with a fake clock. */
export class TokenBucket {
  readonly config: BucketConfig;
  /** In units: one token is `refill.everyMs` units. */
  #level: number;
  #last: number | undefined;
  #pausedUntil = -Infinity;

  constructor(config: BucketConfig) {
    for (const [name, value] of [['capacity', config.capacity], ['refill.tokens', config.refill.tokens], ['refill.everyMs', config.refill.everyMs]] as const) {
      if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`TokenBucket ${name} must be a positive whole number, got ${value}`);
    }
    this.config = config;
    this.#level = config.capacity * config.refill.everyMs;
  }

  /** Tokens in the bucket at `now` (fractions included). */
  tokens(now: number): number {
    this.#refill(now);
    return this.#level / this.config.refill.everyMs;
  }

  /** 0 when a token can be taken at `now`, else the ms until one can (the pause included). Takes nothing. */
  waitMs(now: number): number {
    if (now < this.#pausedUntil) return Math.ceil(this.#pausedUntil - now);
    this.#refill(now);
    const missing = this.config.refill.everyMs - this.#level;
    return missing <= 0 ? 0 : Math.ceil(missing / this.config.refill.tokens);
  }

  /** Takes one token and returns 0, or takes nothing and returns the ms to wait. */
  take(now: number): number {
    const wait = this.waitMs(now);
    if (wait === 0) this.#level -= this.config.refill.everyMs;
    return wait;
  }

  /** No token before `until` (epoch ms), whatever the bucket holds: the platform said to stop. */
  pauseUntil(until: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, until);
  }

  /** The end of the current pause, or undefined when not paused at `now`. */
  pausedUntil(now: number): number | undefined {
    return now < this.#pausedUntil ? this.#pausedUntil : undefined;
  }

  #refill(now: number): void {
    if (this.#last === undefined) {
      this.#last = Math.floor(now);
      return;
    }
    const elapsed = Math.floor(now) - this.#last;
    // A clock that steps back refills nothing (and never drains).
    if (elapsed <= 0) return;
    const full = this.config.capacity * this.config.refill.everyMs;
    this.#level = Math.min(full, this.#level + elapsed * this.config.refill.tokens);
    this.#last += elapsed;
  }
}

/** Several buckets that must all give a token (Lark: per second and per minute); one token is taken from each, or none. */
export class RateLimit {
  readonly buckets: readonly TokenBucket[];

  constructor(configs: readonly BucketConfig[]) {
    if (configs.length === 0) throw new RangeError('RateLimit needs at least one bucket');
    this.buckets = configs.map((config) => new TokenBucket(config));
  }

  /** 0 when every bucket has a token at `now`, else the longest wait among them. */
  waitMs(now: number): number {
    return Math.max(...this.buckets.map((bucket) => bucket.waitMs(now)));
  }

  /** Takes a token from every bucket and returns 0, or takes none and returns the ms to wait. */
  take(now: number): number {
    const wait = this.waitMs(now);
    if (wait > 0) return wait;
    for (const bucket of this.buckets) bucket.take(now);
    return 0;
  }

  /** Nothing passes before `until` (epoch ms). */
  pauseUntil(until: number): void {
    for (const bucket of this.buckets) bucket.pauseUntil(until);
  }

  /** The end of the current pause, or undefined when not paused at `now`. */
  pausedUntil(now: number): number | undefined {
    return this.buckets[0]?.pausedUntil(now);
  }
}

/**
 * DingTalk allows 20 messages a minute per robot and throttles it for 10 minutes past that.
 * Burst 6, then one every 5 s (12 a minute): at most 6 + 12 = 18 in any 60 s, two below the limit
 * so that a clock that disagrees with DingTalk's by a little still stays under it. A plan and its
 * results go out at once; a longer run waits 5 s a message.
 */
export const DINGTALK_BUCKETS: readonly BucketConfig[] = [{ capacity: 6, refill: { tokens: 12, everyMs: 60_000 } }];

/**
 * Lark allows 5 a second and 100 a minute per bot. Per second: burst 2, refilled 2 a second → at
 * most 4 in any second. Per minute: burst 20, refilled 70 a minute → at most 90 in any minute.
 * Both must give a token.
 */
export const LARK_BUCKETS: readonly BucketConfig[] = [
  { capacity: 2, refill: { tokens: 2, everyMs: 1_000 } },
  { capacity: 20, refill: { tokens: 70, everyMs: 60_000 } },
];
