import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RollcallError } from '../src/config/errors.js';

/** The chat platforms whose approvals reach rollcall through the bus. */
export const STACK_PLATFORMS = ['dingtalk', 'lark'] as const;
export type StackPlatform = (typeof STACK_PLATFORMS)[number];

const REGION = /^[a-z]{2}-[a-z0-9-]+$/;
/** EventBridge bus names: letters, digits, `-` and `_`, 1–127 characters, starting with a letter or digit. */
const BUS_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,126}$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * An http(s) URL: https anywhere, http only on the loopback (the EventBridge emulator of
 * `rollcall dev`), because the secret header travels with every delivery.
 */
const WebUrl = z.string().superRefine((value, context) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    context.addIssue({ code: 'custom', message: `must be a URL like https://rollcall.example.com (got ${JSON.stringify(value.slice(0, 80))})` });
    return;
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return;
  context.addIssue({ code: 'custom', message: `must be https (http only on 127.0.0.1 or localhost), got ${url.protocol}//${url.host}` });
});

/**
 * The stack's configuration: everything that differs between two deployments of rollcall. A
 * schema and its type share the name; `.strict()` so that a misspelt key is an error, not a
 * silently ignored setting.
 */
export const RollcallStackConfig = z.strictObject({
  /** The Alibaba Cloud region the fleet is in (fleet.yaml's `region`). */
  region: z.string().regex(REGION, { error: 'must be a region id like cn-hangzhou' }),
  /** The custom EventBridge bus the approval webhooks post to. Default `rollcall`. */
  busName: z.string().regex(BUS_NAME, { error: 'must be 1–127 letters, digits, - or _, starting with a letter or digit' }).default('rollcall'),
  /** rollcall's public base URL; EventBridge posts to `<ingressUrl>/ingress/eventbridge`. */
  ingressUrl: WebUrl.transform((value) => value.replace(/\/+$/, '')),
  /**
   * The `X-Rollcall-Secret` header EventBridge sends (rollcall's ROLLCALL_EVENTBRIDGE_SECRET).
   * Unset: the synthesized JSON holds a sensitive Terraform variable, `rollcall_eventbridge_secret`,
   * to give at apply time (`TF_VAR_rollcall_eventbridge_secret`), so the secret is in no file.
   */
  ingressSecret: z.string().min(16, { error: 'must be at least 16 characters (it is all that keeps strangers out of the ingress)' }).optional(),
  /** Which platforms' approvals the bus takes (one HTTPS event source each). At least one. */
  platforms: z
    .array(z.enum(STACK_PLATFORMS, { error: 'must be dingtalk or lark' }))
    .min(1, { error: 'name at least one platform: dingtalk, lark' })
    .refine((list) => new Set(list).size === list.length, { error: 'names a platform twice' }),
  /**
   * Group robots that hear directly from EventBridge when an agent run ends (the completion
   * notice), besides rollcall's own messages. Each is optional.
   */
  completionNotice: z
    .strictObject({
      /** A DingTalk custom robot: its webhook URL (with access_token) and, if it signs, its secret (SEC…). */
      dingtalk: z.strictObject({ webhook: WebUrl, secret: z.string().min(1).optional() }).optional(),
      /** A Lark custom bot's webhook; EventBridge cannot sign, so the bot must use a keyword ("rollcall") or an IP list. */
      lark: z.strictObject({ webhook: WebUrl }).optional(),
    })
    .default({}),
  /** Inline mode (`--agent-inline`): the RAM policy also allows RunCommand. Default off. */
  inlineMode: z.boolean().default(false),
  /** An MNS queue's ARN for deliveries to rollcall that failed every retry. Unset: they are dropped. */
  deadLetterQueueArn: z.string().regex(/^acs:mns:[a-z0-9-]+:\d+:\/queues\/[A-Za-z0-9-]+/, { error: 'must be an MNS queue ARN like acs:mns:cn-hangzhou:123456789:/queues/rollcall-dlq' }).optional(),
  /**
   * Tags every managed instance carries: the RAM policy lets rollcall run commands and send
   * files only on instances with all of them (`acs:ResourceTag/<key>`). Unset: any instance of
   * the region.
   */
  instanceTags: z.record(z.string().min(1).max(128), z.string().max(128)).optional(),
  /** Seconds Cloud Assistant lets the registered agent command run. Default 600. */
  commandTimeoutSeconds: z.int({ error: 'must be a whole number of seconds' }).min(10, { error: 'must be at least 10 seconds' }).max(86_400, { error: 'must be at most 86400 seconds (a day)' }).default(600),
});
export type RollcallStackConfig = z.output<typeof RollcallStackConfig>;
/** What a caller writes: defaults may be left out. */
export type RollcallStackConfigInput = z.input<typeof RollcallStackConfig>;

