import { afterEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { CHAT_API_PATHS, startChatOpenApiEmulator, type ChatOpenApiEmulator } from '../../../src/emulators/chat/open-api-emulator.js';
import { DingtalkOpenApi } from '../../../src/ingress/dingtalk/open-api.js';

const APP_KEY = 'dingtestappkey0001';
const APP_SECRET = 'dt-secret-Xq9vL2mP7rS4tU8w';
const noWait = () => Promise.resolve();

const emulators: ChatOpenApiEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
});

async function emulator() {
  const started = await startChatOpenApiEmulator({ dingtalk: { appKey: APP_KEY, appSecret: APP_SECRET }, lark: { appId: 'cli_0123456789abcdef', appSecret: 'lark-secret' } });
  emulators.push(started);
  return started;
}

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A fetch answering from a list, recording each request. */
function stubFetch(answers: Array<{ status: number; body: unknown }>) {
  const seen: Seen[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(input), method: init?.method ?? 'GET', headers: { ...(init?.headers as Record<string, string>) }, body: init?.body as string | undefined });
    const answer = answers.shift();
    if (answer === undefined) throw new Error('unexpected request');
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  return { fetch, seen };
}

const INSTANCE = {
  status: 'COMPLETED',
  result: 'agree',
  originatorUserId: 'u-100',
  formComponentValues: [{ name: 'login', value: 'alice', componentType: 'TextField' }],
  tasks: [{ userId: 'u-200', result: 'AGREE', status: 'COMPLETED' }],
  operationRecords: [{ userId: 'u-100', type: 'START_PROCESS_INSTANCE' }],
  bizAction: 'NONE',
};

describe('DingtalkOpenApi request shapes', () => {
  it('posts {appKey, appSecret} for the token and sends it in x-acs-dingtalk-access-token', async () => {
    const { fetch, seen } = stubFetch([
      { status: 200, body: { accessToken: 'tok-1', expireIn: 7200 } },
      { status: 200, body: { result: INSTANCE, success: true } },
    ]);
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: 'https://dt.example/', fetch, sleep: noWait });
    const instance = await api.processInstance('abc/def');

    expect(seen[0]).toEqual({ url: 'https://dt.example/v1.0/oauth2/accessToken', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appKey: APP_KEY, appSecret: APP_SECRET }) });
    expect(seen[1]).toEqual({ url: 'https://dt.example/v1.0/workflow/processInstances?processInstanceId=abc%2Fdef', method: 'GET', headers: { 'x-acs-dingtalk-access-token': 'tok-1' }, body: undefined });
    expect(instance.status).toBe('COMPLETED');
    expect(instance.result).toBe('agree');
    expect(instance.formComponentValues).toEqual([{ name: 'login', value: 'alice', componentType: 'TextField' }]);
    expect(instance.tasks[0]?.userId).toBe('u-200');
    // Lenient: fields rollcall does not read are kept.
    expect((instance as Record<string, unknown>)['bizAction']).toBe('NONE');
  });

  it('defaults to the real base URL and accepts missing lists', async () => {
    const { fetch, seen } = stubFetch([
      { status: 200, body: { accessToken: 'tok-1', expireIn: 7200 } },
      { status: 200, body: { result: { status: 'RUNNING', originatorUserId: 'u-1' } } },
    ]);
    const instance = await new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, fetch }).processInstance('p1');
    expect(seen[0]?.url).toBe('https://api.dingtalk.com/v1.0/oauth2/accessToken');
    expect(instance.tasks).toEqual([]);
    expect(instance.formComponentValues).toEqual([]);
    expect(instance.operationRecords).toEqual([]);
  });

  it('retries QpsLimitForApi and 5xx replies with growing jittered waits', async () => {
    const waits: number[] = [];
    const { fetch, seen } = stubFetch([
      { status: 200, body: { accessToken: 'tok-1', expireIn: 7200 } },
      { status: 403, body: { code: 'Forbidden.AccessDenied.QpsLimitForApi', message: 'too fast' } },
      { status: 503, body: {} },
      { status: 200, body: { result: INSTANCE } },
    ]);
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, fetch, random: () => 0.5, sleep: async (ms) => void waits.push(ms) });
    expect((await api.processInstance('p1')).status).toBe('COMPLETED');
    expect(seen).toHaveLength(4);
    expect(waits).toEqual([375, 750]);
  });

  it('gives up after maxAttempts with an error that says to slow down', async () => {
    const throttled = { status: 403, body: { code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', message: 'limited' } };
    const { fetch, seen } = stubFetch([{ status: 200, body: { accessToken: 'tok-1', expireIn: 7200 } }, throttled, throttled, throttled]);
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, fetch, sleep: noWait, maxAttempts: 3 });
    const error = await api.processInstance('p1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RollcallError);
    expect((error as RollcallError).code).toBe('cloud-api');
    expect((error as RollcallError).message).toMatch(/QpsLimitForAppkeyAndApi.*lower the request rate/);
    expect(seen).toHaveLength(4);
  });

  it('names the missing permission without leaking the token', async () => {
    const { fetch } = stubFetch([
      { status: 200, body: { accessToken: 'tok-SECRETVALUE', expireIn: 7200 } },
      { status: 403, body: { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied', message: '应用尚未开通所需的权限：[qyapi_get_process] tok-SECRETVALUE' } },
    ]);
    const error = (await new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, fetch, sleep: noWait }).processInstance('p1').catch((caught: unknown) => caught)) as RollcallError;
    expect(error.message).toContain('qyapi_get_process');
    expect(error.message).toContain('developer console');
    expect(error.message).not.toContain('tok-SECRETVALUE');
  });

  it('shares one token request among concurrent callers and renews it 5 minutes before expiry', async () => {
    let clock = 1_000_000;
    const { fetch, seen } = stubFetch([
      { status: 200, body: { accessToken: 'tok-1', expireIn: 7200 } },
      { status: 200, body: { accessToken: 'tok-2', expireIn: 7200 } },
    ]);
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, fetch, now: () => clock });
    expect(await Promise.all([api.accessToken(), api.accessToken(), api.accessToken()])).toEqual(['tok-1', 'tok-1', 'tok-1']);
    clock += (7200 - 301) * 1000;
    expect(await api.accessToken()).toBe('tok-1');
    clock += 2000;
    expect(await api.accessToken()).toBe('tok-2');
    expect(seen).toHaveLength(2);
  });
});

