import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/config/logger.js';
import { startEventBridgeEmulator, type EventBridgeEmulator, type EventBridgeEmulatorOptions } from '../../../src/emulators/eventbridge/eventbridge-emulator.js';
import { retryDelaySeconds, RETRIES } from '../../../src/emulators/eventbridge/retry-policy.js';
import { robotServers } from '../chat/robot-fixture.js';
import { httpTarget, startReceiver, type FixtureTarget } from './bus-fixture.js';

const RULE_PATTERN = JSON.stringify({ source: ['acs.ecs'], type: ['ecs:CloudAssistant:TaskCompleted'], data: { commandName: [{ prefix: 'rollcall-' }] } });

/** A stack of one rule on the default bus with the given targets. */
function oneRule(targets: FixtureTarget[], pattern = RULE_PATTERN) {
  return { resource: { alicloud_event_bridge_rule: { results: { event_bus_name: 'default', rule_name: 'results', filter_pattern: pattern, targets } } } };
}

function taskCompleted(commandName = 'rollcall-agent', id = 'evt-1') {
  return {
    id,
    source: 'acs.ecs',
    type: 'ecs:CloudAssistant:TaskCompleted',
    subject: 'acs:ecs:cn-hangzhou:1234567890123456:instance/i-0001',
    data: { commandName, instanceId: 'i-0001', invocationStatus: 'Success', exitCode: '0', invokeId: 't-1' },
  };
}

/** A plain target: body the whole event, no headers. */
function plain(url: string, overrides: Partial<FixtureTarget> = {}): FixtureTarget {
  return httpTarget(url, { param_list: [{ resource_key: 'Body', form: 'ORIGINAL' }], ...overrides });
}

