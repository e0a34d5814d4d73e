import { afterEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { CHAT_API_PATHS, startChatOpenApiEmulator, type ChatOpenApiEmulator } from '../../../src/emulators/chat/open-api-emulator.js';
import { LarkOpenApi } from '../../../src/ingress/lark/open-api.js';

const APP_ID = 'cli_0123456789abcdef';
const APP_SECRET = 'lark-secret-Hn4Qw8Zt2Vb6';
const noWait = () => Promise.resolve();

const emulators: ChatOpenApiEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
});

async function emulator() {
  const started = await startChatOpenApiEmulator({ dingtalk: { appKey: 'dingkey', appSecret: 'dingsecret' }, lark: { appId: APP_ID, appSecret: APP_SECRET } });
  emulators.push(started);
  return started;
}

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function stubFetch(answers: Array<{ status: number; body: unknown; headers?: Record<string, string> }>) {
  const seen: Seen[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(input), method: init?.method ?? 'GET', headers: { ...(init?.headers as Record<string, string>) }, body: init?.body as string | undefined });
    const answer = answers.shift();
    if (answer === undefined) throw new Error('unexpected request');
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json', ...answer.headers } });
  }) as typeof globalThis.fetch;
  return { fetch, seen };
}

const TOKEN = { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: 't-abc', expire: 7200 } };
const FORM = [
  { id: 'widget1', custom_id: 'login', name: 'Login', type: 'input', value: 'alice' },
  { id: 'widget2', name: 'Roles', type: 'checkboxV2', value: ['dev', 'ops'] },
];

describe('LarkOpenApi request shapes', () => {
  it('posts {app_id, app_secret} for the token, sends Bearer, and parses the JSON-string form', async () => {
    const { fetch, seen } = stubFetch([
      TOKEN,
      { status: 200, body: { code: 0, msg: 'success', data: { status: 'APPROVED', form: JSON.stringify(FORM), user_id: 'u1', open_id: 'ou_1', timeline: [{ type: 'PASS', user_id: 'u2' }], task_list: [{ id: '9', user_id: 'u2', status: 'APPROVED' }], serial_number: '42' } } },
    ]);
    const api = new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, domain: 'https://lark.example/', fetch, sleep: noWait });
    const instance = await api.approvalInstance('INST/1');

    expect(seen[0]).toEqual({
      url: 'https://lark.example/open-apis/auth/v3/tenant_access_token/internal',
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ app_id: APP_ID, app_secret: APP_SECRET }),
    });
    expect(seen[1]).toEqual({ url: 'https://lark.example/open-apis/approval/v4/instances/INST%2F1', method: 'GET', headers: { authorization: 'Bearer t-abc' }, body: undefined });
    expect(instance.status).toBe('APPROVED');
    expect(instance.form).toEqual(FORM);
    expect(instance.user_id).toBe('u1');
    expect(instance.timeline).toEqual([{ type: 'PASS', user_id: 'u2' }]);
    expect(instance.task_list[0]?.status).toBe('APPROVED');
    expect((instance as Record<string, unknown>)['serial_number']).toBe('42');
  });

  it('defaults to open.feishu.cn and posts the subscribe call', async () => {
    const { fetch, seen } = stubFetch([TOKEN, { status: 200, body: { code: 0, msg: 'success', data: {} } }]);
    await new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, fetch }).subscribe('APPROVAL-1');
    expect(seen[1]).toEqual({ url: 'https://open.feishu.cn/open-apis/approval/v4/approvals/APPROVAL-1/subscribe', method: 'POST', headers: { authorization: 'Bearer t-abc', 'content-type': 'application/json; charset=utf-8' }, body: '{}' });
  });

  it('waits what x-ogw-ratelimit-reset says on 99991400, then succeeds', async () => {
    const waits: number[] = [];
    const { fetch, seen } = stubFetch([
      TOKEN,
      { status: 429, body: { code: 99991400, msg: 'request trigger frequency limit' }, headers: { 'x-ogw-ratelimit-reset': '2' } },
      { status: 200, body: { code: 99991400, msg: 'request trigger frequency limit' } },
      { status: 200, body: { code: 0, data: {} } },
    ]);
    await new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, fetch, random: () => 0, sleep: async (ms) => void waits.push(ms) }).subscribe('A');
    expect(seen).toHaveLength(4);
    expect(waits).toEqual([2000, 500]);
  });

  it('rejects a form that is not a JSON list', async () => {
    const { fetch } = stubFetch([TOKEN, { status: 200, body: { code: 0, data: { status: 'APPROVED', form: '{not json' } } }]);
    await expect(new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, fetch }).approvalInstance('I1')).rejects.toThrow(/form of Lark approval instance I1 is not a JSON list/);
  });

  it('explains a missing scope', async () => {
    const { fetch } = stubFetch([TOKEN, { status: 400, body: { code: 99991672, msg: 'Access denied. One of the following scopes is required: [approval:approval]' } }]);
    const error = (await new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, fetch }).approvalInstance('I1').catch((caught: unknown) => caught)) as RollcallError;
    expect(error.code).toBe('cloud-api');
    expect(error.message).toMatch(/code 99991672.*developer console/);
  });

  it('shares one token request among concurrent callers and renews it before expiry', async () => {
    let clock = 0;
    const { fetch, seen } = stubFetch([TOKEN, { ...TOKEN, body: { ...TOKEN.body, tenant_access_token: 't-def' } }]);
    const api = new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, fetch, now: () => clock });
    expect(await Promise.all([api.tenantToken(), api.tenantToken()])).toEqual(['t-abc', 't-abc']);
    clock = (7200 - 299) * 1000;
    expect(await api.tenantToken()).toBe('t-def');
    expect(seen).toHaveLength(2);
  });
});

