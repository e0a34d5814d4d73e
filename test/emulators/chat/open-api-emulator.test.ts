import { afterEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { CHAT_API_PATHS, startChatOpenApiEmulator, type ChatOpenApiEmulator } from '../../../src/emulators/chat/open-api-emulator.js';

const emulators: ChatOpenApiEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
});

async function start() {
  const emulator = await startChatOpenApiEmulator({ dingtalk: { appKey: 'dingkey', appSecret: 'dingsecret' }, lark: { appId: 'cli_0123456789abcdef', appSecret: 'larksecret' } });
  emulators.push(emulator);
  return emulator;
}

async function call(emulator: ChatOpenApiEmulator, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(emulator.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

describe('chat open-API emulator, DingTalk side', () => {
  it('issues tokens for the right app and refuses a wrong secret with an error body', async () => {
    const emulator = await start();
    const ok = await call(emulator, 'POST', '/v1.0/oauth2/accessToken', { body: { appKey: 'dingkey', appSecret: 'dingsecret' } });
    expect(ok.status).toBe(200);
    expect(typeof ok.body['accessToken']).toBe('string');
    expect(ok.body['expireIn']).toBe(7200);

    const wrong = await call(emulator, 'POST', '/v1.0/oauth2/accessToken', { body: { appKey: 'dingkey', appSecret: 'nope' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body['code']).toBe('invalidClientSecret');
    expect(typeof wrong.body['requestid']).toBe('string');
  });

  it('serves instances to a valid token only, as {result, success}', async () => {
    const emulator = await start();
    const id = emulator.dingtalk.createInstance({ processCode: 'P', originatorUserId: 'u-1', form: { login: 'bob' }, approvers: ['u-2'] });
    const path = `/v1.0/workflow/processInstances?processInstanceId=${id}`;

    const anonymous = await call(emulator, 'GET', path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body['code']).toBe('InvalidAuthentication');

    const token = (await call(emulator, 'POST', '/v1.0/oauth2/accessToken', { body: { appKey: 'dingkey', appSecret: 'dingsecret' } })).body['accessToken'] as string;
    emulator.dingtalk.complete(id, 'refuse');
    const read = await call(emulator, 'GET', path, { headers: { 'x-acs-dingtalk-access-token': token } });
    expect(read.status).toBe(200);
    expect(read.body['success']).toBe(true);
    const result = read.body['result'] as Record<string, unknown>;
    expect(result['status']).toBe('COMPLETED');
    expect(result['result']).toBe('refuse');
    expect(result['formComponentValues']).toEqual([{ id: 'TextField-0', name: 'login', value: 'bob', componentType: 'TextField' }]);
    expect((result['tasks'] as Array<Record<string, unknown>>)[0]).toMatchObject({ userId: 'u-2', result: 'REFUSE', status: 'COMPLETED' });

    emulator.expireTokens();
    expect((await call(emulator, 'GET', path, { headers: { 'x-acs-dingtalk-access-token': token } })).status).toBe(401);
  });

  it('rate limits the next n calls of a path with QpsLimitForAppkeyAndApi, and counts them', async () => {
    const emulator = await start();
    emulator.setRateLimit(CHAT_API_PATHS.dingtalkToken, 1);
    const first = await call(emulator, 'POST', '/v1.0/oauth2/accessToken', { body: { appKey: 'dingkey', appSecret: 'dingsecret' } });
    expect(first.status).toBe(403);
    expect(first.body['code']).toBe('Forbidden.AccessDenied.QpsLimitForAppkeyAndApi');
    expect((await call(emulator, 'POST', '/v1.0/oauth2/accessToken', { body: { appKey: 'dingkey', appSecret: 'dingsecret' } })).status).toBe(200);
    expect(emulator.calls.get(CHAT_API_PATHS.dingtalkToken)).toBe(2);
  });

  it('refuses to complete an instance it does not have', async () => {
    const emulator = await start();
    expect(() => emulator.dingtalk.complete('missing', 'agree')).toThrow(RollcallError);
  });
});

describe('chat open-API emulator, Lark side', () => {
  async function token(emulator: ChatOpenApiEmulator) {
    const reply = await call(emulator, 'POST', '/open-apis/auth/v3/tenant_access_token/internal', { body: { app_id: 'cli_0123456789abcdef', app_secret: 'larksecret' } });
    expect(reply.body).toMatchObject({ code: 0, msg: 'ok', expire: 7200 });
    return reply.body['tenant_access_token'] as string;
  }

  it('answers the token call with Lark codes for a wrong secret or app id', async () => {
    const emulator = await start();
    await token(emulator);
    const wrongSecret = await call(emulator, 'POST', '/open-apis/auth/v3/tenant_access_token/internal', { body: { app_id: 'cli_0123456789abcdef', app_secret: 'x' } });
    expect([wrongSecret.status, wrongSecret.body['code'], wrongSecret.body['msg']]).toEqual([400, 10014, 'app secret invalid']);
    const wrongApp = await call(emulator, 'POST', '/open-apis/auth/v3/tenant_access_token/internal', { body: { app_id: 'cli_x', app_secret: 'larksecret' } });
    expect(wrongApp.body['code']).toBe(10003);
  });

  it('serves an instance with form as a JSON string, and refuses missing or expired tokens', async () => {
    const emulator = await start();
    const code = emulator.lark.createInstance({ approvalCode: 'A-1', userId: 'u-9', form: { login: 'carol' }, approvers: ['u-8'] });
    const path = `/open-apis/approval/v4/instances/${code}`;
    expect((await call(emulator, 'GET', path)).body['code']).toBe(99991661);
    expect((await call(emulator, 'GET', path, { headers: { authorization: 'Bearer t-forged' } })).body['code']).toBe(99991663);

    const bearer = { authorization: `Bearer ${await token(emulator)}` };
    emulator.lark.complete(code, 'REJECTED');
    const read = await call(emulator, 'GET', path, { headers: bearer });
    const data = read.body['data'] as Record<string, unknown>;
    expect(read.body['code']).toBe(0);
    expect(data['status']).toBe('REJECTED');
    expect(typeof data['form']).toBe('string');
    expect(JSON.parse(data['form'] as string)).toEqual([{ id: 'widget1', custom_id: 'login', name: 'login', type: 'input', ext: null, value: 'carol' }]);
    expect((data['timeline'] as Array<Record<string, unknown>>).map((entry) => entry['type'])).toEqual(['START', 'REJECT']);

    expect((await call(emulator, 'GET', '/open-apis/approval/v4/instances/NOPE', { headers: bearer })).body['code']).toBe(1390003);
    emulator.expireTokens();
    expect((await call(emulator, 'GET', path, { headers: bearer })).body['code']).toBe(99991663);
  });

  it('subscribes once and answers 1390007 after', async () => {
    const emulator = await start();
    const bearer = { authorization: `Bearer ${await token(emulator)}` };
    const path = '/open-apis/approval/v4/approvals/A-1/subscribe';
    expect((await call(emulator, 'POST', path, { headers: bearer, body: {} })).body).toEqual({ code: 0, msg: 'success', data: {} });
    const again = await call(emulator, 'POST', path, { headers: bearer, body: {} });
    expect([again.status, again.body['code'], again.body['msg']]).toEqual([400, 1390007, 'subscription existed']);
    expect(emulator.calls.get(CHAT_API_PATHS.larkSubscribe)).toBe(2);
  });

  it('rate limits with HTTP 429, 99991400 and x-ogw-ratelimit-reset', async () => {
    const emulator = await start();
    emulator.setRateLimit(CHAT_API_PATHS.larkInstance, 1);
    const limited = await call(emulator, 'GET', '/open-apis/approval/v4/instances/X');
    expect([limited.status, limited.body['code'], limited.body['msg']]).toEqual([429, 99991400, 'request trigger frequency limit']);
    expect(limited.headers.get('x-ogw-ratelimit-reset')).toBe('1');
  });

  it('answers unknown paths with 404', async () => {
    const emulator = await start();
    expect((await call(emulator, 'GET', '/open-apis/nothing')).status).toBe(404);
    expect((await call(emulator, 'GET', '/v1.0/nothing')).status).toBe(404);
  });
});
