import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { startEventBridgeEmulator, type EventBridgeEmulator } from '../../src/emulators/eventbridge/eventbridge-emulator.js';
import { EventBusPublisher, eventBusPublisherFromEnv, putEventsClient, type PutEventsClient, type RollcallCloudEvent } from '../../src/notify/event-bus-publisher.js';
import { Outbox, type Notification } from '../../src/reconcile/outbox.js';
import { StateStore } from '../../src/reconcile/state-store.js';
import { httpTarget, startReceiver } from '../emulators/eventbridge/bus-fixture.js';

const log = createLogger({ ROLLCALL_LOG_LEVEL: 'silent' });
const SHA = 'c'.repeat(40);

/** A bus named `rollcall`, and a subscriber's rule: everything rollcall publishes, to a SIEM's HTTP endpoint. */
function siemStack(siemUrl: string): Record<string, unknown> {
  const target = httpTarget(siemUrl, { target_id: 'siem' });
  return {
    resource: {
      alicloud_event_bridge_event_bus: { bus: { event_bus_name: 'rollcall' } },
      alicloud_event_bridge_rule: {
        siem: { event_bus_name: '${alicloud_event_bridge_event_bus.bus.event_bus_name}', rule_name: 'siem', filter_pattern: JSON.stringify({ source: ['rollcall'], type: [{ prefix: 'rollcall:' }] }), targets: [{ ...target, param_list: target.param_list.filter((param) => param.resource_key !== 'HeaderParameters') }] },
      },
    },
  };
}

const applied: Notification = {
  kind: 'applied',
  channel: 'ops-dingtalk',
  title: 'cccccccccccc applied: Onboard E2001 (qianjiu)',
  text: 'applied: 1 change on 2 instance(s)',
  revision: SHA,
  event: { kind: 'applied', revision: { sha: SHA, subject: 'Onboard E2001 (qianjiu)' }, trigger: 'revision', durationMs: 900, accounts: { created: ['qianjiu'], updated: [], locked: [], deleted: [] }, instances: [{ id: 'i-1', ok: true }], links: {} },
};
const drift: Notification = { kind: 'drift-detected', channel: 'ops', title: 'Drift from cccccccccccc', text: 'i-1: update user qianjiu', revision: SHA };
const plan: Notification = { kind: 'plan', channel: 'ops', title: 'Plan for cccccccccccc', text: '+ user qianjiu', revision: SHA };

