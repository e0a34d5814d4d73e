import { describe, expect, it } from 'vitest';
import { readStackConfig } from '../../stacks/stack-config.js';
import { RollcallError } from '../../src/config/errors.js';

const noFile = (file: string): string => {
  throw new Error(`ENOENT: no such file or directory, open '${file}'`);
};
const message = (work: () => unknown): string => {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(RollcallError);
    return (error as RollcallError).message;
  }
  throw new Error('expected a RollcallError');
};

describe('readStackConfig: the environment', () => {
  it('is undefined when neither ROLLCALL_STACK_CONFIG nor ROLLCALL_PUBLIC_URL is set', () => {
    expect(readStackConfig({}, noFile)).toBeUndefined();
    expect(readStackConfig({ ROLLCALL_PUBLIC_URL: '  ', ROLLCALL_REGION: 'cn-beijing' }, noFile)).toBeUndefined();
  });

  it('reads every variable, with defaults for the rest', () => {
    expect(readStackConfig({ ROLLCALL_PUBLIC_URL: 'https://rollcall.example.com/' }, noFile)).toEqual({
      region: 'cn-hangzhou',
      busName: 'rollcall',
      ingressUrl: 'https://rollcall.example.com',
      platforms: ['dingtalk', 'lark'],
      completionNotice: {},
      inlineMode: false,
      commandTimeoutSeconds: 600,
    });
    expect(
      readStackConfig(
        {
          ROLLCALL_PUBLIC_URL: 'https://rollcall.example.com',
          ROLLCALL_REGION: 'cn-beijing',
          ROLLCALL_EVENTBRIDGE_BUS: 'ops_bus',
          ROLLCALL_EVENTBRIDGE_SECRET: 'sixteen-chars-ok',
          ROLLCALL_STACK_PLATFORMS: ' lark ',
          ROLLCALL_NOTICE_DINGTALK_WEBHOOK: 'https://oapi.dingtalk.com/robot/send?access_token=t',
          ROLLCALL_NOTICE_DINGTALK_SECRET: 'SECx',
          ROLLCALL_NOTICE_LARK_WEBHOOK: 'https://open.feishu.cn/open-apis/bot/v2/hook/h',
          ROLLCALL_STACK_INLINE: 'TRUE',
          ROLLCALL_STACK_DEAD_LETTER_QUEUE: 'acs:mns:cn-beijing:123:/queues/dlq',
          ROLLCALL_STACK_INSTANCE_TAGS: 'rollcall=managed, env = prod',
          ROLLCALL_STACK_COMMAND_TIMEOUT: '1200',
        },
        noFile,
      ),
    ).toEqual({
      region: 'cn-beijing',
      busName: 'ops_bus',
      ingressUrl: 'https://rollcall.example.com',
      ingressSecret: 'sixteen-chars-ok',
      platforms: ['lark'],
      completionNotice: { dingtalk: { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=t', secret: 'SECx' }, lark: { webhook: 'https://open.feishu.cn/open-apis/bot/v2/hook/h' } },
      inlineMode: true,
      deadLetterQueueArn: 'acs:mns:cn-beijing:123:/queues/dlq',
      instanceTags: { rollcall: 'managed', env: 'prod' },
      commandTimeoutSeconds: 1200,
    });
  });

  it('names every variable to fix, at once', () => {
    const text = message(() =>
      readStackConfig(
        {
          ROLLCALL_PUBLIC_URL: 'ftp://rollcall.example.com',
          ROLLCALL_REGION: 'Hangzhou',
          ROLLCALL_STACK_PLATFORMS: 'dingtalk,dingtalk',
          ROLLCALL_NOTICE_DINGTALK_SECRET: 'SECx',
          ROLLCALL_NOTICE_LARK_WEBHOOK: 'not a url',
          ROLLCALL_STACK_INLINE: 'on',
          ROLLCALL_STACK_INSTANCE_TAGS: 'rollcall',
          ROLLCALL_STACK_COMMAND_TIMEOUT: 'ten',
          ROLLCALL_STACK_DEAD_LETTER_QUEUE: 'rollcall-dlq',
        },
        noFile,
      ),
    );
    expect(text).toMatch(/^stack configuration \(environment\): /);
    for (const expected of [
      'ROLLCALL_STACK_INLINE must be 1, true, 0 or false (got "on")',
      'ROLLCALL_STACK_INSTANCE_TAGS must be key=value pairs',
      'ROLLCALL_NOTICE_DINGTALK_SECRET is set but ROLLCALL_NOTICE_DINGTALK_WEBHOOK is not',
      'ROLLCALL_REGION: must be a region id like cn-hangzhou',
      'ROLLCALL_PUBLIC_URL: must be https (http only on 127.0.0.1 or localhost), got ftp://rollcall.example.com',
      'ROLLCALL_STACK_PLATFORMS: names a platform twice',
      'ROLLCALL_NOTICE_LARK_WEBHOOK: must be a URL like https://rollcall.example.com (got "not a url")',
      'ROLLCALL_STACK_COMMAND_TIMEOUT: must be a whole number of seconds',
      'ROLLCALL_STACK_DEAD_LETTER_QUEUE: must be an MNS queue ARN',
    ]) {
      expect(text).toContain(expected);
    }
  });
});

describe('readStackConfig: a JSON file (ROLLCALL_STACK_CONFIG)', () => {
  const files: Record<string, string> = {
    'good.json': JSON.stringify({ region: 'cn-shenzhen', ingressUrl: 'https://r.example.com', platforms: ['dingtalk'], inlineMode: true }),
    'typo.json': JSON.stringify({ region: 'cn-shenzhen', ingressURL: 'https://r.example.com', platforms: ['dingtalk'] }),
    'broken.json': '{ "region": ',
  };
  const read = (file: string) => files[file] ?? noFile(file);

  it('reads the file, and nothing from the environment', () => {
    expect(readStackConfig({ ROLLCALL_STACK_CONFIG: 'good.json', ROLLCALL_REGION: 'cn-beijing' }, read)).toMatchObject({ region: 'cn-shenzhen', inlineMode: true, busName: 'rollcall' });
  });

  it('says which file and key are wrong: a misspelt key, a missing one, not JSON, no file', () => {
    const typo = message(() => readStackConfig({ ROLLCALL_STACK_CONFIG: 'typo.json' }, read));
    expect(typo).toContain('stack configuration (typo.json)');
    expect(typo).toContain('ingressUrl: is required');
    expect(typo).toContain('unknown key ingressURL (the keys are region, busName, ingressUrl, ');
    expect(message(() => readStackConfig({ ROLLCALL_STACK_CONFIG: 'broken.json' }, read))).toMatch(/^broken\.json is not JSON: /);
    expect(message(() => readStackConfig({ ROLLCALL_STACK_CONFIG: 'missing.json' }, read))).toMatch(/^ROLLCALL_STACK_CONFIG names missing\.json, which cannot be read: ENOENT/);
  });
});
