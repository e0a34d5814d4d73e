import { describe, expect, it } from 'vitest';
import { isRetryable, withRetry } from '../../../src/executors/cloud-assistant/retry.js';

const error = (fields: Record<string, unknown>) => Object.assign(new Error('x'), fields);

describe('withRetry', () => {
  it('retries throttling and network errors with growing, jittered waits, then succeeds', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls === 1) throw error({ code: 'Throttling.User' });
        if (calls === 2) throw error({ code: 'ECONNRESET' });
        if (calls === 3) throw error({ code: 'ServiceUnavailable' });
        return 'ok';
      },
      { sleep: async (ms) => waits.push(ms), random: () => 1, baseDelayMs: 100 },
    );
    expect(result).toBe('ok');
    expect(waits).toEqual([100, 200, 400]);
  });

  it('waits at least what the server asked (retryAfter)', async () => {
    const waits: number[] = [];
    let calls = 0;
    await withRetry(async () => (calls++ === 0 ? Promise.reject(error({ name: 'ThrottlingError', code: 'Throttling', retryAfter: 3000 })) : 'ok'), { sleep: async (ms) => waits.push(ms), random: () => 0.5 });
    expect(waits).toEqual([3000]);
  });

  it('does not retry what retrying cannot fix, and gives up after the last attempt', async () => {
    let calls = 0;
    await expect(withRetry(async () => { calls++; throw error({ code: 'SignatureDoesNotMatch' }); }, { sleep: async () => {} })).rejects.toThrow('x');
    expect(calls).toBe(1);
    calls = 0;
    await expect(withRetry(async () => { calls++; throw error({ code: 'Throttling' }); }, { attempts: 3, sleep: async () => {} })).rejects.toThrow('x');
    expect(calls).toBe(3);
  });

  it('knows retryable errors by code, name and cause', () => {
    expect(isRetryable(error({ code: 'Throttling.Api' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))).toBe(true);
    expect(isRetryable(error({ code: 'InvalidParameter' }))).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
  });
});
