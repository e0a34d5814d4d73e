import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { z } from 'zod';
import { RollcallError } from '../../config/errors.js';
import { dingtalkSign, larkSign } from '../../notify/robots/sign.js';
import { DINGTALK_ROBOT_LIMITS, DingtalkRobotLimit, LARK_BOT_LIMITS, LarkBotLimit } from './robot-limits.js';

/**
 * DingTalk custom robots and Lark custom bots, as the platforms answer them: the signature and its
 * timestamp window, keywords, the message types and their required fields, the send limits with
 * their error codes and bodies. Every accepted message is kept, in order, per group, for the group
 * page (group-page.ts) and for tests. Not a server: `handle` answers one request that the chat
 * emulator's server has read whole. See README.md, "Robots and the group page".
 */

export type RobotPlatform = 'dingtalk' | 'lark';

/** A DingTalk custom robot: `POST /robot/send?access_token=<accessToken>`. */
export interface DingtalkRobotConfig {
  accessToken: string;
  /** The robot's "加签" secret (`SEC…`): when set, `timestamp` and `sign` are required. */
  secret?: string;
  /** When set, a message must contain one of them. */
  keywords?: string[];
  /** The group the robot posts to. */
  group: string;
  /** Shown on the group page. Default "DingTalk robot". */
  name?: string;
}

/** A Lark custom bot: `POST /open-apis/bot/v2/hook/<hookToken>`. */
export interface LarkBotConfig {
  hookToken: string;
  /** The bot's signature secret: when set, the body's `timestamp` and `sign` are required. */
  secret?: string;
  keywords?: string[];
  group: string;
  /** Shown on the group page. Default "Lark bot". */
  name?: string;
}

export interface RobotWebhooksOptions {
  robots: { dingtalk: DingtalkRobotConfig[]; lark: LarkBotConfig[] };
  /** Epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** A request the chat emulator's server read whole. */
export interface RobotRequest {
  method: string;
  /** Path and query, as `IncomingMessage.url`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An HTTP answer, JSON body (the shape of the open-API emulator's `Answer`). */
export interface RobotAnswer {
  status: number;
  body: object;
  headers?: Record<string, string>;
}

/** A message a robot accepted. */
export interface AcceptedMessage {
  /** 1, 2, … across every group: the order messages were accepted in. */
  seq: number;
  group: string;
  platform: RobotPlatform;
  /** The robot's `name`. */
  robot: string;
  /** Epoch ms, when it was accepted. */
  at: number;
  /** DingTalk `msgtype`, Lark `msg_type`. */
  type: string;
  /** The body as sent (Lark: without `timestamp` and `sign`). */
  body: Record<string, unknown>;
}

export type MessageListener = (message: AcceptedMessage) => void;

export interface RobotWebhooks {
  /** The answer to a robot request; `undefined` when the path is not a robot's (someone else's request). */
  handle(request: RobotRequest): RobotAnswer | undefined;
  /** Accepted messages in order: all of them, or one group's. */
  messages(group?: string): AcceptedMessage[];
  /** Called with each message as it is accepted; returns the unsubscribe. */
  onMessage(listener: MessageListener): () => void;
  /** The groups of the configured robots, in the order configured. */
  groups(): string[];
}

/** The robots' paths: DingTalk's exact, Lark's a prefix followed by the hook token. */
export const ROBOT_PATHS = { dingtalk: '/robot/send', larkPrefix: '/open-apis/bot/v2/hook/' } as const;

/** Whether a request URL (path and query) is a robot's: route it here before anything reads its body. */
export function isRobotPath(url: string): boolean {
  const { pathname } = new URL(url, 'http://127.0.0.1');
  return pathname === ROBOT_PATHS.dingtalk || pathname.startsWith(ROBOT_PATHS.larkPrefix);
}

/** Reads a request whole, raw bytes kept (the size limits count bytes, and a body need not be JSON). */
export async function readRobotRequest(request: IncomingMessage): Promise<RobotRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return { method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks) };
}

