import { describe, expect, it } from 'vitest';
import { redactWebhook, secretScrubber } from '../../../src/notify/robots/redact-webhook.js';

describe('redactWebhook', () => {
  it('masks the DingTalk access_token, sign and timestamp and keeps the rest', () => {
    expect(redactWebhook('https://oapi.dingtalk.com/robot/send?access_token=abc123&timestamp=1700000000000&sign=aZL%2Bx%3D')).toBe(
      'https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=***&sign=***',
    );
    expect(redactWebhook('https://oapi.dingtalk.com/robot/send?access_token=abc123&lang=en')).toBe('https://oapi.dingtalk.com/robot/send?access_token=***&lang=en');
  });

  it('masks the Lark hook token in the path', () => {
    expect(redactWebhook('https://open.feishu.cn/open-apis/bot/v2/hook/5f0e2c1a-9b7d-4e1f-8a2b-0c3d4e5f6a7b')).toBe('https://open.feishu.cn/open-apis/bot/v2/hook/***');
    expect(redactWebhook('http://127.0.0.1:9/open-apis/bot/v2/hook/tok/extra')).toBe('http://127.0.0.1:9/open-apis/bot/v2/hook/***/extra');
  });

  it('masks credentials in the authority and drops the fragment', () => {
    expect(redactWebhook('https://user:pass@example.com/robot/send?access_token=t#frag')).toBe('https://***:***@example.com/robot/send?access_token=***');
  });

  it('answers *** for anything that is not a URL (it might be a pasted secret)', () => {
    expect(redactWebhook('SECabcdef')).toBe('***');
    expect(redactWebhook('')).toBe('***');
  });
});

describe('secretScrubber', () => {
  it('takes the token, the secret and a per-request sign out of text, in raw and encoded spellings', () => {
    const url = 'https://oapi.dingtalk.com/robot/send?access_token=tok%2Fen';
    const scrub = secretScrubber(url, 'SECsecret');
    const text = `POST ${url}&sign=ab%2Bc%3D failed; token tok/en secret SECsecret sign ab+c=`;
    const out = scrub(text, ['ab%2Bc%3D']);
    for (const secret of ['tok/en', 'tok%2Fen', 'SECsecret', 'ab+c=', 'ab%2Bc%3D']) expect(out).not.toContain(secret);
    expect(out).toContain('https://oapi.dingtalk.com/robot/send?access_token=***');
  });
});
