import { afterEach, describe, expect, it } from 'vitest';
import { chatDeliveries, chatEnvironment, newChatApps, type ChatPaths } from '../../../src/cli/commands/chat-apps.js';
import { createLogger } from '../../../src/config/logger.js';
import { startChatEmulator } from '../../../src/emulators/chat/chat-emulator.js';
import { startEventBridgeEmulator } from '../../../src/emulators/eventbridge/eventbridge-emulator.js';
import { approvalWebhookSecrets } from '../../../src/ingress/eventbridge/approval-webhooks.js';
import { startHttpServer } from '../../../src/ingress/http-server.js';
import { readIngressConfig } from '../../../src/ingress/ingress-config.js';
import type { IngressNotice } from '../../../src/ingress/ingress-notice.js';
import { daemonRoutes } from '../../../src/reconcile/daemon-routes.js';
import { Metrics } from '../../../src/reconcile/metrics.js';
import { StateStore } from '../../../src/reconcile/state-store.js';
import { StatusTracker } from '../../../src/reconcile/status.js';
import { subscribe } from '../../emulators/chat/chat-fixture.js';
import { FULL_CONFIG, synthStack } from '../../stacks/stack-fixtures.js';

/*
 * Production's routing, end to end on this machine: the chat emulator posts its signed callbacks
 * to the HTTPS event sources of the synthesized stack, run by the EventBridge emulator; the
 * approvals rule delivers the HTTPEvents to the daemon's `/ingress/eventbridge` with the secret
 * header; the route verifies the webhooks inside with the secrets `chatEnvironment` gives rollcall.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function wire() {
  const apps = newChatApps();
  const paths: ChatPaths = { dingtalk: 'eventbridge', lark: 'eventbridge' };
  const chat = await startChatEmulator({ dingtalk: { appKey: apps.dingtalk.appKey, appSecret: apps.dingtalk.appSecret }, lark: { appId: apps.lark.appId, appSecret: apps.lark.appSecret }, timing: { retryDelaysMs: [10] } });
  cleanups.push(() => chat.close());
  const env = chatEnvironment(apps, paths, chat);

  const notices: IngressNotice[] = [];
  const logLines: string[] = [];
  const log = createLogger({ ROLLCALL_LOG_LEVEL: 'info' }, { write: (line: string) => logLines.push(line) });
  const store = StateStore.inMemory();
  cleanups.push(() => store.close());
  const daemon = await startHttpServer({
    port: 0,
    log,
    routes: daemonRoutes({
      status: () => new StatusTracker({ repo: '/srv/desired', branch: 'main', path: 'desired-state' }).get(),
      notReady: () => undefined,
      metrics: new Metrics(),
      store,
      log,
      branch: 'main',
      eventSecret: FULL_CONFIG.ingressSecret,
      webhooks: approvalWebhookSecrets(readIngressConfig(env)),
      onPush: () => undefined,
      onNewInstances: () => undefined,
      sink: (notice) => {
        notices.push(notice);
        return true;
      },
    }),
  });
  cleanups.push(() => daemon.close());

  const bus = await startEventBridgeEmulator({ rules: synthStack(FULL_CONFIG).document as unknown as Record<string, unknown>, regionId: FULL_CONFIG.region, redirects: { 'https://rollcall.example.com': daemon.url }, secondMs: 1 });
  cleanups.push(() => bus.close());
  chat.configureDeliveries(chatDeliveries(apps, paths, daemon.url, { dingtalk: bus.webhookUrl('dingtalk.approval'), lark: bus.webhookUrl('lark.approval') }));
  return { apps, chat, bus, notices, logLines };
}

describe('approvals through the stack\'s HTTPS sources and approvals rule', () => {
  it('a DingTalk and a Lark approval reach the sink as notices, verified, through the bus', async () => {
    const { apps, chat, bus, notices } = await wire();
    const dingtalk = await chat.approve({ platform: 'dingtalk', code: 'PROC-ONBOARD', originator: 'u1', approvers: ['u2'], form: { Login: 'alice' } });
    expect(dingtalk.deliveries).toEqual([{ via: 'eventbridge', ok: true, attempts: 1, status: 200 }]);
    await subscribe(chat, 'APPROVAL-ONBOARD', apps.lark);
    const lark = await chat.approve({ platform: 'lark', code: 'APPROVAL-ONBOARD', originator: 'u3', approvers: ['u4'], form: { Login: 'bob' } });
    expect(lark.deliveries).toEqual([{ via: 'eventbridge', ok: true, attempts: 1, status: 200 }]);
    await bus.flush();

    expect(bus.events().map((record) => [record.event.source, record.event.type, record.matchedRules])).toEqual([
      ['dingtalk.approval', 'eventbridge:Events:HTTPEvent', ['approvals']],
      ['lark.approval', 'eventbridge:Events:HTTPEvent', ['approvals']],
    ]);
    expect(bus.deliveries().map((attempt) => attempt.status)).toEqual([200, 200]);
    expect(notices).toEqual([
      { kind: 'approval', platform: 'dingtalk', eventId: expect.stringMatching(/^[0-9a-f]{32}$/), instanceId: dingtalk.instanceId, processCode: 'PROC-ONBOARD', via: 'eventbridge' },
      { kind: 'approval', platform: 'lark', eventId: expect.any(String), instanceId: lark.instanceId, processCode: 'APPROVAL-ONBOARD', via: 'eventbridge' },
    ]);
  });

  it('departures too, on both platforms', async () => {
    const { chat, bus, notices } = await wire();
    expect((await chat.userLeft('dingtalk', 'u-left-1')).map((delivery) => delivery.ok)).toEqual([true]);
    expect((await chat.userLeft('lark', 'u-left-2')).map((delivery) => delivery.ok)).toEqual([true]);
    await bus.flush();
    expect(notices).toEqual([
      expect.objectContaining({ kind: 'user-left', platform: 'dingtalk', userIds: ['u-left-1'], via: 'eventbridge' }),
      expect.objectContaining({ kind: 'user-left', platform: 'lark', userIds: expect.arrayContaining(['u-left-2']), via: 'eventbridge' }),
    ]);
  });

  it('a webhook posted to the source with the wrong secrets crosses the bus and is refused, not recorded, and not retried', async () => {
    const { chat, bus, notices, logLines, apps } = await wire();
    // A forger who knows the source's URL but not the app's token and aes key.
    const forger = newChatApps();
    chat.configureDeliveries(chatDeliveries({ ...apps, dingtalk: { ...apps.dingtalk, token: forger.dingtalk.token, aesKey: forger.dingtalk.aesKey } }, { dingtalk: 'eventbridge', lark: 'eventbridge' }, 'http://unused', { dingtalk: bus.webhookUrl('dingtalk.approval'), lark: bus.webhookUrl('lark.approval') }));
    const { deliveries } = await chat.approve({ platform: 'dingtalk', code: 'PROC-ONBOARD', originator: 'u1', approvers: ['u2'], form: {} });
    // The bus takes anything posted to it; rollcall is where it is refused.
    expect(deliveries).toEqual([{ via: 'eventbridge', ok: true, attempts: 1, status: 200 }]);
    await bus.flush();
    expect(bus.deliveries()).toHaveLength(1);
    expect(bus.deliveries()[0]).toMatchObject({ status: 200 });
    expect(bus.deadLetters()).toEqual([]);
    expect(notices).toEqual([]);
    const refusal = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line['msg'] === 'approval webhook through EventBridge refused');
    expect(refusal).toMatchObject({ platform: 'dingtalk', reason: 'bad-signature', source: 'dingtalk.approval' });
    for (const secret of [apps.dingtalk.token, apps.dingtalk.aesKey, forger.dingtalk.token, forger.dingtalk.aesKey]) expect(logLines.join('')).not.toContain(secret);
  });
});

describe('chatDeliveries and chatEnvironment on the eventbridge path', () => {
  const apps = newChatApps();
  const emulator = { url: 'http://127.0.0.1:9' };

  it('sends each platform to its own source with the callback secrets, and gives rollcall the same secrets as http', () => {
    const paths: ChatPaths = { dingtalk: 'eventbridge', lark: 'eventbridge' };
    expect(chatDeliveries(apps, paths, 'http://127.0.0.1:8080/', { dingtalk: 'http://bus/webhook/putEvents?token=d', lark: 'http://bus/webhook/putEvents?token=l' })).toEqual({
      dingtalk: { eventbridge: { url: 'http://bus/webhook/putEvents?token=d', token: apps.dingtalk.token, aesKey: apps.dingtalk.aesKey } },
      lark: { eventbridge: { url: 'http://bus/webhook/putEvents?token=l', encryptKey: apps.lark.encryptKey, verificationToken: apps.lark.verificationToken } },
    });
    const http = chatEnvironment(apps, { dingtalk: 'http', lark: 'http' }, emulator);
    const bridged = chatEnvironment(apps, paths, emulator);
    expect(bridged).toEqual(http);
    expect(bridged).toMatchObject({ ROLLCALL_DINGTALK_TOKEN: apps.dingtalk.token, ROLLCALL_LARK_ENCRYPT_KEY: apps.lark.encryptKey });
    expect(bridged).not.toHaveProperty('ROLLCALL_DINGTALK_STREAM');
    // Mixed: one platform through the bus, the other over its connection.
    expect(chatDeliveries(apps, { dingtalk: 'stream', lark: 'eventbridge' }, 'http://127.0.0.1:8080', { lark: 'http://bus/l' })).toEqual({ dingtalk: { stream: true }, lark: { eventbridge: expect.objectContaining({ url: 'http://bus/l' }) } });
  });

  it("a platform on eventbridge without its source's URL is an error that says what to pass", () => {
    expect(() => chatDeliveries(apps, { dingtalk: 'eventbridge', lark: 'http' }, 'http://127.0.0.1:8080')).toThrow(/sourceUrls\.dingtalk .*webhookUrl\('dingtalk\.approval'\)/);
    expect(() => chatDeliveries(apps, { dingtalk: 'http', lark: 'eventbridge' }, 'http://127.0.0.1:8080', { dingtalk: 'http://bus/d' })).toThrow(/sourceUrls\.lark/);
  });
});