describe('delivery to targets', () => {
  const buses: EventBridgeEmulator[] = [];
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  const start = async (options: EventBridgeEmulatorOptions) => {
    const bus = await startEventBridgeEmulator({ secondMs: 1, ...options });
    buses.push(bus);
    return bus;
  };
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const started = await startReceiver(...args);
    closers.push(started.close);
    return started;
  };

  it('sends the transformed body, method, headers and query of an http target', async () => {
    const target = await receiver();
    const bus = await start({
      rules: oneRule([
        httpTarget(`${target.url}/ingress`, {
          param_list: [
            { resource_key: 'url', form: 'JSONPATH', value: '$.data.callback' },
            { resource_key: 'Method', form: 'CONSTANT', value: 'put' },
            { resource_key: 'HeaderParameters', form: 'CONSTANT', value: '{"X-Rollcall-Secret":"s3cret","X-Count":2}' },
            { resource_key: 'QueryStringParameters', form: 'TEMPLATE', value: '{"i":"$.data.instanceId"}', template: '{"instance":"$${i}"}' },
            { resource_key: 'Body', form: 'TEMPLATE', value: '{"cmd":"$.data.commandName","status":"$.data.invocationStatus"}', template: '{"text":"$${cmd} ended $${status}"}' },
            { resource_key: 'Network', form: 'CONSTANT', value: 'PublicNetwork' },
          ],
        }),
      ]),
    });
    bus.publish({ ...taskCompleted(), data: { ...taskCompleted().data, callback: `${target.url}/from-event` } });
    await bus.flush();
    expect(target.received).toEqual([
      expect.objectContaining({ method: 'PUT', path: '/from-event?instance=i-0001', body: '{"text":"rollcall-agent ended Success"}', headers: expect.objectContaining({ 'x-rollcall-secret': 's3cret', 'x-count': '2', 'content-type': 'application/json; charset=utf-8' }) }),
    ]);
    expect(bus.deliveries()).toEqual([expect.objectContaining({ eventId: 'evt-1', ruleName: 'results', targetId: 'rollcall-ingress', attempt: 1, ok: true, status: 200, request: expect.objectContaining({ method: 'PUT' }) })]);
  });

  it('sends the whole event when there is no Body param; a text body as text/plain; GET without a body', async () => {
    const target = await receiver();
    const bus = await start({
      rules: oneRule([
        { target_id: 'whole', type: 'http', endpoint: `${target.url}/whole`, param_list: [{ resource_key: 'Network', form: 'CONSTANT', value: 'PublicNetwork' }] },
        plain(`${target.url}/text`, { target_id: 'text', param_list: [{ resource_key: 'Body', form: 'TEMPLATE', value: '{"c":"$.data.commandName"}', template: 'ran $${c}' }] }),
        plain(`${target.url}/get`, { target_id: 'get', param_list: [{ resource_key: 'Method', form: 'CONSTANT', value: 'GET' }] }),
      ]),
    });
    const { event } = bus.publish(taskCompleted());
    await bus.flush();
    const byPath = Object.fromEntries(target.received.map((request) => [request.path, request]));
    expect(JSON.parse(byPath['/whole']!.body)).toEqual(event);
    expect(byPath['/text']).toMatchObject({ body: 'ran rollcall-agent', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect(byPath['/get']).toMatchObject({ method: 'GET', body: '' });
  });

  it('BACKOFF_RETRY: retries a 5xx after 10–20 s (scaled), and stops at the first success', async () => {
    const target = await receiver([503, 500, 200]);
    const bus = await start({ rules: oneRule([plain(target.url)]), secondMs: 5, random: () => 0.5 });
    bus.publish(taskCompleted());
    await bus.flush();
    const attempts = bus.deliveries();
    expect(attempts.map((attempt) => [attempt.attempt, attempt.status, attempt.ok])).toEqual([
      [1, 503, false],
      [2, 500, false],
      [3, 200, true],
    ]);
    // 15 s of the strategy's clock (random 0.5 of 10–20 s) at 5 ms a second: 75 ms between attempts.
    for (let index = 1; index < attempts.length; index++) {
      expect(Date.parse(attempts[index]!.at) - Date.parse(attempts[index - 1]!.at)).toBeGreaterThanOrEqual(70);
    }
    expect(bus.deadLetters()).toEqual([]);
  });

  it('BACKOFF_RETRY gives up after 3 retries: a dead letter with the queue ARN, the event and the last failure', async () => {
    const target = await receiver([500]);
    const dlq = 'acs:mns:cn-hangzhou:1234567890123456:/queues/rollcall-dlq';
    const bus = await start({ rules: oneRule([plain(target.url, { dead_letter_queue: [{ arn: dlq }] })]) });
    const { event } = bus.publish(taskCompleted());
    await bus.flush();
    expect(target.received).toHaveLength(1 + RETRIES.BACKOFF_RETRY);
    expect(bus.deadLetters()).toEqual([{ eventId: 'evt-1', busName: 'default', ruleName: 'results', targetId: 'rollcall-ingress', targetType: 'http', deadLetterQueue: dlq, attempts: 4, reason: 'answered 500: {"ok":true}', at: expect.any(String), event }]);
    const inspected = (await (await fetch(`${bus.url}/emulator/dead-letters`)).json()) as { deadLetters: unknown[] };
    expect(inspected.deadLetters).toEqual([expect.objectContaining({ eventId: 'evt-1', deadLetterQueue: dlq, attempts: 4 })]);
  });

  it('EXPONENTIAL_DECAY_RETRY tries 177 times in all (1, 2, 4 … 512 s apart) before giving up', async () => {
    const target = await receiver([502]);
    const bus = await start({ rules: oneRule([plain(target.url, { push_retry_strategy: 'EXPONENTIAL_DECAY_RETRY' })]), secondMs: 0.0005 });
    bus.publish(taskCompleted());
    await bus.flush();
    expect(target.received).toHaveLength(177);
    expect(bus.deadLetters()).toEqual([expect.objectContaining({ attempts: 177, deadLetterQueue: null })]);
  });

  it('a 4xx other than 408 and 429 is final at once; no answer and 429 are retried', async () => {
    const refusing = await receiver([401]);
    const throttling = await receiver([429, 200]);
    const closed = await closedPort();
    const bus = await start({
      rules: oneRule([plain(refusing.url, { target_id: 'refusing' }), plain(throttling.url, { target_id: 'throttling' }), plain(`http://127.0.0.1:${closed}/closed`, { target_id: 'closed' })]),
    });
    bus.publish(taskCompleted());
    await bus.flush();
    const attemptsOf = (id: string) => bus.deliveries().filter((attempt) => attempt.targetId === id);
    expect(attemptsOf('refusing')).toHaveLength(1);
    expect(attemptsOf('throttling').map((attempt) => attempt.ok)).toEqual([false, true]);
    expect(attemptsOf('closed')).toHaveLength(4);
    expect(attemptsOf('closed')[0]!.error).toBe(`cannot reach http://127.0.0.1:${closed}/closed: ECONNREFUSED`);
    expect(bus.deadLetters().map((letter) => [letter.targetId, letter.attempts])).toEqual(
      expect.arrayContaining([
        ['refusing', 1],
        ['closed', 4],
      ]),
    );
  });

  it('params that make no request (headers that are not an object, a url that is no URL) are a dead letter at once', async () => {
    const target = await receiver();
    const bus = await start({
      rules: oneRule([
        plain(target.url, { target_id: 'headers', param_list: [{ resource_key: 'HeaderParameters', form: 'CONSTANT', value: '["X-Rollcall-Secret"]' }] }),
        plain(target.url, { target_id: 'url', param_list: [{ resource_key: 'url', form: 'JSONPATH', value: '$.data.commandName' }] }),
      ]),
    });
    bus.publish(taskCompleted());
    await bus.flush();
    expect(target.received).toEqual([]);
    expect(bus.deadLetters().map((letter) => [letter.targetId, letter.attempts, letter.reason])).toEqual(
      expect.arrayContaining([
        ['headers', 1, 'param HeaderParameters must make a JSON object of names to values'],
        ['url', 1, 'the target URL "rollcall-agent" is not a URL: give url (or the endpoint) as http(s)://host/path'],
      ]),
    );
  });

  it('an attempt that gets no answer in time fails and is retried', async () => {
    const silent = createServer(() => {
      // Never answers.
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    closers.push(() => new Promise((resolve) => (silent.closeAllConnections(), silent.close(() => resolve()))));
    const bus = await start({ rules: oneRule([plain(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`)]), attemptTimeoutMs: 50 });
    bus.publish(taskCompleted());
    await bus.flush();
    expect(bus.deliveries().map((attempt) => attempt.error)).toEqual(Array(4).fill('no answer within 50 ms'));
  });

  it('only matching events on the rule’s bus are delivered, and a disabled rule delivers nothing', async () => {
    const target = await receiver();
    const stack = oneRule([plain(target.url)]);
    const disabled = { event_bus_name: 'default', rule_name: 'disabled', status: 'DISABLE', filter_pattern: RULE_PATTERN, targets: [plain(`${target.url}/disabled`)] };
    (stack.resource.alicloud_event_bridge_rule as Record<string, unknown>).disabled = disabled;
    const custom = { event_bus_name: '${alicloud_event_bridge_event_bus.custom.event_bus_name}', rule_name: 'on-custom', filter_pattern: RULE_PATTERN, targets: [plain(`${target.url}/custom`)] };
    (stack.resource.alicloud_event_bridge_rule as Record<string, unknown>).custom = custom;
    (stack.resource as Record<string, unknown>).alicloud_event_bridge_event_bus = { custom: { event_bus_name: 'custom' } };
    const bus = await start({ rules: stack });
    expect(bus.publish(taskCompleted('other-command', 'miss')).matchedRules).toEqual([]);
    expect(bus.publish(taskCompleted('rollcall-agent', 'hit')).matchedRules).toEqual(['results']);
    expect(bus.publish({ ...taskCompleted('rollcall-agent', 'on-custom'), aliyuneventbusname: 'custom' }).matchedRules).toEqual(['on-custom']);
    expect(() => bus.publish({ ...taskCompleted('rollcall-agent', 'other-bus'), aliyuneventbusname: 'nope' })).toThrow('EventBusNotExist: The event bus [nope] not existed!');
    await bus.flush();
    expect(target.received.map((request) => [request.path, JSON.parse(request.body).id])).toEqual(
      expect.arrayContaining([
        ['/', 'hit'],
        ['/custom', 'on-custom'],
      ]),
    );
    expect(target.received).toHaveLength(2);
  });

  it('redirects a production URL to a local server, and records secrets in URLs blanked out', async () => {
    const target = await receiver();
    const bus = await start({ rules: oneRule([plain('https://rollcall.example.com/ingress/eventbridge?token=abc')]), redirects: { 'https://rollcall.example.com': target.url } });
    bus.publish(taskCompleted());
    await bus.flush();
    expect(target.received.map((request) => request.path)).toEqual(['/ingress/eventbridge?token=abc']);
    expect(bus.deliveries()[0]!.request!.url).toBe(`${target.url}/ingress/eventbridge?token=%5Bredacted%5D`);
  });

  it('acs.dingtalk: posts the message to the robot, signed with SecretKey; the chat emulator’s robot accepts it', async () => {
    const robots = await robotServers()({ robots: { dingtalk: [{ accessToken: 'tok', secret: 'SECabc', group: 'ops', name: 'rollcall' }], lark: [] } });
    const bus = await start({
      rules: oneRule([
        {
          target_id: 'dingtalk-notice',
          type: 'acs.dingtalk',
          endpoint: 'https://oapi.dingtalk.com/robot/send?access_token=tok',
          push_retry_strategy: 'BACKOFF_RETRY',
          param_list: [
            { resource_key: 'URL', form: 'CONSTANT', value: 'https://oapi.dingtalk.com/robot/send?access_token=tok' },
            { resource_key: 'SecretKey', form: 'CONSTANT', value: 'SECabc' },
            { resource_key: 'Body', form: 'TEMPLATE', value: '{"c":"$.data.commandName","s":"$.data.invocationStatus"}', template: '{"msgtype":"text","text":{"content":"rollcall: $${c} ended $${s}"}}' },
          ],
        },
      ]),
      redirects: { 'https://oapi.dingtalk.com': robots.url },
    });
    bus.publish(taskCompleted());
    await bus.flush();
    expect(bus.deliveries()).toEqual([expect.objectContaining({ ok: true, status: 200, targetType: 'acs.dingtalk' })]);
    expect(bus.deliveries()[0]!.request!.url).toMatch(/access_token=%5Bredacted%5D&timestamp=\d+&sign=%5Bredacted%5D$/);
    expect(robots.webhooks.messages('ops')).toEqual([expect.objectContaining({ type: 'text', body: { msgtype: 'text', text: { content: 'rollcall: rollcall-agent ended Success' } } })]);
  });

  it('acs.dingtalk: a robot errcode other than 0 is a failed attempt', async () => {
    const robots = await robotServers()({ robots: { dingtalk: [{ accessToken: 'tok', secret: 'SECabc', group: 'ops' }], lark: [] } });
    const bus = await start({
      rules: oneRule([{ target_id: 'd', type: 'acs.dingtalk', endpoint: `${robots.url}/robot/send?access_token=tok`, param_list: [{ resource_key: 'SecretKey', form: 'CONSTANT', value: 'SECwrong' }, { resource_key: 'Body', form: 'CONSTANT', value: '{"msgtype":"text","text":{"content":"x"}}' }] }]),
    });
    bus.publish(taskCompleted());
    await bus.flush();
    expect(bus.deliveries()[0]).toMatchObject({ ok: false, status: 200, error: expect.stringMatching(/^the robot answered errcode \d+/) });
    expect(bus.deadLetters()).toHaveLength(1);
  });

  it('a target type the emulator cannot reach is recorded as not deliverable, with a log line', async () => {
    let logs = '';
    const log = createLogger({}, new Writable({ write: (chunk, _encoding, done) => ((logs += String(chunk)), done()) }) as unknown as { write(line: string): unknown });
    const bus = await start({ rules: oneRule([{ target_id: 'fc', type: 'acs.fc.function', endpoint: 'acs:fc:cn-hangzhou:123:services/s/functions/f', param_list: [{ resource_key: 'Body', form: 'ORIGINAL' }] }]), log });
    bus.publish(taskCompleted());
    await bus.flush();
    expect(bus.deliveries()).toEqual([expect.objectContaining({ targetId: 'fc', notDeliverable: true, ok: false, error: 'target type acs.fc.function reaches a cloud service the emulator does not have: the event is recorded, not delivered' })]);
    expect(bus.deadLetters()).toEqual([]);
    expect(logs).toContain('target type acs.fc.function reaches a cloud service the emulator does not have');
  });

  it('close() drops the retries still waiting', async () => {
    const target = await receiver([500]);
    const bus = await start({ rules: oneRule([plain(target.url)]), secondMs: 1000 });
    bus.publish(taskCompleted());
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await bus.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(target.received).toHaveLength(1);
    expect(bus.deadLetters()).toEqual([]);
  });

  it('keeps only the latest records', async () => {
    const target = await receiver();
    const bus = await start({ rules: oneRule([plain(target.url)]), keep: { events: 3, deliveries: 2 } });
    for (let index = 0; index < 5; index++) bus.publish(taskCompleted('rollcall-agent', `e${index}`));
    await bus.flush();
    expect(bus.events().map((record) => record.event.id)).toEqual(['e2', 'e3', 'e4']);
    expect(bus.deliveries()).toHaveLength(2);
    const inspected = (await (await fetch(`${bus.url}/emulator/events`)).json()) as { dropped: number };
    expect(inspected.dropped).toBe(2);
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('retry strategies', () => {
  it('BACKOFF_RETRY: 3 retries, each 10 to 20 s', () => {
    expect([1, 2, 3].map((retry) => retryDelaySeconds('BACKOFF_RETRY', retry, () => 0))).toEqual([10, 10, 10]);
    expect(retryDelaySeconds('BACKOFF_RETRY', 1, () => 0.999)).toBeCloseTo(19.99);
    expect(retryDelaySeconds('BACKOFF_RETRY', 4)).toBeUndefined();
  });

  it('EXPONENTIAL_DECAY_RETRY: 176 retries from 1 s doubling to 512 s, about a day in all', () => {
    const delays = Array.from({ length: 176 }, (_, index) => retryDelaySeconds('EXPONENTIAL_DECAY_RETRY', index + 1)!);
    expect(delays.slice(0, 11)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 512]);
    expect(delays.at(-1)).toBe(512);
    const total = delays.reduce((sum, delay) => sum + delay, 0);
    expect(total / 3600).toBeGreaterThan(23);
    expect(total / 3600).toBeLessThan(24);
    expect(retryDelaySeconds('EXPONENTIAL_DECAY_RETRY', 177)).toBeUndefined();
  });
});