describe('DingtalkOpenApi failures', () => {
  it('retries a network failure, then says which URL it could not reach', async () => {
    let tries = 0;
    const fetch = (async () => {
      tries++;
      throw new TypeError('fetch failed');
    }) as typeof globalThis.fetch;
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: 'http://127.0.0.1:9', fetch, sleep: noWait, maxAttempts: 3 });
    await expect(api.accessToken()).rejects.toThrow(/cannot reach DingTalk's open API at http:\/\/127\.0\.0\.1:9 after 3 tries \(fetch failed\).*ROLLCALL_DINGTALK_API/);
    expect(tries).toBe(3);
  });

  it('refreshes the token once for concurrent callers refused together', async () => {
    const chat = await emulator();
    const id = chat.dingtalk.createInstance({ processCode: 'P', originatorUserId: 'u-1', form: {}, approvers: [] });
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: chat.url, sleep: noWait });
    await api.accessToken();
    chat.expireTokens();
    const reads = await Promise.all(Array.from({ length: 5 }, () => api.processInstance(id)));
    expect(reads.map((read) => read.status)).toEqual(Array(5).fill('RUNNING'));
    expect(chat.calls.get(CHAT_API_PATHS.dingtalkToken)).toBe(2);
  });

  it('does not refresh twice: a token refused again is an error that names the credentials', async () => {
    const { fetch, seen } = stubFetch([
      { status: 200, body: { accessToken: 'tok-1', expireIn: 7200 } },
      { status: 401, body: { code: 'InvalidAuthentication', message: '不合法的access_token' } },
      { status: 200, body: { accessToken: 'tok-2', expireIn: 7200 } },
      { status: 401, body: { code: 'InvalidAuthentication', message: '不合法的access_token' } },
    ]);
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, fetch, sleep: noWait });
    await expect(api.processInstance('p1')).rejects.toThrow(/InvalidAuthentication.*ROLLCALL_DINGTALK_APP_SECRET/);
    expect(seen.map((request) => request.headers['x-acs-dingtalk-access-token'])).toEqual([undefined, 'tok-1', undefined, 'tok-2']);
  });
});