let bus: EventBridgeEmulator | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await bus?.close();
  bus = undefined;
});

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('EventBusPublisher through @alicloud/eventbridge', () => {
  it('publishes applied and drift as rollcall CloudEvents a subscriber\'s rule routes; plans are not published', async () => {
    const siem = await startReceiver();
    closers.push(() => siem.close());
    bus = await startEventBridgeEmulator({ rules: siemStack(`${siem.url}/events`), secondMs: 1 });
    const publisher = new EventBusPublisher({
      client: putEventsClient({ accessKeyId: bus.accessKeyId, accessKeySecret: bus.accessKeySecret, endpoint: bus.endpoint, protocol: 'http' }),
      busName: 'rollcall',
      log,
    });
    publisher.publish('result:cccccccccccc-1', applied);
    publisher.publish('plan:ccc', plan);
    publisher.publish(`drift:${SHA}:abc`, drift);
    await eventually(() => publisher.status().published === 2, 'two events published');
    expect(bus.events().map(({ event }) => [event.id, event.source, event.type, event.aliyuneventbusname])).toEqual([
      ['result:cccccccccccc-1', 'rollcall', 'rollcall:Revision:Applied', 'rollcall'],
      [`drift:${SHA}:abc`, 'rollcall', 'rollcall:Drift:Detected', 'rollcall'],
    ]);
    expect(bus.events()[0]!.event).toMatchObject({ subject: `rollcall:revision/${SHA}`, data: { kind: 'applied', revision: SHA, event: { accounts: { created: ['qianjiu'] } } } });
    await bus.flush();
    expect(siem.received.map((request) => (JSON.parse(request.body) as { type: string }).type)).toEqual(['rollcall:Revision:Applied', 'rollcall:Drift:Detected']);
    expect(publisher.status()).toEqual({ bus: 'rollcall', queued: 0, published: 2, dropped: 0 });
    await publisher.stop();
  });

  it('batches at most 16 events a PutEvents call', async () => {
    bus = await startEventBridgeEmulator({ rules: siemStack('http://127.0.0.1:9/unused') });
    const real = putEventsClient({ accessKeyId: bus.accessKeyId, accessKeySecret: bus.accessKeySecret, endpoint: bus.endpoint, protocol: 'http' });
    const sizes: number[] = [];
    const client: PutEventsClient = { putEvents: (events) => (sizes.push(events.length), real.putEvents(events)) };
    const publisher = new EventBusPublisher({ client, busName: 'rollcall', log });
    for (let n = 0; n < 40; n++) publisher.publish(`result:${n}`, applied);
    await eventually(() => publisher.status().published === 40, '40 events published');
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(40);
    expect(new Set(bus.events().map(({ event }) => event.id)).size).toBe(40);
    await publisher.stop();
  });

  it('retries what a bus refused or could not take, and a wrong bus name shows in its status', async () => {
    bus = await startEventBridgeEmulator({ rules: siemStack('http://127.0.0.1:9/unused') });
    const wrong = new EventBusPublisher({
      client: putEventsClient({ accessKeyId: bus.accessKeyId, accessKeySecret: bus.accessKeySecret, endpoint: bus.endpoint, protocol: 'http' }),
      busName: 'no-such-bus',
      log,
      retryBaseMs: 5,
    });
    wrong.publish('result:1', applied);
    await eventually(() => wrong.status().lastError !== undefined, 'the refusal');
    expect(wrong.status()).toMatchObject({ queued: 1, published: 0, lastError: expect.stringContaining('no-such-bus') });
    await wrong.stop(50);

    let failuresLeft = 2;
    const calls: number[] = [];
    const flaky: PutEventsClient = {
      putEvents: async (events) => {
        calls.push(Date.now());
        if (failuresLeft-- > 0) throw new Error('connect ECONNREFUSED');
        return { failedEntryCount: 0, entryList: events.map((event) => ({ eventId: event.id })) };
      },
    };
    const publisher = new EventBusPublisher({ client: flaky, busName: 'rollcall', log, retryBaseMs: 20 });
    publisher.publish('result:2', applied);
    await eventually(() => publisher.status().published === 1, 'published after two failures');
    expect(calls).toHaveLength(3);
    // Backing off: the second retry waited about twice as long as the first.
    expect(calls[2]! - calls[1]!).toBeGreaterThanOrEqual(calls[1]! - calls[0]!);
    await publisher.stop();
  });

  it('never blocks and never grows without bound: a full queue drops its oldest, counted', async () => {
    const never: PutEventsClient = { putEvents: () => new Promise(() => {}) };
    const publisher = new EventBusPublisher({ client: never, busName: 'rollcall', log, maxQueued: 3 });
    const began = Date.now();
    for (let n = 0; n < 10; n++) publisher.publish(`result:${n}`, applied);
    expect(Date.now() - began).toBeLessThan(100);
    expect(publisher.status()).toMatchObject({ queued: 3, dropped: 7 });
    await publisher.stop(10);
  });

  it('hears every notification the outbox stores, once, even while the chat cannot take it', async () => {
    const store = StateStore.inMemory();
    const published: RollcallCloudEvent[] = [];
    const publisher = new EventBusPublisher({ client: { putEvents: async (events) => (published.push(...events), { failedEntryCount: 0 }) }, busName: 'rollcall', log });
    const outbox = new Outbox(store, { deliver: () => Promise.reject(new Error('robot down')) }, log);
    outbox.onStored((key, notification) => publisher.publish(key, notification));
    outbox.enqueue('result:a-1', applied);
    outbox.enqueue('result:a-1', applied);
    outbox.enqueue(`drift:${SHA}:x`, drift);
    await eventually(() => published.length === 2, 'both published');
    expect(published.map((event) => event.id)).toEqual(['result:a-1', `drift:${SHA}:x`]);
    await outbox.stop();
    await publisher.stop();
    store.close();
  });
});

describe('eventBusPublisherFromEnv', () => {
  it('is off without ROLLCALL_EVENT_BUS, and says what is missing when half configured', () => {
    expect(eventBusPublisherFromEnv({}, log)).toBeUndefined();
    expect(() => eventBusPublisherFromEnv({ ROLLCALL_EVENT_BUS: 'rollcall' }, log)).toThrow(/ROLLCALL_EVENT_BUS_ENDPOINT is not set/);
    expect(() => eventBusPublisherFromEnv({ ROLLCALL_EVENT_BUS: 'rollcall', ROLLCALL_EVENT_BUS_ENDPOINT: '123.eventbridge.cn-hangzhou.aliyuncs.com' }, log)).toThrow(/ALIBABA_CLOUD_ACCESS_KEY_ID/);
    expect(eventBusPublisherFromEnv({ ROLLCALL_EVENT_BUS: 'rollcall', ROLLCALL_EVENT_BUS_ENDPOINT: 'http://127.0.0.1:1', ALIBABA_CLOUD_ACCESS_KEY_ID: 'a', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'b' }, log)).toBeInstanceOf(EventBusPublisher);
    expect(() => eventBusPublisherFromEnv({ ROLLCALL_EVENT_BUS: 'rollcall', ROLLCALL_EVENT_BUS_ENDPOINT: 'http://127.0.0.1:1', ALIBABA_CLOUD_ACCESS_KEY_ID: 'a', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'b', ROLLCALL_EVENT_BUS_ACCESS_KEY_ID: 'c' }, log)).toThrow(/both ROLLCALL_EVENT_BUS_ACCESS_KEY_ID and ROLLCALL_EVENT_BUS_ACCESS_KEY_SECRET/);
  });
});
