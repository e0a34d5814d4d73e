import { z } from 'zod';
import { redactWebhook, secretScrubber } from './redact-webhook.js';
import { classifyWithoutCode, parseWebhookUrl, postJson, type Robot, type RobotOptions, type RobotReply } from './robot.js';
import { larkSign } from './sign.js';

/**
 * The largest request body Lark takes from a custom bot is 20 KB. Counted as 20,000 bytes of the
 * whole JSON (signature included): refusing a message a few hundred bytes early costs nothing,
 * sending one Lark refuses costs a token.
 */
export const LARK_MAX_BODY_BYTES = 20_000;

/** Lark's codes rollcall acts on. */
export const LARK_CODE = {
  ok: 0,
  /** "bad request"; with a frequency message it is Lark's rate limit. */
  badRequest: 9499,
  /** "frequency limited". */
  frequency: 11232,
  /** Incoming webhook access token invalid. */
  badToken: 19001,
  /** Sign match fail, or the timestamp is more than an hour off. */
  badSign: 19021,
  /** IP not allowed. */
  ipNotAllowed: 19022,
  /** Keywords not found. */
  keyword: 19024,
} as const;

const WHOLE = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);

/** Current replies `{code, msg, data}`; older ones `{StatusCode, StatusMessage}`. */
const LarkAnswer = z.union([
  z.looseObject({ code: WHOLE, msg: z.string().optional() }).transform((reply) => ({ code: reply.code, msg: reply.msg ?? '' })),
  z.looseObject({ StatusCode: WHOLE, StatusMessage: z.string().optional() }).transform((reply) => ({ code: reply.StatusCode, msg: reply.StatusMessage ?? '' })),
]);

const EXAMPLE = 'https://open.feishu.cn/open-apis/bot/v2/hook/<token>';

/**
 * A Lark (Feishu) custom bot. With a secret, each body carries `timestamp` (epoch **seconds**, as
 * a string) and `sign`. Replies: `code` (or `StatusCode`) 0 → delivered; 11232, or 9499 with a
 * frequency message → retry when Lark's minute window turns (at least 1 s); 19021 (sign or
 * clock), 19022 (IP), 19024 (keyword), 19001 (token) → never, with what to change; 5xx, 429 and
 * network failures → retry after a backoff; any other code → never, with Lark's `msg`. A body
 * over {@link LARK_MAX_BODY_BYTES} is refused without sending.
 */
export class LarkBot implements Robot {
  readonly target: string;
  readonly #url: string;
  readonly #options: RobotOptions;
  readonly #scrub: (text: string, extra?: readonly string[]) => string;

  constructor(options: RobotOptions) {
    this.target = redactWebhook(options.webhookUrl);
    this.#url = parseWebhookUrl(options.webhookUrl, 'Lark', EXAMPLE, this.target).toString();
    this.#options = options;
    this.#scrub = secretScrubber(options.webhookUrl, options.secret);
  }

  /** The body one request sends: the message with a fresh `timestamp` and `sign` when a secret is set. */
  signedBody(body: object, nowMs: number): Record<string, unknown> {
    if (this.#options.secret === undefined) return { ...body };
    const timestamp = Math.floor(nowMs / 1_000);
    return { ...body, timestamp: String(timestamp), sign: larkSign(timestamp, this.#options.secret) };
  }

  async send(body: object): Promise<RobotReply> {
    const now = (this.#options.now ?? Date.now)();
    const signed = this.signedBody(body, now);
    const sign = typeof signed.sign === 'string' ? [signed.sign] : [];
    const scrub = (text: string) => this.#scrub(text, sign);
    const payload = JSON.stringify(signed);
    const bytes = Buffer.byteLength(payload, 'utf8');
    if (bytes > LARK_MAX_BODY_BYTES) {
      return {
        ok: false,
        retry: 'never',
        code: 'body-too-large',
        message: `a message of ${bytes} bytes for the Lark bot at ${this.target} is over Lark's limit of ${LARK_MAX_BODY_BYTES}; not sent`,
        fix: 'shorten the message: fewer lines per message (a digest with a link) or a smaller card',
      };
    }

    const answer = await postJson(this.#url, payload, this.#options, scrub);
    if ('ok' in answer) return answer;
    const parsed = LarkAnswer.safeParse(answer.json);
    if (!parsed.success) return classifyWithoutCode(answer, 'Lark', this.target, scrub);
    const { code } = parsed.data;
    const msg = scrub(parsed.data.msg);
    const said = `Lark answered code ${code}${msg ? ` (${msg})` : ''} for the bot at ${this.target}`;

    if (code === LARK_CODE.ok) return { ok: true };
    if (code === LARK_CODE.frequency || (code === LARK_CODE.badRequest && /frequen|too many|rate limit/i.test(msg))) {
      // Lark counts per minute (and per second): the rest of this minute is always enough.
      const afterMs = Math.max(1_000, 60_000 - (now % 60_000));
      return { ok: false, retry: 'after', afterMs, reason: 'throttled', code, message: `${said}: rate limited until the minute turns` };
    }
    const fix = LARK_FIX[code] ?? (code === LARK_CODE.badRequest
      ? 'Lark could not read the message: check its msg_type and content (a renderer bug if rollcall built it)'
      : 'see Lark\'s custom bot error codes for this code; sending again will not help until it is fixed');
    return { ok: false, retry: 'never', code, message: said, fix };
  }
}

const LARK_FIX: Record<number, string> = {
  [LARK_CODE.badToken]: 'the hook token is unknown to Lark: copy the webhook again from the group\'s bot settings (the bot may have been removed)',
  [LARK_CODE.badSign]: 'the signature does not match or the timestamp is more than an hour off: set the secret to the bot\'s own (security settings → signature) and check this host\'s clock (NTP)',
  [LARK_CODE.ipNotAllowed]: 'this host\'s public IP is not in the bot\'s IP allowlist: add it, or secure the bot with a signature instead',
  [LARK_CODE.keyword]: 'the message lacks the bot\'s custom keyword: add a keyword rollcall\'s messages contain (e.g. "rollcall") to the bot, or secure it with a signature instead',
};