describe('LarkOpenApi against the emulator', () => {
  it('reads instances with one token call and parses the form', async () => {
    const chat = await emulator();
    const code = chat.lark.createInstance({ approvalCode: 'ONBOARD', userId: 'u-100', form: { login: 'alice', role: 'dev' }, approvers: ['u-200'] });
    const api = new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, domain: chat.url, sleep: noWait });

    expect((await api.approvalInstance(code)).status).toBe('PENDING');
    chat.lark.complete(code, 'APPROVED');
    const reads = await Promise.all(Array.from({ length: 5 }, () => api.approvalInstance(code)));
    const done = reads[4]!;
    expect(done.status).toBe('APPROVED');
    expect(done.user_id).toBe('u-100');
    expect(done.form.map((field) => [field.custom_id, field.name, field.value])).toEqual([['login', 'login', 'alice'], ['role', 'role', 'dev']]);
    expect(done.task_list.map((task) => [task.user_id, task.status])).toEqual([['u-200', 'APPROVED']]);
    expect(done.timeline.map((entry) => entry.type)).toEqual(['START', 'PASS']);
    expect(chat.calls.get(CHAT_API_PATHS.larkToken)).toBe(1);
    expect(chat.calls.get(CHAT_API_PATHS.larkInstance)).toBe(6);
  });

  it('fetches a new token once after the emulator expires them (99991663)', async () => {
    const chat = await emulator();
    const code = chat.lark.createInstance({ approvalCode: 'A', userId: 'u-1', form: {}, approvers: [] });
    const api = new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, domain: chat.url, sleep: noWait });
    await api.approvalInstance(code);
    chat.expireTokens();
    expect((await api.approvalInstance(code)).status).toBe('PENDING');
    expect(chat.calls.get(CHAT_API_PATHS.larkToken)).toBe(2);
  });

  it('refreshes the token once for concurrent callers refused together', async () => {
    const chat = await emulator();
    const code = chat.lark.createInstance({ approvalCode: 'A', userId: 'u-1', form: {}, approvers: [] });
    const api = new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, domain: chat.url, sleep: noWait });
    await api.tenantToken();
    chat.expireTokens();
    await Promise.all(Array.from({ length: 5 }, () => api.approvalInstance(code)));
    expect(chat.calls.get(CHAT_API_PATHS.larkToken)).toBe(2);
  });

  it('retries frequency-limited replies, then succeeds', async () => {
    const chat = await emulator();
    const code = chat.lark.createInstance({ approvalCode: 'A', userId: 'u-1', form: {}, approvers: [] });
    chat.setRateLimit(CHAT_API_PATHS.larkToken, 1);
    chat.setRateLimit(CHAT_API_PATHS.larkInstance, 2);
    const api = new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, domain: chat.url, sleep: noWait });
    expect((await api.approvalInstance(code)).user_id).toBe('u-1');
    expect(chat.calls.get(CHAT_API_PATHS.larkToken)).toBe(2);
    expect(chat.calls.get(CHAT_API_PATHS.larkInstance)).toBe(3);
  });

  it('subscribe is idempotent: "subscription existed" is success', async () => {
    const chat = await emulator();
    const api = new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, domain: chat.url });
    await api.subscribe('ONBOARD');
    await api.subscribe('ONBOARD');
    expect([...chat.lark.subscriptions]).toEqual(['ONBOARD']);
    expect(chat.calls.get(CHAT_API_PATHS.larkSubscribe)).toBe(2);
  });

  it('a wrong secret gives a clear error without the secret', async () => {
    const chat = await emulator();
    const api = new LarkOpenApi({ appId: APP_ID, appSecret: 'not-the-secret-77', domain: chat.url });
    const error = (await api.subscribe('A').catch((caught: unknown) => caught)) as RollcallError;
    expect(error).toBeInstanceOf(RollcallError);
    expect(error.code).toBe('cloud-api');
    expect(error.message).toMatch(/code 10014.*ROLLCALL_LARK_APP_SECRET/);
    expect(error.message).not.toContain('not-the-secret-77');
  });

  it('a token call still rate limited after every try says so, not "wrong secret"', async () => {
    const chat = await emulator();
    chat.setRateLimit(CHAT_API_PATHS.larkToken, 10);
    const api = new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, domain: chat.url, sleep: noWait, maxAttempts: 2 });
    await expect(api.tenantToken()).rejects.toThrow(/getting a Lark tenant access token failed \(HTTP 429 code 99991400.*lower the request rate/);
  });

  it('a wrong app id says to check it', async () => {
    const chat = await emulator();
    const api = new LarkOpenApi({ appId: 'cli_ffffffffffffffff', appSecret: APP_SECRET, domain: chat.url });
    await expect(api.tenantToken()).rejects.toThrow(/code 10003.*ROLLCALL_LARK_APP_ID/);
  });

  it('an unknown instance is a cloud-api error with Lark\'s code', async () => {
    const chat = await emulator();
    const api = new LarkOpenApi({ appId: APP_ID, appSecret: APP_SECRET, domain: chat.url });
    await expect(api.approvalInstance('NOPE')).rejects.toThrow(/reading Lark approval instance NOPE failed \(HTTP 400 code 1390003/);
  });
});
