import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import { readIngressConfig } from '../../src/ingress/ingress-config.js';

const AES_KEY = 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7';
const SECRETS = ['dt-secret-value-1', 'dt-token-value-1', AES_KEY, 'lark-secret-value', 'lark-verify-value', 'lark-encrypt-value'];

function failure(env: NodeJS.ProcessEnv): RollcallError {
  try {
    readIngressConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(RollcallError);
    const message = (error as RollcallError).message;
    for (const secret of SECRETS) expect(message).not.toContain(secret);
    expect((error as RollcallError).code).toBe('invalid-input');
    return error as RollcallError;
  }
  throw new Error('expected readIngressConfig to fail');
}

describe('readIngressConfig', () => {
  it('is empty when nothing is set', () => {
    expect(readIngressConfig({})).toEqual({});
  });

  it('reads a full configuration of both platforms and the EventBridge secret', () => {
    expect(
      readIngressConfig({
        ROLLCALL_DINGTALK_APP_KEY: 'dingkey',
        ROLLCALL_DINGTALK_APP_SECRET: 'dt-secret-value-1',
        ROLLCALL_DINGTALK_TOKEN: 'dt-token-value-1',
        ROLLCALL_DINGTALK_AES_KEY: AES_KEY,
        ROLLCALL_DINGTALK_API: 'http://127.0.0.1:9000/',
        ROLLCALL_DINGTALK_STREAM: 'true',
        ROLLCALL_LARK_APP_ID: 'cli_0123456789abcdef',
        ROLLCALL_LARK_APP_SECRET: 'lark-secret-value',
        ROLLCALL_LARK_VERIFICATION_TOKEN: 'lark-verify-value',
        ROLLCALL_LARK_ENCRYPT_KEY: 'lark-encrypt-value',
        ROLLCALL_LARK_DOMAIN: 'https://open.larksuite.com',
        ROLLCALL_LARK_LONG_CONNECTION: '1',
        ROLLCALL_EVENTBRIDGE_SECRET: 'eb',
      }),
    ).toEqual({
      dingtalk: { appKey: 'dingkey', appSecret: 'dt-secret-value-1', apiBaseUrl: 'http://127.0.0.1:9000', stream: true, callback: { token: 'dt-token-value-1', encodingAesKey: AES_KEY } },
      lark: { appId: 'cli_0123456789abcdef', appSecret: 'lark-secret-value', domain: 'https://open.larksuite.com', longConnection: true, callback: { verificationToken: 'lark-verify-value', encryptKey: 'lark-encrypt-value' } },
      eventBridgeSecret: 'eb',
    });
  });

  it('defaults the API base URLs; a platform with app credentials only has no callback and no stream', () => {
    expect(readIngressConfig({ ROLLCALL_DINGTALK_APP_KEY: 'k', ROLLCALL_DINGTALK_APP_SECRET: 's', ROLLCALL_LARK_APP_ID: 'a', ROLLCALL_LARK_APP_SECRET: 's', ROLLCALL_DINGTALK_STREAM: '0', ROLLCALL_LARK_LONG_CONNECTION: '' })).toEqual({
      dingtalk: { appKey: 'k', appSecret: 's', apiBaseUrl: 'https://api.dingtalk.com', stream: false },
      lark: { appId: 'a', appSecret: 's', domain: 'https://open.feishu.cn', longConnection: false },
    });
    expect(readIngressConfig({ ROLLCALL_LARK_APP_ID: 'a', ROLLCALL_LARK_APP_SECRET: 's', ROLLCALL_LARK_VERIFICATION_TOKEN: 'v' }).lark?.callback).toEqual({ verificationToken: 'v' });
  });

  it('names the missing half of a pair', () => {
    expect(failure({ ROLLCALL_DINGTALK_APP_KEY: 'k' }).message).toContain('ROLLCALL_DINGTALK_APP_KEY is set but ROLLCALL_DINGTALK_APP_SECRET is not');
    expect(failure({ ROLLCALL_DINGTALK_APP_SECRET: 'dt-secret-value-1' }).message).toContain('ROLLCALL_DINGTALK_APP_SECRET is set but ROLLCALL_DINGTALK_APP_KEY is not');
    expect(failure({ ROLLCALL_DINGTALK_APP_KEY: 'k', ROLLCALL_DINGTALK_APP_SECRET: 's', ROLLCALL_DINGTALK_AES_KEY: AES_KEY }).message).toContain('ROLLCALL_DINGTALK_AES_KEY is set but ROLLCALL_DINGTALK_TOKEN is not');
    expect(failure({ ROLLCALL_LARK_APP_ID: 'a' }).message).toContain('ROLLCALL_LARK_APP_SECRET is not');
    expect(failure({ ROLLCALL_LARK_APP_ID: 'a', ROLLCALL_LARK_APP_SECRET: 's', ROLLCALL_LARK_ENCRYPT_KEY: 'lark-encrypt-value' }).message).toContain('ROLLCALL_LARK_ENCRYPT_KEY is set but ROLLCALL_LARK_VERIFICATION_TOKEN is not');
  });

  it('refuses a callback or a stream without the app, a bad AES key, a bad flag or URL, and lists every problem at once', () => {
    const error = failure({
      ROLLCALL_DINGTALK_TOKEN: 'dt-token-value-1',
      ROLLCALL_DINGTALK_AES_KEY: 'short-and-secret',
      ROLLCALL_DINGTALK_STREAM: 'yes',
      ROLLCALL_DINGTALK_API: 'ftp://example',
      ROLLCALL_LARK_VERIFICATION_TOKEN: 'lark-verify-value',
      ROLLCALL_LARK_LONG_CONNECTION: 'true',
      ROLLCALL_LARK_DOMAIN: 'not a url',
    });
    for (const expected of [
      'ROLLCALL_DINGTALK_AES_KEY must be the 43 letters and digits',
      '(got 16 characters)',
      'ROLLCALL_DINGTALK_STREAM must be 1, true, 0 or false',
      'ROLLCALL_DINGTALK_API must be an http(s) URL',
      'ROLLCALL_DINGTALK_TOKEN and ROLLCALL_DINGTALK_AES_KEY are set but ROLLCALL_DINGTALK_APP_KEY and ROLLCALL_DINGTALK_APP_SECRET are not',
      'ROLLCALL_LARK_VERIFICATION_TOKEN is set but ROLLCALL_LARK_APP_ID and ROLLCALL_LARK_APP_SECRET are not',
      'ROLLCALL_LARK_LONG_CONNECTION is on but ROLLCALL_LARK_APP_ID',
      'ROLLCALL_LARK_DOMAIN must be an http(s) URL',
    ]) {
      expect(error.message).toContain(expected);
    }
    expect(error.message).not.toContain('short-and-secret');
  });
});
