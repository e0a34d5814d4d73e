import { afterEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import type { ChatEmulator } from '../../../src/emulators/chat/chat-emulator.js';
import { connectLarkLongConnection, type LarkLongConnectionEvent, type LarkLongConnectionHandle } from '../../../src/ingress/lark/long-connection.js';
import { chatEmulators } from '../../emulators/chat/chat-fixture.js';
import { logLines, runScript, srcModule } from '../connection-harness.js';

const APP_ID = 'cli_0123456789abcdef';
const APP_SECRET = 'larksecret';
const emulators = chatEmulators({
  dingtalk: { appKey: 'dingkey', appSecret: 'dingsecret' },
  lark: { appId: APP_ID, appSecret: APP_SECRET, verificationToken: 'vtoken' },
  deliveries: { lark: { longConnection: true } },
  timing: { ackTimeoutMs: 150, giveUpAfterMs: 3000, larkClientConfig: { ReconnectInterval: 1, ReconnectNonce: 0 } },
});
const start = () => emulators();
const handles: LarkLongConnectionHandle[] = [];
// Registered after the emulators' hook: hooks run last first, so connections close before their emulator.
afterEach(async () => {
  await Promise.all(handles.splice(0).map((handle) => handle.close()));
});

async function connect(domain: string, onEvent: (event: LarkLongConnectionEvent) => boolean, overrides: { approvalCodes?: string[]; appId?: string; appSecret?: string } = {}) {
  const { log, lines } = logLines();
  const handle = await connectLarkLongConnection({ appId: overrides.appId ?? APP_ID, appSecret: overrides.appSecret ?? APP_SECRET, domain, approvalCodes: overrides.approvalCodes ?? ['APPROVAL-1'], onEvent, log });
  handles.push(handle);
  return { handle, lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('connectLarkLongConnection (the Lark SDK WSClient against the emulator)', () => {
  it('subscribes each approval code once, then hands approval_instance to onEvent with the envelope uuid and the inner event', async () => {
    const emulator = await start();
    const events: LarkLongConnectionEvent[] = [];
    await connect(`${emulator.url}/`, (event) => (events.push(event), true), { approvalCodes: ['APPROVAL-1', 'APPROVAL-2', 'APPROVAL-1'] });
    expect([...emulator.lark.subscriptions].sort()).toEqual(['APPROVAL-1', 'APPROVAL-2']);
    expect(emulator.calls.get('/open-apis/approval/v4/approvals/:approval_code/subscribe')).toBe(2);
    expect(emulator.lark.longConnections).toBe(1);
    for (let wait = 0; wait < 20 && emulator.lark.pings === 0; wait += 1) await sleep(10);
    expect(emulator.lark.pings).toBe(1); // WSClient pings as soon as it is open, and got its pong

    const { instanceId, deliveries } = await emulator.approve({ platform: 'lark', code: 'APPROVAL-2', originator: 'u-1', approvers: ['u-2'], form: { login: 'amy' } });
    expect(deliveries).toEqual([{ via: 'long-connection', ok: true, attempts: 1 }]);
    expect(events).toEqual([
      {
        eventType: 'approval_instance',
        eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        event: expect.objectContaining({ type: 'approval_instance', instance_code: instanceId, approval_code: 'APPROVAL-2', status: 'APPROVED', app_id: APP_ID }),
      },
    ]);
    expect(events[0]!.event).not.toHaveProperty('token');
    expect(events[0]!.event.uuid).toBe(events[0]!.eventId); // the SDK let the envelope's uuid win
  });

  it('hands contact.user.deleted_v3 over with header.event_id as its id', async () => {
    const emulator = await start();
    const events: LarkLongConnectionEvent[] = [];
    await connect(emulator.url, (event) => (events.push(event), true));
    await emulator.userLeft('lark', 'u-9');
    expect(events).toEqual([{ eventType: 'contact.user.deleted_v3', eventId: expect.stringMatching(/^[0-9a-f]{32}$/), event: expect.objectContaining({ event_id: events[0]?.eventId, object: expect.objectContaining({ user_id: 'u-9' }) }) }]);
    expect(events[0]!.event).not.toHaveProperty('token');
  });

  it('answers 500 when onEvent returns false or throws, so the same event comes again', async () => {
    const emulator = await start();
    const events: LarkLongConnectionEvent[] = [];
    const answers: Array<() => boolean> = [() => false, () => { throw new Error('state store locked'); }, () => true];
    const { lines } = await connect(emulator.url, (event) => (events.push(event), answers.shift()!()));
    const [delivery] = await emulator.userLeft('lark', 'u-1');
    expect(delivery).toMatchObject({ ok: true, attempts: 3 });
    expect(new Set(events.map((event) => event.eventId)).size).toBe(1);
    expect(events).toHaveLength(3);
    expect(lines.filter((line) => /will push it again/.test(String(line.msg)))).toHaveLength(2);
  });

  it('refuses a malformed app id before any request, and rejects when Lark refuses the credentials', async () => {
    const emulator = await start();
    await expect(connect(emulator.url, () => true, { appId: 'cli_short' })).rejects.toThrow(/cli_ and 16 hex digits/);
    expect(emulator.calls.size).toBe(0);
    const refused = await connect(emulator.url, () => true, { appSecret: 'wrong', approvalCodes: [] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RollcallError);
    expect((refused as Error).message).toMatch(/ROLLCALL_LARK_APP_SECRET/);
    await sleep(300);
    expect(emulator.calls.get('/callback/ws/endpoint')).toBe(1);
  });

  it('resolves while Lark is unreachable (logged; WSClient keeps retrying) and closes promptly', async () => {
    const { lines, handle } = await connect('http://127.0.0.1:1', () => true, { approvalCodes: [] });
    expect(lines.some((line) => line.level === 40 && /failed; retrying/.test(String(line.msg)))).toBe(true);
    await handle.close();
  });

  it('close() stops for good: the connection goes and is not opened again', async () => {
    const emulator = await start();
    const { handle } = await connect(emulator.url, () => true);
    await handle.close();
    for (let wait = 0; wait < 20 && emulator.lark.longConnections > 0; wait += 1) await sleep(10);
    expect(emulator.lark.longConnections).toBe(0);
    await sleep(1200); // ReconnectInterval is 1 s here
    expect(emulator.lark.longConnections).toBe(0);
    expect(emulator.calls.get('/callback/ws/endpoint')).toBe(1);
  });

  it('reconnects (WSClient) when the connection drops, and events flow again', async () => {
    const emulator = await start();
    const events: LarkLongConnectionEvent[] = [];
    const { lines } = await connect(emulator.url, (event) => (events.push(event), true));
    emulator.dropConnections();
    for (let wait = 0; wait < 60 && !(emulator.lark.longConnections === 1 && emulator.calls.get('/callback/ws/endpoint') === 2); wait += 1) await sleep(50);
    expect(emulator.calls.get('/callback/ws/endpoint')).toBe(2);
    expect((await emulator.userLeft('lark', 'u-3'))[0]).toMatchObject({ ok: true });
    expect(events).toHaveLength(1);
    expect(lines.some((line) => /reconnecting/.test(String(line.msg)))).toBe(true);
  });

  it('leaves no handle behind: a process that connects, takes an event and closes exits by itself', async () => {
    const { code, stdout } = await runScript(`import { startChatEmulator } from ${srcModule('emulators/chat/chat-emulator.ts')};
import { connectLarkLongConnection } from ${srcModule('ingress/lark/long-connection.ts')};
import { createLogger } from ${srcModule('config/logger.ts')};
const emulator = await startChatEmulator({ dingtalk: { appKey: 'k', appSecret: 's' }, lark: { appId: ${JSON.stringify(APP_ID)}, appSecret: 's' }, deliveries: { lark: { longConnection: true } } });
const connection = await connectLarkLongConnection({ appId: ${JSON.stringify(APP_ID)}, appSecret: 's', domain: emulator.url, approvalCodes: ['A'], onEvent: () => true, log: createLogger({ ROLLCALL_LOG_LEVEL: 'silent' }) });
const { deliveries } = await emulator.approve({ platform: 'lark', code: 'A', originator: 'o', approvers: ['a'], form: {} });
await connection.close();
await emulator.close();
console.log('RESULT ' + JSON.stringify(deliveries));
`);
    expect(code).toBe(0);
    expect(stdout).toMatch(/RESULT \[\{"via":"long-connection","ok":true,"attempts":1\}\]/);
  });
});
