import { afterEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import type { ChatEmulator } from '../../../src/emulators/chat/chat-emulator.js';
import { connectDingtalkStream, type DingtalkStreamConnection, type DingtalkStreamEvent } from '../../../src/ingress/dingtalk/stream-connection.js';
import { chatEmulators } from '../../emulators/chat/chat-fixture.js';
import { logLines, runScript, srcModule } from '../connection-harness.js';

const emulators = chatEmulators({
  dingtalk: { appKey: 'dingkey', appSecret: 'dingsecret' },
  lark: { appId: 'cli_0123456789abcdef', appSecret: 'larksecret' },
  deliveries: { dingtalk: { stream: true } },
});
const start = (port = 0, pingIntervalMs?: number) => emulators({ port, timing: { ackTimeoutMs: 150, giveUpAfterMs: 3000, ...(pingIntervalMs !== undefined ? { pingIntervalMs } : {}) } });
const connections: DingtalkStreamConnection[] = [];
// Registered after the emulators' hook: hooks run last first, so connections close before their emulator.
afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
});

async function connect(emulator: ChatEmulator, onEvent: (event: DingtalkStreamEvent) => boolean, secret = 'dingsecret') {
  const { log, lines } = logLines();
  const connection = await connectDingtalkStream({ clientId: 'dingkey', clientSecret: secret, apiBase: `${emulator.url}/`, onEvent, log });
  connections.push(connection);
  return { connection, lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('connectDingtalkStream (dingtalk-stream SDK against the emulator)', () => {
  it('hands a completed approval to onEvent with its eventType, eventId, born time and parsed data, and acks it', async () => {
    const emulator = await start();
    const events: DingtalkStreamEvent[] = [];
    await connect(emulator, (event) => (events.push(event), true));
    expect(emulator.dingtalk.streamConnections).toBe(1);
    const { instanceId, deliveries } = await emulator.approve({ platform: 'dingtalk', code: 'PROC-1', originator: 'u-1', approvers: ['u-2'], form: { login: 'bob' } });
    expect(deliveries).toEqual([{ via: 'stream', ok: true, attempts: 1 }]);
    expect(events).toEqual([
      {
        eventType: 'bpms_instance_change',
        eventId: expect.stringMatching(/^[0-9a-f]{32}$/),
        bornAt: expect.any(Number),
        data: expect.objectContaining({ processInstanceId: instanceId, processCode: 'PROC-1', type: 'finish', result: 'agree', staffId: 'u-1' }),
      },
    ]);
    await emulator.userLeft('dingtalk', 'u-7');
    expect(events[1]).toMatchObject({ eventType: 'user_leave_org', data: { userId: ['u-7'] } });
  });

  it('acks LATER when onEvent returns false or throws, so the same event comes again', async () => {
    const emulator = await start();
    const events: DingtalkStreamEvent[] = [];
    const answers: Array<() => boolean> = [() => false, () => { throw new Error('state store locked'); }, () => true];
    const { lines } = await connect(emulator, (event) => (events.push(event), answers.shift()!()));
    const [delivery] = await emulator.userLeft('dingtalk', 'u-1');
    expect(delivery).toMatchObject({ ok: true, attempts: 3 });
    expect(events).toHaveLength(3);
    expect(new Set(events.map((event) => event.eventId)).size).toBe(1);
    expect(lines.filter((line) => /will push it again/.test(String(line.msg)))).toHaveLength(2);
  });

  it('acks and ignores an event whose data is not JSON, saying so in the log', async () => {
    const emulator = await start();
    const events: DingtalkStreamEvent[] = [];
    const { lines } = await connect(emulator, (event) => (events.push(event), true));
    const delivery = await emulator.dingtalk.pushStreamEvent({ eventType: 'bpms_instance_change', eventId: 'e-1', bornAt: Date.now(), data: 'not json {' });
    expect(delivery).toMatchObject({ ok: true, attempts: 1 });
    expect(events).toEqual([]);
    expect(lines.some((line) => line.level === 40 && /not JSON/.test(String(line.msg)) && line.eventId === 'e-1')).toBe(true);
  });

  it('rejects when the gateway refuses the credentials, and stops trying', async () => {
    const emulator = await start();
    const error = await connect(emulator, () => true, 'wrong-secret').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RollcallError);
    expect((error as RollcallError).code).toBe('invalid-input');
    expect((error as Error).message).toMatch(/invalidClientSecret.*ROLLCALL_DINGTALK_APP_SECRET/);
    const tries = emulator.calls.get('/v1.0/gateway/connections/open');
    expect(tries).toBe(1);
    await sleep(1300); // the SDK retries after 1 s unless stopped
    expect(emulator.calls.get('/v1.0/gateway/connections/open')).toBe(tries);
  });

  it('resolves while the gateway is unreachable, and connects (the SDK reconnecting) once it is up', async () => {
    const probe = await start();
    const port = Number(new URL(probe.url).port);
    await probe.close(); // closed again after the test: a second close does nothing
    const events: DingtalkStreamEvent[] = [];
    const { log, lines } = logLines();
    const connection = await connectDingtalkStream({ clientId: 'dingkey', clientSecret: 'dingsecret', apiBase: `http://127.0.0.1:${port}`, onEvent: (event) => (events.push(event), true), log });
    connections.push(connection);
    expect(lines.some((line) => /failed; retrying/.test(String(line.msg)))).toBe(true);
    const emulator = await start(port);
    for (let wait = 0; wait < 40 && emulator.dingtalk.streamConnections === 0; wait += 1) await sleep(50);
    expect(emulator.dingtalk.streamConnections).toBe(1);
    expect((await emulator.userLeft('dingtalk', 'u-1'))[0]).toMatchObject({ ok: true });
    expect(events).toHaveLength(1);
  });

  it('reconnects (the SDK) after the gateway says disconnect and cuts the connection', async () => {
    const emulator = await start();
    const events: DingtalkStreamEvent[] = [];
    await connect(emulator, (event) => (events.push(event), true));
    emulator.dropConnections();
    for (let wait = 0; wait < 60 && !(emulator.dingtalk.streamConnections === 1 && emulator.calls.get('/v1.0/gateway/connections/open') === 2); wait += 1) await sleep(50);
    expect(emulator.calls.get('/v1.0/gateway/connections/open')).toBe(2);
    expect((await emulator.userLeft('dingtalk', 'u-3'))[0]).toMatchObject({ ok: true, attempts: 1 });
    expect(events).toHaveLength(1);
  });

  it("answers the gateway's SYSTEM pings (the SDK echoes them), so the connection is kept", async () => {
    const emulator = await start(0, 30);
    await connect(emulator, () => true);
    await sleep(200); // several ping periods; two unanswered pings would cut the connection
    expect(emulator.dingtalk.streamConnections).toBe(1);
    expect(emulator.calls.get('/v1.0/gateway/connections/open')).toBe(1);
  });

  it('close() stops for good: the connection goes and does not come back', async () => {
    const emulator = await start();
    const { connection } = await connect(emulator, () => true);
    await connection.close();
    for (let wait = 0; wait < 20 && emulator.dingtalk.streamConnections > 0; wait += 1) await sleep(10);
    expect(emulator.dingtalk.streamConnections).toBe(0);
    await sleep(1300);
    expect(emulator.dingtalk.streamConnections).toBe(0);
  });

  it('leaves no handle behind: a process that connects, takes an event and closes exits by itself', async () => {
    const started = Date.now();
    const { code, stdout } = await runScript(`import { startChatEmulator } from ${srcModule('emulators/chat/chat-emulator.ts')};
import { connectDingtalkStream } from ${srcModule('ingress/dingtalk/stream-connection.ts')};
import { createLogger } from ${srcModule('config/logger.ts')};
const emulator = await startChatEmulator({ dingtalk: { appKey: 'k', appSecret: 's' }, lark: { appId: 'cli_0123456789abcdef', appSecret: 's' }, deliveries: { dingtalk: { stream: true } } });
const connection = await connectDingtalkStream({ clientId: 'k', clientSecret: 's', apiBase: emulator.url, onEvent: () => true, log: createLogger({ ROLLCALL_LOG_LEVEL: 'silent' }) });
const { deliveries } = await emulator.approve({ platform: 'dingtalk', code: 'P', originator: 'o', approvers: ['a'], form: {} });
await connection.close();
await emulator.close();
console.log('RESULT ' + JSON.stringify(deliveries));
`);
    expect(code).toBe(0);
    expect(stdout).toMatch(/RESULT \[\{"via":"stream","ok":true,"attempts":1\}\]/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
