import { describe, expect, it } from 'vitest';
import { InvocationWakeups } from '../../../src/executors/cloud-assistant/invocation-wakeups.js';

describe('InvocationWakeups', () => {
  it('ends a long wait soon after one of its invocations completed', async () => {
    const wakeups = new InvocationWakeups(20);
    const began = Date.now();
    const waiting = wakeups.wait(30_000, ['t-1', 't-2']);
    setTimeout(() => wakeups.completed('t-2'), 30);
    await waiting;
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it('ignores invocations nobody waits on, and waits the full time without news', async () => {
    const wakeups = new InvocationWakeups(0);
    const began = Date.now();
    const waiting = wakeups.wait(150, ['t-1']);
    wakeups.completed('t-other');
    await waiting;
    expect(Date.now() - began).toBeGreaterThanOrEqual(140);
  });

  it('never ends a wait sooner than the minimum, so a burst of completions makes one poll', async () => {
    const wakeups = new InvocationWakeups(100);
    const began = Date.now();
    const waiting = wakeups.wait(30_000, ['t-1']);
    for (let i = 0; i < 100; i++) wakeups.completed('t-1');
    await waiting;
    expect(Date.now() - began).toBeGreaterThanOrEqual(95);
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it('forgets a finished wait: a later completion wakes nothing and leaks nothing', async () => {
    const wakeups = new InvocationWakeups(0);
    await wakeups.wait(1, ['t-1']);
    expect(() => wakeups.completed('t-1')).not.toThrow();
    const began = Date.now();
    await wakeups.wait(100, ['t-1']);
    expect(Date.now() - began).toBeGreaterThanOrEqual(90);
  });
});
