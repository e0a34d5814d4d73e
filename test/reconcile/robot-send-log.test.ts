import { describe, expect, it } from 'vitest';
import { storeSendLog } from '../../src/reconcile/robot-send-log.js';
import { StateStore } from '../../src/reconcile/state-store.js';

describe('storeSendLog', () => {
  it('keeps each robot\'s sends of the last two minutes, across a reopened store', () => {
    let now = 1_000_000;
    const store = StateStore.inMemory();
    const log = storeSendLog(store, () => now);
    log.record('robot-a', now - 130_000);
    log.record('robot-a', now - 1_000);
    log.record('robot-a', now);
    log.record('robot-b', now);
    expect(log.recent('robot-a')).toEqual([now - 1_000, now]);
    expect(log.recent('robot-b')).toEqual([now]);
    expect(log.recent('robot-c')).toEqual([]);
    now += 200_000;
    expect(storeSendLog(store, () => now).recent('robot-a')).toEqual([]);
    store.close();
  });

  it('reads a damaged entry as no sends', () => {
    const store = StateStore.inMemory();
    store.setMeta('robot-sends:robot-a', 'not json');
    expect(storeSendLog(store).recent('robot-a')).toEqual([]);
    store.setMeta('robot-sends:robot-a', '{"a":1}');
    expect(storeSendLog(store).recent('robot-a')).toEqual([]);
    store.close();
  });
});
