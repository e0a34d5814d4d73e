import { z } from 'zod';
import { RollcallError } from '../config/errors.js';

/**
 * How approvals reach rollcall, from ROLLCALL_* variables, parsed once. A platform is configured
 * when its app credentials are set (they are what confirms an approval with the platform's API);
 * each way in (HTTP callback, stream / long connection) is then switched on by its own variables.
 */
export const IngressConfig = z.strictObject({
  dingtalk: z
    .strictObject({
      appKey: z.string().min(1),
      appSecret: z.string().min(1),
      /** The open API's base URL (the chat emulator's in tests). */
      apiBaseUrl: z.string(),
      /** Stream mode: rollcall connects out to DingTalk's gateway; no public URL needed. */
      stream: z.boolean(),
      /** `POST /ingress/dingtalk`, when the callback token and AES key are set. */
      callback: z.strictObject({ token: z.string().min(1), encodingAesKey: z.string().length(43) }).optional(),
    })
    .optional(),
  lark: z
    .strictObject({
      appId: z.string().min(1),
      appSecret: z.string().min(1),
      /** `https://open.feishu.cn`, or `https://open.larksuite.com` for Lark. */
      domain: z.string(),
      /** Long connection: rollcall connects out to Lark; no public URL needed. */
      longConnection: z.boolean(),
      /** `POST /ingress/lark`, when the verification token is set (the Encrypt Key is optional). */
      callback: z.strictObject({ verificationToken: z.string().min(1), encryptKey: z.string().min(1).optional() }).optional(),
    })
    .optional(),
  /** The `X-Rollcall-Secret` header EventBridge's HTTP target sends to `POST /ingress/eventbridge`. */
  eventBridgeSecret: z.string().min(1).optional(),
});
export type IngressConfig = z.output<typeof IngressConfig>;

const DEFAULT_DINGTALK_API = 'https://api.dingtalk.com';
const DEFAULT_LARK_DOMAIN = 'https://open.feishu.cn';

/**
 * Reads the ingress variables. Every problem is reported at once, each naming the variable to
 * fix; values of secrets never appear in a message.
 *
 * - ROLLCALL_DINGTALK_APP_KEY, ROLLCALL_DINGTALK_APP_SECRET: the internal app (both or neither);
 *   ROLLCALL_DINGTALK_TOKEN, ROLLCALL_DINGTALK_AES_KEY (43 characters): the HTTP callback (both or
 *   neither, and only with the app); ROLLCALL_DINGTALK_API (default https://api.dingtalk.com);
 *   ROLLCALL_DINGTALK_STREAM (1/true: Stream mode).
 * - ROLLCALL_LARK_APP_ID, ROLLCALL_LARK_APP_SECRET: the self-built app (both or neither);
 *   ROLLCALL_LARK_VERIFICATION_TOKEN (+ ROLLCALL_LARK_ENCRYPT_KEY when encryption is on): the HTTP
 *   callback; ROLLCALL_LARK_DOMAIN (default https://open.feishu.cn); ROLLCALL_LARK_LONG_CONNECTION (1/true).
 * - ROLLCALL_EVENTBRIDGE_SECRET.
 *
 * @throws RollcallError `invalid-input` listing every variable to fix.
 */
