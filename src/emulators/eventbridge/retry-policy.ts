import type { RetryStrategy } from './load-terraform-rules.js';

/*
 * A target's push retry strategy, as Alibaba Cloud documents it:
 * - BACKOFF_RETRY: a failed push is retried up to 3 times, each after a random 10 to 20 seconds;
 * - EXPONENTIAL_DECAY_RETRY: up to 176 retries over about a day, waiting 1, 2, 4, … 512 seconds,
 *   then 512 seconds for every later one.
 */

/** Retries after the first attempt, per strategy. */
export const RETRIES: Readonly<Record<RetryStrategy, number>> = { BACKOFF_RETRY: 3, EXPONENTIAL_DECAY_RETRY: 176 };

const LONGEST_DECAY_SECONDS = 512;

/**
 * Seconds to wait before retry `retry` (1-based) of a push, or undefined when the strategy allows
 * no more retries. `random` in [0, 1) picks BACKOFF_RETRY's wait.
 */
export function retryDelaySeconds(strategy: RetryStrategy, retry: number, random: () => number = Math.random): number | undefined {
  if (!Number.isInteger(retry) || retry < 1 || retry > RETRIES[strategy]) return undefined;
  if (strategy === 'BACKOFF_RETRY') return 10 + 10 * random();
  return Math.min(2 ** (retry - 1), LONGEST_DECAY_SECONDS);
}