/**
 * DingTalk's sign before URL encoding (the query carries it URL-encoded): the same algorithm as
 * rollcall's robot client (`notify/robots/sign.ts`), which the reference's vector pins.
 */
export function dingtalkRobotSign(timestampMs: string, secret: string): string {
  return decodeURIComponent(dingtalkSign(Number(timestampMs), secret));
}

/** Lark's sign (`notify/robots/sign.ts`), for a timestamp as the body carries it. */
export function larkBotSign(timestampSeconds: string, secret: string): string {
  return larkSign(Number(timestampSeconds), secret);
}

// DingTalk's replies. 130101 and 310000 are the reference's; their errmsg texts are the ones the
// platform sends (the reference's words: "send too fast", "sign not match", "invalid timestamp",
// "keywords not in content"). 300001, 40035, 43002 and 460101 are emulator choices (see README).
const DINGTALK_MORE = 'more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]';
const dingtalkReply = (errcode: number, errmsg: string): RobotAnswer => ({ status: 200, body: { errcode, errmsg } });
const DINGTALK = {
  ok: () => dingtalkReply(0, 'ok'),
  tokenUnknown: () => dingtalkReply(300001, 'token is not exist'),
  notPost: () => dingtalkReply(43002, '需要POST请求'),
  signNotMatch: () => dingtalkReply(310000, `sign not match, ${DINGTALK_MORE}`),
  invalidTimestamp: () => dingtalkReply(310000, `invalid timestamp, ${DINGTALK_MORE}`),
  keywords: () => dingtalkReply(310000, `keywords not in content, ${DINGTALK_MORE}`),
  tooFast: () => dingtalkReply(130101, `send too fast, exceed 20 times per minute, ${DINGTALK_MORE}`),
  missing: (what: string) => dingtalkReply(40035, `缺少参数 ${what}`),
  tooLong: () => dingtalkReply(460101, `message too long, exceed ${DINGTALK_ROBOT_LIMITS.maxBodyBytes} bytes`),
};