/**
 * Checks a configuration, reporting every problem at once, each with the key to fix.
 *
 * @param where Where the values came from, for the message (a file name, "environment").
 * @throws RollcallError `invalid-input`.
 */
export function parseStackConfig(input: unknown, where: string, names: Readonly<Record<string, string>> = {}): RollcallStackConfig {
  const parsed = RollcallStackConfig.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.');
    const name = names[key] ?? names[String(issue.path[0] ?? '')] ?? key;
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys(RollcallStackConfig.shape).join(', ');
      return `${key ? `${name}: ` : ''}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (the keys are ${key ? 'listed in stack-config.ts' : known})`;
    }
    if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) return `${name}: is required`;
    return `${name || 'the configuration'}: ${issue.message}`;
  });
  throw new RollcallError('invalid-input', `stack configuration (${where}): ${problems.join('; ')}`);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

/** The environment variable of each key, for {@link readStackConfig} and its messages. */
export const STACK_ENV: Readonly<Record<string, string>> = {
  region: 'ROLLCALL_REGION',
  busName: 'ROLLCALL_EVENTBRIDGE_BUS',
  ingressUrl: 'ROLLCALL_PUBLIC_URL',
  ingressSecret: 'ROLLCALL_EVENTBRIDGE_SECRET',
  platforms: 'ROLLCALL_STACK_PLATFORMS',
  'completionNotice.dingtalk.webhook': 'ROLLCALL_NOTICE_DINGTALK_WEBHOOK',
  'completionNotice.dingtalk.secret': 'ROLLCALL_NOTICE_DINGTALK_SECRET',
  'completionNotice.lark.webhook': 'ROLLCALL_NOTICE_LARK_WEBHOOK',
  inlineMode: 'ROLLCALL_STACK_INLINE',
  deadLetterQueueArn: 'ROLLCALL_STACK_DEAD_LETTER_QUEUE',
  instanceTags: 'ROLLCALL_STACK_INSTANCE_TAGS',
  commandTimeoutSeconds: 'ROLLCALL_STACK_COMMAND_TIMEOUT',
};

/**
 * The stack's configuration for the cdktf app, from one of two places:
 *
 * - `ROLLCALL_STACK_CONFIG=<file.json>`: a JSON object with the keys of {@link RollcallStackConfig}
 *   (see `stacks/rollcall-stack.example.json`); nothing else is read.
 * - otherwise the environment: ROLLCALL_REGION (default cn-hangzhou), ROLLCALL_EVENTBRIDGE_BUS,
 *   ROLLCALL_PUBLIC_URL (required), ROLLCALL_EVENTBRIDGE_SECRET, ROLLCALL_STACK_PLATFORMS
 *   (`dingtalk,lark`, default both), ROLLCALL_NOTICE_DINGTALK_WEBHOOK and
 *   ROLLCALL_NOTICE_DINGTALK_SECRET, ROLLCALL_NOTICE_LARK_WEBHOOK, ROLLCALL_STACK_INLINE (1/true),
 *   ROLLCALL_STACK_DEAD_LETTER_QUEUE, ROLLCALL_STACK_INSTANCE_TAGS (`key=value,key=value`),
 *   ROLLCALL_STACK_COMMAND_TIMEOUT (seconds).
 *
 * @returns undefined when neither ROLLCALL_STACK_CONFIG nor ROLLCALL_PUBLIC_URL is set.
 * @throws RollcallError `invalid-input` naming every file key or variable to fix.
 */