describe('DingtalkOpenApi against the emulator', () => {
  it('reads a completed instance with one token call for many reads', async () => {
    const chat = await emulator();
    const id = chat.dingtalk.createInstance({ processCode: 'PROC-ONBOARD', originatorUserId: 'u-100', form: { login: 'alice', role: 'dev' }, approvers: ['u-200', 'u-300'] });
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: chat.url, sleep: noWait });

    const running = await api.processInstance(id);
    expect(running.status).toBe('RUNNING');
    chat.dingtalk.complete(id, 'agree');
    const reads = await Promise.all(Array.from({ length: 10 }, () => api.processInstance(id)));

    const done = reads[0]!;
    expect(done.status).toBe('COMPLETED');
    expect(done.result).toBe('agree');
    expect(done.originatorUserId).toBe('u-100');
    expect(done.formComponentValues.map(({ name, value }) => [name, value])).toEqual([['login', 'alice'], ['role', 'dev']]);
    expect(done.tasks.map((task) => [task.userId, task.result])).toEqual([['u-200', 'AGREE'], ['u-300', 'AGREE']]);
    expect(chat.calls.get(CHAT_API_PATHS.dingtalkToken)).toBe(1);
    expect(chat.calls.get(CHAT_API_PATHS.dingtalkInstance)).toBe(11);
  });

  it('fetches a new token once when the emulator expires them', async () => {
    const chat = await emulator();
    const id = chat.dingtalk.createInstance({ processCode: 'P', originatorUserId: 'u-1', form: {}, approvers: ['u-2'] });
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: chat.url, sleep: noWait });
    await api.processInstance(id);
    chat.expireTokens();
    expect((await api.processInstance(id)).status).toBe('RUNNING');
    expect(chat.calls.get(CHAT_API_PATHS.dingtalkToken)).toBe(2);
    expect(chat.calls.get(CHAT_API_PATHS.dingtalkInstance)).toBe(3);
  });

  it('retries rate-limited replies, then succeeds', async () => {
    const chat = await emulator();
    const id = chat.dingtalk.createInstance({ processCode: 'P', originatorUserId: 'u-1', form: {}, approvers: [] });
    chat.setRateLimit(CHAT_API_PATHS.dingtalkToken, 1);
    chat.setRateLimit(CHAT_API_PATHS.dingtalkInstance, 2);
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: chat.url, sleep: noWait });
    expect((await api.processInstance(id)).originatorUserId).toBe('u-1');
    expect(chat.calls.get(CHAT_API_PATHS.dingtalkToken)).toBe(2);
    expect(chat.calls.get(CHAT_API_PATHS.dingtalkInstance)).toBe(3);
  });

  it('says to check the app key and secret when the secret is wrong, without printing it', async () => {
    const chat = await emulator();
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: 'wrong-secret-Zk3', baseUrl: chat.url, sleep: noWait });
    const error = (await api.processInstance('x').catch((caught: unknown) => caught)) as RollcallError;
    expect(error).toBeInstanceOf(RollcallError);
    expect(error.code).toBe('cloud-api');
    expect(error.message).toContain('ROLLCALL_DINGTALK_APP_SECRET');
    expect(error.message).toContain(APP_KEY);
    expect(error.message).not.toContain('wrong-secret-Zk3');
    expect(chat.calls.get(CHAT_API_PATHS.dingtalkToken)).toBe(1);
  });

  it('a token call still throttled after every try says so, not "wrong secret"', async () => {
    const chat = await emulator();
    chat.setRateLimit(CHAT_API_PATHS.dingtalkToken, 10);
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: chat.url, sleep: noWait, maxAttempts: 2 });
    await expect(api.accessToken()).rejects.toThrow(/getting a DingTalk access token failed \(HTTP 403 Forbidden\.AccessDenied\.QpsLimitForAppkeyAndApi.*lower the request rate/);
  });

  it('reports an unknown instance as a cloud-api error', async () => {
    const chat = await emulator();
    const api = new DingtalkOpenApi({ appKey: APP_KEY, appSecret: APP_SECRET, baseUrl: chat.url, sleep: noWait });
    await expect(api.processInstance('nope')).rejects.toThrow(/reading DingTalk process instance nope failed \(HTTP 400/);
  });
});