export function readIngressConfig(env: NodeJS.ProcessEnv = process.env): IngressConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const flag = (name: string): boolean => {
    const value = get(name)?.toLowerCase();
    if (value === undefined || value === '0' || value === 'false') return false;
    if (value === '1' || value === 'true') return true;
    problems.push(`${name} must be 1, true, 0 or false (got ${JSON.stringify(value.slice(0, 20))})`);
    return false;
  };
  const url = (name: string, fallback: string): string => {
    const value = get(name) ?? fallback;
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      problems.push(`${name} must be an http(s) URL like ${fallback} (got ${JSON.stringify(value.slice(0, 80))})`);
      return fallback;
    }
    return value.replace(/\/+$/, '');
  };
  /** Both of a pair or neither: the message names the one missing. */
  const pair = (first: string, second: string, what: string): [string, string] | undefined => {
    const a = get(first);
    const b = get(second);
    if (a !== undefined && b === undefined) problems.push(`${first} is set but ${second} is not: set both (${what}) or neither`);
    if (a === undefined && b !== undefined) problems.push(`${second} is set but ${first} is not: set both (${what}) or neither`);
    return a !== undefined && b !== undefined ? [a, b] : undefined;
  };

  // DingTalk.
  const dingtalkApp = pair('ROLLCALL_DINGTALK_APP_KEY', 'ROLLCALL_DINGTALK_APP_SECRET', "the internal app's Client ID and Client Secret");
  const dingtalkCallback = pair('ROLLCALL_DINGTALK_TOKEN', 'ROLLCALL_DINGTALK_AES_KEY', "the event subscription's token and aes_key");
  if (dingtalkCallback !== undefined && !/^[A-Za-z0-9+/]{43}$/.test(dingtalkCallback[1])) {
    problems.push(`ROLLCALL_DINGTALK_AES_KEY must be the 43 letters and digits shown in the app's event subscription settings (got ${dingtalkCallback[1].length} characters)`);
  }
  const dingtalkStream = flag('ROLLCALL_DINGTALK_STREAM');
  const dingtalkApi = url('ROLLCALL_DINGTALK_API', DEFAULT_DINGTALK_API);
  if (dingtalkApp === undefined && get('ROLLCALL_DINGTALK_APP_KEY') === undefined && get('ROLLCALL_DINGTALK_APP_SECRET') === undefined) {
    // The owner key of the callback is the appKey, and every approval is confirmed with the app.
    if (dingtalkCallback !== undefined) problems.push('ROLLCALL_DINGTALK_TOKEN and ROLLCALL_DINGTALK_AES_KEY are set but ROLLCALL_DINGTALK_APP_KEY and ROLLCALL_DINGTALK_APP_SECRET are not: the callback needs the app');
    if (dingtalkStream) problems.push('ROLLCALL_DINGTALK_STREAM is on but ROLLCALL_DINGTALK_APP_KEY and ROLLCALL_DINGTALK_APP_SECRET are not set: Stream mode connects as the app');
  }

  // Lark.
  const larkApp = pair('ROLLCALL_LARK_APP_ID', 'ROLLCALL_LARK_APP_SECRET', "the self-built app's App ID and App Secret");
  const verificationToken = get('ROLLCALL_LARK_VERIFICATION_TOKEN');
  const encryptKey = get('ROLLCALL_LARK_ENCRYPT_KEY');
  if (encryptKey !== undefined && verificationToken === undefined) {
    problems.push('ROLLCALL_LARK_ENCRYPT_KEY is set but ROLLCALL_LARK_VERIFICATION_TOKEN is not: the callback checks the Verification Token on every request');
  }
  const larkLongConnection = flag('ROLLCALL_LARK_LONG_CONNECTION');
  const larkDomain = url('ROLLCALL_LARK_DOMAIN', DEFAULT_LARK_DOMAIN);
  if (larkApp === undefined && get('ROLLCALL_LARK_APP_ID') === undefined && get('ROLLCALL_LARK_APP_SECRET') === undefined) {
    if (verificationToken !== undefined) problems.push('ROLLCALL_LARK_VERIFICATION_TOKEN is set but ROLLCALL_LARK_APP_ID and ROLLCALL_LARK_APP_SECRET are not: approvals are confirmed with the app');
    if (larkLongConnection) problems.push('ROLLCALL_LARK_LONG_CONNECTION is on but ROLLCALL_LARK_APP_ID and ROLLCALL_LARK_APP_SECRET are not set: the long connection connects as the app');
  }

  if (problems.length > 0) {
    throw new RollcallError('invalid-input', `ingress configuration: ${problems.join('; ')}`);
  }

  const eventBridgeSecret = get('ROLLCALL_EVENTBRIDGE_SECRET');
  return IngressConfig.parse({
    ...(dingtalkApp !== undefined
      ? {
          dingtalk: {
            appKey: dingtalkApp[0],
            appSecret: dingtalkApp[1],
            apiBaseUrl: dingtalkApi,
            stream: dingtalkStream,
            ...(dingtalkCallback !== undefined ? { callback: { token: dingtalkCallback[0], encodingAesKey: dingtalkCallback[1] } } : {}),
          },
        }
      : {}),
    ...(larkApp !== undefined
      ? {
          lark: {
            appId: larkApp[0],
            appSecret: larkApp[1],
            domain: larkDomain,
            longConnection: larkLongConnection,
            ...(verificationToken !== undefined ? { callback: { verificationToken, ...(encryptKey !== undefined ? { encryptKey } : {}) } } : {}),
          },
        }
      : {}),
    ...(eventBridgeSecret !== undefined ? { eventBridgeSecret } : {}),
  });
}