export function readStackConfig(env: NodeJS.ProcessEnv = process.env, readFile: (file: string) => string = (file) => readFileSync(file, 'utf8')): RollcallStackConfig | undefined {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const file = get('ROLLCALL_STACK_CONFIG');
  if (file !== undefined) {
    let text: string;
    try {
      text = readFile(file);
    } catch (error) {
      throw new RollcallError('invalid-input', `ROLLCALL_STACK_CONFIG names ${file}, which cannot be read: ${(error as Error).message}`, { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new RollcallError('invalid-input', `${file} is not JSON: ${(error as Error).message}`, { cause: error });
    }
    return parseStackConfig(json, file);
  }
  if (get('ROLLCALL_PUBLIC_URL') === undefined) return undefined;

  const problems: string[] = [];
  const flag = (name: string): boolean | undefined => {
    const value = get(name)?.toLowerCase();
    if (value === undefined) return undefined;
    if (value === '1' || value === 'true') return true;
    if (value === '0' || value === 'false') return false;
    problems.push(`${name} must be 1, true, 0 or false (got ${JSON.stringify(value.slice(0, 20))})`);
    return undefined;
  };
  const list = (name: string): string[] | undefined => get(name)?.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const tags = (name: string): Record<string, string> | undefined => {
    const entries = list(name);
    if (entries === undefined) return undefined;
    const result: Record<string, string> = {};
    for (const entry of entries) {
      const at = entry.indexOf('=');
      if (at <= 0) problems.push(`${name} must be key=value pairs separated by commas (got ${JSON.stringify(entry.slice(0, 40))})`);
      else result[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
    }
    return result;
  };
  const timeout = get('ROLLCALL_STACK_COMMAND_TIMEOUT');
  const dingtalkWebhook = get('ROLLCALL_NOTICE_DINGTALK_WEBHOOK');
  const dingtalkSecret = get('ROLLCALL_NOTICE_DINGTALK_SECRET');
  const larkWebhook = get('ROLLCALL_NOTICE_LARK_WEBHOOK');
  if (dingtalkSecret !== undefined && dingtalkWebhook === undefined) problems.push('ROLLCALL_NOTICE_DINGTALK_SECRET is set but ROLLCALL_NOTICE_DINGTALK_WEBHOOK is not: the secret signs that robot');
  const input = {
    region: get('ROLLCALL_REGION') ?? 'cn-hangzhou',
    ...(get('ROLLCALL_EVENTBRIDGE_BUS') !== undefined ? { busName: get('ROLLCALL_EVENTBRIDGE_BUS') } : {}),
    ingressUrl: get('ROLLCALL_PUBLIC_URL'),
    ...(get('ROLLCALL_EVENTBRIDGE_SECRET') !== undefined ? { ingressSecret: get('ROLLCALL_EVENTBRIDGE_SECRET') } : {}),
    platforms: list('ROLLCALL_STACK_PLATFORMS') ?? [...STACK_PLATFORMS],
    completionNotice: {
      ...(dingtalkWebhook !== undefined ? { dingtalk: { webhook: dingtalkWebhook, ...(dingtalkSecret !== undefined ? { secret: dingtalkSecret } : {}) } } : {}),
      ...(larkWebhook !== undefined ? { lark: { webhook: larkWebhook } } : {}),
    },
    ...(flag('ROLLCALL_STACK_INLINE') !== undefined ? { inlineMode: flag('ROLLCALL_STACK_INLINE') } : {}),
    ...(get('ROLLCALL_STACK_DEAD_LETTER_QUEUE') !== undefined ? { deadLetterQueueArn: get('ROLLCALL_STACK_DEAD_LETTER_QUEUE') } : {}),
    ...(tags('ROLLCALL_STACK_INSTANCE_TAGS') !== undefined ? { instanceTags: tags('ROLLCALL_STACK_INSTANCE_TAGS') } : {}),
    ...(timeout !== undefined ? { commandTimeoutSeconds: /^\d+$/.test(timeout) ? Number(timeout) : timeout } : {}),
  };
  let config: RollcallStackConfig | undefined;
  try {
    config = parseStackConfig(input, 'environment', STACK_ENV);
  } catch (error) {
    if (!(error instanceof RollcallError)) throw error;
    problems.push(error.message.replace(/^stack configuration \(environment\): /, ''));
  }
  if (problems.length > 0 || config === undefined) throw new RollcallError('invalid-input', `stack configuration (environment): ${problems.join('; ')}`);
  return config;
}
