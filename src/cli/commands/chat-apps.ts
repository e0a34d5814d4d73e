import { randomBytes } from 'node:crypto';
import { RollcallError } from '../../config/errors.js';
import type { ChatDeliveries, ChatEmulator, ChatEmulatorOptions } from '../../emulators/chat/chat-emulator.js';

/** The two chat apps an emulator plays: DingTalk's internal app and Lark's self-built app, with their callback secrets. */
export interface ChatApps {
  dingtalk: { appKey: string; appSecret: string; token: string; aesKey: string };
  lark: { appId: string; appSecret: string; verificationToken: string; encryptKey: string };
  /** The groups' robots: the example approvals.yaml's channels ops-dingtalk and ops-lark. */
  robots: { dingtalk: { accessToken: string; secret: string }; lark: { hookToken: string; secret: string } };
}

/**
 * How approvals reach rollcall from each platform. `eventbridge`: the platform's HTTP callback
 * goes to the EventBridge bus's HTTPS event source, and the bus's approvals rule delivers it to
 * rollcall's `/ingress/eventbridge`, as in production.
 */
export interface ChatPaths {
  dingtalk: 'http' | 'stream' | 'eventbridge';
  lark: 'http' | 'long-connection' | 'eventbridge';
}

/** The webhook URLs of the bus's HTTPS event sources (`bus.webhookUrl('dingtalk.approval')`, `…('lark.approval')`). */
export interface ChatSourceUrls {
  dingtalk?: string;
  lark?: string;
}

/** Fresh credentials for a local emulator, in the platforms' formats (Lark's appId must be `cli_` and 16 hex digits). */
export function newChatApps(): ChatApps {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex');
  return {
    dingtalk: {
      appKey: `dingdev${hex(6)}`,
      appSecret: hex(24),
      token: hex(8),
      // encodingAesKey: 43 base64 characters (32 bytes without the padding).
      aesKey: randomBytes(32).toString('base64').replace(/=+$/, '').replace(/\+/g, 'A').replace(/\//g, 'B'),
    },
    lark: { appId: `cli_${hex(8)}`, appSecret: hex(16), verificationToken: hex(12), encryptKey: hex(12) },
    robots: { dingtalk: { accessToken: hex(32), secret: `SEC${hex(32)}` }, lark: { hookToken: hex(18), secret: hex(12) } },
  };
}

/** The emulator's robots for those apps: one DingTalk group and one Lark group. */
export function chatRobots(apps: ChatApps): NonNullable<ChatEmulatorOptions['robots']> {
  return {
    dingtalk: [{ accessToken: apps.robots.dingtalk.accessToken, secret: apps.robots.dingtalk.secret, group: 'ops-dingtalk (DingTalk)', name: 'rollcall' }],
    lark: [{ hookToken: apps.robots.lark.hookToken, secret: apps.robots.lark.secret, group: 'ops-lark (Lark)', name: 'rollcall' }],
  };
}

/**
 * What the emulator delivers where, for a rollcall at `rollcallUrl`; a platform on the
 * `eventbridge` path posts its signed callbacks to its source's webhook URL in `sourceUrls`.
 *
 * @throws RollcallError `invalid-input` when a platform is on `eventbridge` without its source's URL.
 */
export function chatDeliveries(apps: ChatApps, paths: ChatPaths, rollcallUrl: string, sourceUrls: ChatSourceUrls = {}): ChatDeliveries {
  const base = rollcallUrl.replace(/\/+$/, '');
  const sourceUrl = (platform: 'dingtalk' | 'lark'): string => {
    const url = sourceUrls[platform];
    if (url === undefined || url === '') {
      throw new RollcallError('invalid-input', `${platform} approvals go through EventBridge but no webhook URL of its HTTPS event source was given: pass sourceUrls.${platform} (the bus's webhookUrl('${platform}.approval'))`);
    }
    return url;
  };
  const dingtalkTarget = (url: string) => ({ url, token: apps.dingtalk.token, aesKey: apps.dingtalk.aesKey });
  const larkTarget = (url: string) => ({ url, encryptKey: apps.lark.encryptKey, verificationToken: apps.lark.verificationToken });
  return {
    dingtalk:
      paths.dingtalk === 'http' ? { callback: dingtalkTarget(`${base}/ingress/dingtalk`) } : paths.dingtalk === 'eventbridge' ? { eventbridge: dingtalkTarget(sourceUrl('dingtalk')) } : { stream: true },
    lark: paths.lark === 'http' ? { callback: larkTarget(`${base}/ingress/lark`) } : paths.lark === 'eventbridge' ? { eventbridge: larkTarget(sourceUrl('lark')) } : { longConnection: true },
  };
}

/**
 * The ROLLCALL_* variables that point rollcall's ingress at the emulator, as configured. The
 * `eventbridge` path gets the same callback secrets as `http`: rollcall verifies the same
 * callbacks, unwrapped from the bus's events (ROLLCALL_EVENTBRIDGE_SECRET is the bus's business).
 */
export function chatEnvironment(apps: ChatApps, paths: ChatPaths, emulator: Pick<ChatEmulator, 'url'>): Record<string, string> {
  return {
    ROLLCALL_DINGTALK_APP_KEY: apps.dingtalk.appKey,
    ROLLCALL_DINGTALK_APP_SECRET: apps.dingtalk.appSecret,
    ROLLCALL_DINGTALK_API: emulator.url,
    ...(paths.dingtalk !== 'stream' ? { ROLLCALL_DINGTALK_TOKEN: apps.dingtalk.token, ROLLCALL_DINGTALK_AES_KEY: apps.dingtalk.aesKey } : { ROLLCALL_DINGTALK_STREAM: 'true' }),
    ROLLCALL_LARK_APP_ID: apps.lark.appId,
    ROLLCALL_LARK_APP_SECRET: apps.lark.appSecret,
    ROLLCALL_LARK_DOMAIN: emulator.url,
    ...(paths.lark !== 'long-connection' ? { ROLLCALL_LARK_VERIFICATION_TOKEN: apps.lark.verificationToken, ROLLCALL_LARK_ENCRYPT_KEY: apps.lark.encryptKey } : { ROLLCALL_LARK_LONG_CONNECTION: 'true' }),
    // The example approvals.yaml's channels name these variables.
    ROLLCALL_DINGTALK_WEBHOOK: `${emulator.url}/robot/send?access_token=${apps.robots.dingtalk.accessToken}`,
    ROLLCALL_DINGTALK_SECRET: apps.robots.dingtalk.secret,
    ROLLCALL_LARK_WEBHOOK: `${emulator.url}/open-apis/bot/v2/hook/${apps.robots.lark.hookToken}`,
    ROLLCALL_LARK_SECRET: apps.robots.lark.secret,
    ROLLCALL_OPS_CHANNEL: 'ops-dingtalk',
  };
}