// Lark's replies, all HTTP 200 with `{code, msg, data}`; success also carries the older
// `StatusCode` / `StatusMessage` pair the platform still sends. 19001 is an emulator choice.
const larkReply = (code: number, msg: string): RobotAnswer => ({ status: 200, body: { code, msg, data: {} } });
const LARK = {
  ok: (): RobotAnswer => ({ status: 200, body: { StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' } }),
  tokenUnknown: () => larkReply(19001, 'param invalid: incoming webhook access token invalid'),
  signFail: () => larkReply(19021, 'sign match fail or timestamp is not within one hour from current time'),
  keywords: () => larkReply(19024, 'Key Words Not Found'),
  badRequest: () => larkReply(9499, 'Bad Request'),
  frequency: () => larkReply(11232, 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]'),
};

// DingTalk message types and the fields each needs (vendor payloads: unknown fields pass).
const text = z.string().min(1);
const DingtalkBodies = {
  text: z.looseObject({ text: z.looseObject({ content: text }) }),
  markdown: z.looseObject({ markdown: z.looseObject({ title: text, text }) }),
  link: z.looseObject({ link: z.looseObject({ title: text, text, messageUrl: text, picUrl: z.string().optional() }) }),
  actionCard: z.looseObject({
    actionCard: z.union([
      z.looseObject({ title: text, text, singleTitle: text, singleURL: text }),
      z.looseObject({ title: text, text, btns: z.array(z.looseObject({ title: text, actionURL: text })).min(1) }),
    ]),
  }),
  feedCard: z.looseObject({ feedCard: z.looseObject({ links: z.array(z.looseObject({ title: text, messageURL: text, picURL: z.string().optional() })).min(1) }) }),
} as const;

const LarkPostLocale = z.looseObject({ title: z.string().optional(), content: z.array(z.array(z.looseObject({ tag: text }))) });
const LarkBodies = {
  text: z.looseObject({ content: z.looseObject({ text }) }),
  post: z.looseObject({ content: z.looseObject({ post: z.record(z.string(), LarkPostLocale).refine((locales) => Object.keys(locales).length > 0) }) }),
  image: z.looseObject({ content: z.looseObject({ image_key: text }) }),
  share_chat: z.looseObject({ content: z.looseObject({ share_chat_id: text }) }),
  interactive: z.looseObject({ card: z.looseObject({}) }),
} as const;

const LarkEnvelope = z.looseObject({
  msg_type: z.string(),
  timestamp: z.union([z.string(), z.number()]).optional(),
  sign: z.string().optional(),
});

interface Robot<Config> {
  config: Config;
  name: string;
}

/** The robots' endpoints over the robots given; see the module comment. */
export function createRobotWebhooks(options: RobotWebhooksOptions): RobotWebhooks {
  const now = options.now ?? Date.now;
  const dingtalk = byToken(options.robots.dingtalk, (robot) => robot.accessToken, 'DingTalk robots', 'accessToken', 'DingTalk robot');
  const lark = byToken(options.robots.lark, (robot) => robot.hookToken, 'Lark bots', 'hookToken', 'Lark bot');
  const dingtalkLimits = new Map<string, DingtalkRobotLimit>();
  const larkLimits = new Map<string, LarkBotLimit>();
  const kept: AcceptedMessage[] = [];
  const listeners = new Set<MessageListener>();

  function keep(platform: RobotPlatform, robot: Robot<{ group: string }>, at: number, type: string, body: Record<string, unknown>): void {
    const message: AcceptedMessage = { seq: kept.length + 1, group: robot.config.group, platform, robot: robot.name, at, type, body };
    kept.push(message);
    for (const listener of listeners) {
      try {
        listener(message);
      } catch {
        // A listener's failure (a page whose socket broke) is not the robot's: the send stays accepted.
      }
    }
  }

  function handleDingtalk(request: RobotRequest, url: URL): RobotAnswer {
    const robot = dingtalk.get(url.searchParams.get('access_token') ?? '');
    if (robot === undefined) return DINGTALK.tokenUnknown();
    if (request.method !== 'POST') return DINGTALK.notPost();
    const at = now();
    const { secret } = robot.config;
    if (secret !== undefined) {
      const timestamp = url.searchParams.get('timestamp') ?? '';
      if (!/^\d+$/.test(timestamp) || Math.abs(at - Number(timestamp)) > DINGTALK_ROBOT_LIMITS.timestampWindowMs) return DINGTALK.invalidTimestamp();
      if (url.searchParams.get('sign') !== dingtalkRobotSign(timestamp, secret)) return DINGTALK.signNotMatch();
    }
    const limit = getOrAdd(dingtalkLimits, robot.config.accessToken, () => new DingtalkRobotLimit());
    if (limit.refuses(at)) return DINGTALK.tooFast();
    if (request.body.length > DINGTALK_ROBOT_LIMITS.maxBodyBytes) return DINGTALK.tooLong();
    const body = parseJsonObject(request.body);
    if (body === undefined) return DINGTALK.missing('json');
    const type = body['msgtype'];
    if (typeof type !== 'string' || !Object.hasOwn(DingtalkBodies, type)) return DINGTALK.missing(type === undefined ? 'msgtype' : 'json');
    const parsed = DingtalkBodies[type as keyof typeof DingtalkBodies].safeParse(body);
    if (!parsed.success) return DINGTALK.missing(firstPath(parsed.error, type));
    if (!hasKeyword(robot.config.keywords, body[type])) return DINGTALK.keywords();
    limit.accepted(at);
    keep('dingtalk', robot, at, type, body);
    return DINGTALK.ok();
  }

  function handleLark(request: RobotRequest, token: string): RobotAnswer {
    const robot = lark.get(token);
    if (robot === undefined) return LARK.tokenUnknown();
    if (request.method !== 'POST') return LARK.badRequest();
    if (request.body.length > LARK_BOT_LIMITS.maxBodyBytes) return LARK.badRequest();
    const raw = parseJsonObject(request.body);
    const envelope = LarkEnvelope.safeParse(raw);
    if (raw === undefined || !envelope.success) return LARK.badRequest();
    const at = now();
    const { secret } = robot.config;
    if (secret !== undefined) {
      const timestamp = String(envelope.data.timestamp ?? '');
      const fresh = /^\d+$/.test(timestamp) && Math.abs(at / 1000 - Number(timestamp)) <= LARK_BOT_LIMITS.timestampWindowSeconds;
      if (!fresh || envelope.data.sign !== larkBotSign(timestamp, secret)) return LARK.signFail();
    }
    const limit = getOrAdd(larkLimits, robot.config.hookToken, () => new LarkBotLimit());
    if (limit.refuses(at)) return LARK.frequency();
    const { timestamp: _timestamp, sign: _sign, ...body } = raw;
    const type = envelope.data.msg_type;
    if (!Object.hasOwn(LarkBodies, type)) return LARK.badRequest();
    // A card may come as a JSON string (older clients); it is kept as the object it encodes.
    if (type === 'interactive' && typeof body['card'] === 'string') body['card'] = parseJsonObject(Buffer.from(body['card']));
    if (!LarkBodies[type as keyof typeof LarkBodies].safeParse(body).success) return LARK.badRequest();
    if (!hasKeyword(robot.config.keywords, type === 'interactive' ? body['card'] : body['content'])) return LARK.keywords();
    limit.accepted(at);
    keep('lark', robot, at, type, body);
    return LARK.ok();
  }

  return {
    handle(request) {
      const url = new URL(request.url, 'http://127.0.0.1');
      if (url.pathname === ROBOT_PATHS.dingtalk) return handleDingtalk(request, url);
      if (url.pathname.startsWith(ROBOT_PATHS.larkPrefix)) return handleLark(request, decodedSegment(url.pathname.slice(ROBOT_PATHS.larkPrefix.length)));
      return undefined;
    },
    messages(group) {
      return group === undefined ? [...kept] : kept.filter((message) => message.group === group);
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    groups() {
      return [...new Set([...options.robots.dingtalk, ...options.robots.lark].map((robot) => robot.group))];
    },
  };
}

/** The robots by token; two robots with one token are a configuration mistake. */
function byToken<Config extends { group: string; name?: string }>(robots: Config[], tokenOf: (robot: Config) => string, what: string, field: string, defaultName: string): Map<string, Robot<Config>> {
  const found = new Map<string, Robot<Config>>();
  for (const [index, config] of robots.entries()) {
    const token = tokenOf(config);
    if (token === '') throw new RollcallError('invalid-input', `${what}[${index}] has an empty ${field}: give each robot its own token`);
    if (found.has(token)) throw new RollcallError('invalid-input', `${what}[${index}] repeats the ${field} of an earlier robot: give each robot its own token`);
    if (config.group === '') throw new RollcallError('invalid-input', `${what}[${index}] has no group: name the group it posts to`);
    found.set(token, { config, name: config.name ?? defaultName });
  }
  return found;
}

/** The hook token as configured (a URL-encoded one decoded); a malformed escape matches no robot. */
function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `text.content` and the like: the field DingTalk's errmsg names. */
function firstPath(error: z.ZodError, type: string): string {
  const path = error.issues[0]?.path ?? [];
  return path.length > 0 ? path.map(String).join('.') : type;
}

/** Whether any keyword occurs in the message's text (every string in it: titles, texts, buttons). */
function hasKeyword(keywords: string[] | undefined, content: unknown): boolean {
  if (keywords === undefined || keywords.length === 0) return true;
  const texts: string[] = [];
  collectStrings(content, texts);
  const all = texts.join('\n');
  return keywords.some((keyword) => all.includes(keyword));
}

function collectStrings(value: unknown, into: string[]): void {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) collectStrings(item, into);
}
