import { describe, expect, it } from 'vitest';
import { DINGTALK_BUCKETS, LARK_BUCKETS, RateLimit, TokenBucket, type BucketConfig } from '../../../src/notify/robots/token-bucket.js';
import { seededRandom } from '../../reliability/seeded-random.js';

const START = 1_700_000_000_000;
const TEN_MINUTES = 10 * 60_000;

/** The most sends inside any closed window [t, t + windowMs]. */
function busiestWindow(times: readonly number[], windowMs: number): number {
  let most = 0;
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    while (end < times.length && (times[end] ?? Infinity) <= (times[start] ?? 0) + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

/** A sender that always has something to send and tries again exactly when told. */
function greedy(limit: RateLimit, durationMs: number): number[] {
  const sent: number[] = [];
  for (let now = START; now <= START + durationMs; ) {
    const wait = limit.take(now);
    if (wait === 0) sent.push(now);
    else now += wait;
  }
  return sent;
}

/** Messages that arrive at random moments (bursts and lulls), each sent at its first chance. */
function randomArrivals(limit: RateLimit, durationMs: number, seed: number): number[] {
  const random = seededRandom(seed);
  const sent: number[] = [];
  let queued = 0;
  for (let now = START; now <= START + durationMs; now += random.int(1, 400)) {
    if (random.chance(0.3)) queued += random.int(1, 8);
    while (queued > 0 && limit.take(now) === 0) {
      sent.push(now);
      queued--;
    }
  }
  return sent;
}

describe('TokenBucket', () => {
  it('starts full, hands out its capacity, then one token per refill interval', () => {
    const bucket = new TokenBucket({ capacity: 3, refill: { tokens: 1, everyMs: 1_000 } });
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBe(1_000);
    expect(bucket.take(400)).toBe(600);
    expect(bucket.take(1_000)).toBe(0);
    expect(bucket.take(1_000)).toBe(1_000);
  });

  it('refills no further than its capacity', () => {
    const bucket = new TokenBucket({ capacity: 2, refill: { tokens: 1, everyMs: 10 } });
    bucket.take(0);
    expect(bucket.tokens(1_000_000)).toBe(2);
  });

  it('a refill that does not divide evenly never rounds a token into existence', () => {
    // 7 tokens every 60 s: one every 8571.43 ms.
    const bucket = new TokenBucket({ capacity: 1, refill: { tokens: 7, everyMs: 60_000 } });
    expect(bucket.take(0)).toBe(0);
    expect(bucket.take(8_571)).toBe(1);
    expect(bucket.take(8_572)).toBe(0);
  });

  it('waitMs looks without taking', () => {
    const bucket = new TokenBucket({ capacity: 1, refill: { tokens: 1, everyMs: 100 } });
    expect(bucket.waitMs(0)).toBe(0);
    expect(bucket.waitMs(0)).toBe(0);
    expect(bucket.take(0)).toBe(0);
    expect(bucket.waitMs(30)).toBe(70);
  });

  it('a pause holds everything back until it ends, whatever the bucket holds; a later pause never shortens it', () => {
    const bucket = new TokenBucket({ capacity: 5, refill: { tokens: 5, everyMs: 1_000 } });
    bucket.pauseUntil(10_000);
    bucket.pauseUntil(5_000);
    expect(bucket.take(0)).toBe(10_000);
    expect(bucket.take(9_999)).toBe(1);
    expect(bucket.pausedUntil(9_999)).toBe(10_000);
    expect(bucket.take(10_000)).toBe(0);
    expect(bucket.pausedUntil(10_000)).toBeUndefined();
  });

  it('a clock that steps back neither refills nor drains', () => {
    const bucket = new TokenBucket({ capacity: 1, refill: { tokens: 1, everyMs: 1_000 } });
    bucket.take(5_000);
    expect(bucket.take(4_000)).toBe(1_000);
    expect(bucket.take(5_999)).toBe(1);
    expect(bucket.take(6_000)).toBe(0);
  });

  it('rejects sizes that are not positive whole numbers', () => {
    expect(() => new TokenBucket({ capacity: 0, refill: { tokens: 1, everyMs: 1 } })).toThrow(/capacity/);
    expect(() => new TokenBucket({ capacity: 1, refill: { tokens: 0.5, everyMs: 1 } })).toThrow(/refill.tokens/);
  });
});

describe('RateLimit', () => {
  it('takes from every bucket or from none', () => {
    const limit = new RateLimit([
      { capacity: 2, refill: { tokens: 1, everyMs: 1_000 } },
      { capacity: 1, refill: { tokens: 1, everyMs: 10_000 } },
    ]);
    expect(limit.take(0)).toBe(0);
    // The second bucket is empty: the wait is its, and the first keeps its token.
    expect(limit.take(0)).toBe(10_000);
    expect(limit.buckets[0]?.tokens(0)).toBe(1);
  });

  it('a bucket refilled at the limit lets twice the limit through in a minute: why the platform buckets are smaller', () => {
    const naive: BucketConfig[] = [{ capacity: 18, refill: { tokens: 18, everyMs: 60_000 } }];
    expect(busiestWindow(greedy(new RateLimit(naive), TEN_MINUTES), 60_000)).toBeGreaterThan(20);
  });
});

describe('DingTalk rate limit (20 a minute per robot)', () => {
  it('a sender that always has a message: never more than 20 (in fact 18) in any 60 s over 10 minutes, and about 12 a minute', () => {
    const sent = greedy(new RateLimit(DINGTALK_BUCKETS), TEN_MINUTES);
    expect(busiestWindow(sent, 60_000)).toBeLessThanOrEqual(18);
    // 6 at once, then one every 5 s: all the throughput the margin allows.
    expect(sent.length).toBe(6 + 12 * 10);
  });

  it.each([1, 2, 3, 42, 1234])('messages arriving at random (seed %i): never more than 20 in any 60 s', (seed) => {
    const sent = randomArrivals(new RateLimit(DINGTALK_BUCKETS), TEN_MINUTES, seed);
    expect(busiestWindow(sent, 60_000)).toBeLessThanOrEqual(20);
    expect(sent.length).toBeGreaterThan(100);
  });
});

describe('Lark rate limit (5 a second and 100 a minute per bot)', () => {
  it('a sender that always has a message: never more than 5 in any second nor 100 in any minute over 10 minutes', () => {
    const sent = greedy(new RateLimit(LARK_BUCKETS), TEN_MINUTES);
    expect(busiestWindow(sent, 1_000)).toBeLessThanOrEqual(4);
    expect(busiestWindow(sent, 60_000)).toBeLessThanOrEqual(90);
    expect(sent.length).toBeGreaterThanOrEqual(20 + 70 * 10);
  });

  it.each([1, 2, 3, 42, 1234])('messages arriving at random (seed %i): within both limits', (seed) => {
    const sent = randomArrivals(new RateLimit(LARK_BUCKETS), TEN_MINUTES, seed);
    expect(busiestWindow(sent, 1_000)).toBeLessThanOrEqual(5);
    expect(busiestWindow(sent, 60_000)).toBeLessThanOrEqual(100);
  });

  it('either bucket alone would break one of the limits', () => {
    const [perSecond, perMinute] = LARK_BUCKETS;
    expect(busiestWindow(greedy(new RateLimit([perSecond as BucketConfig]), TEN_MINUTES), 60_000)).toBeGreaterThan(100);
    expect(busiestWindow(greedy(new RateLimit([perMinute as BucketConfig]), TEN_MINUTES), 1_000)).toBeGreaterThan(5);
  });
});
