import { z } from 'zod';
import { secretScrubber, redactWebhook } from './redact-webhook.js';
import { classifyWithoutCode, parseWebhookUrl, postJson, TRANSIENT_RETRY_MS, type Robot, type RobotOptions, type RobotReply } from './robot.js';
import { dingtalkSign } from './sign.js';

/** DingTalk throttles a robot for 10 minutes once it goes over 20 messages in a minute. */
export const DINGTALK_THROTTLE_MS = 10 * 60_000;

/** DingTalk's codes rollcall acts on. */
export const DINGTALK_ERRCODE = {
  ok: 0,
  /** "send too fast": the robot is throttled for 10 minutes. */
  tooFast: 130101,
  /** sign not match / invalid timestamp / keywords not in content / ip not in whitelist. */
  security: 310000,
  /** "token is not exist": the access_token is wrong or the robot was removed. */
  noToken: 300001,
  /** "system busy". */
  busy: -1,
} as const;

/** Errors arrive as HTTP 200 with `errcode`; a server may send it as a numeric string. */
const DingtalkAnswer = z.looseObject({
  errcode: z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]),
  errmsg: z.string().optional(),
});

const EXAMPLE = 'https://oapi.dingtalk.com/robot/send?access_token=…';

/**
 * A DingTalk custom robot. With a secret, each request carries `timestamp` (epoch ms) and `sign`
 * in the query. Replies: `errcode` 0 → delivered; 130101 → retry after 10 minutes (the throttle
 * DingTalk imposes); 310000 → never, with which security setting failed (sign, timestamp,
 * keyword, IP) and what to change; -1 (busy), 5xx, 429 and network failures → retry after a
 * backoff; any other code → never, with DingTalk's `errmsg`.
 */
export class DingtalkRobot implements Robot {
  readonly target: string;
  readonly #url: URL;
  readonly #options: RobotOptions;
  readonly #scrub: (text: string, extra?: readonly string[]) => string;

  constructor(options: RobotOptions) {
    this.target = redactWebhook(options.webhookUrl);
    this.#url = parseWebhookUrl(options.webhookUrl, 'DingTalk', EXAMPLE, this.target);
    this.#options = options;
    this.#scrub = secretScrubber(options.webhookUrl, options.secret);
  }

  /** The URL one request goes to: the webhook with a fresh `timestamp` and `sign` when a secret is set. */
  signedUrl(timestampMs: number): { url: string; sign: string | undefined } {
    if (this.#options.secret === undefined) return { url: this.#url.toString(), sign: undefined };
    const url = new URL(this.#url);
    url.searchParams.delete('timestamp');
    url.searchParams.delete('sign');
    const sign = dingtalkSign(timestampMs, this.#options.secret);
    // Appended by hand: `sign` is already percent-encoded and URLSearchParams would encode it again.
    const rest = url.searchParams.toString();
    url.search = `${rest ? `${rest}&` : ''}timestamp=${timestampMs}&sign=${sign}`;
    return { url: url.toString(), sign };
  }

  async send(body: object): Promise<RobotReply> {
    const now = (this.#options.now ?? Date.now)();
    const { url, sign } = this.signedUrl(now);
    const scrub = (text: string) => this.#scrub(text, sign === undefined ? [] : [sign]);
    const answer = await postJson(url, JSON.stringify(body), this.#options, scrub);
    if ('ok' in answer) return answer;

    const parsed = DingtalkAnswer.safeParse(answer.json);
    if (!parsed.success) return classifyWithoutCode(answer, 'DingTalk', this.target, scrub);
    const { errcode } = parsed.data;
    const errmsg = scrub(parsed.data.errmsg ?? '');
    const said = `DingTalk answered errcode ${errcode}${errmsg ? ` (${errmsg})` : ''} for the robot at ${this.target}`;

    switch (errcode) {
      case DINGTALK_ERRCODE.ok:
        return { ok: true };
      case DINGTALK_ERRCODE.tooFast:
        return { ok: false, retry: 'after', afterMs: DINGTALK_THROTTLE_MS, reason: 'throttled', code: errcode, message: `${said}: throttled for 10 minutes` };
      case DINGTALK_ERRCODE.busy:
        return { ok: false, retry: 'after', afterMs: TRANSIENT_RETRY_MS, reason: 'transient', code: errcode, message: said };
      case DINGTALK_ERRCODE.security:
        return { ok: false, retry: 'never', code: errcode, message: said, fix: securityFix(errmsg, this.#options.secret !== undefined) };
      case DINGTALK_ERRCODE.noToken:
        return { ok: false, retry: 'never', code: errcode, message: said, fix: 'the access_token is unknown to DingTalk: copy the webhook again from the group\'s robot settings (the robot may have been removed)' };
      default:
        return { ok: false, retry: 'never', code: errcode, message: said, fix: 'see DingTalk\'s custom robot error codes for this errcode; sending again will not help until it is fixed' };
    }
  }
}

/** Which of the robot's security settings refused the message (310000), and what to change. */
function securityFix(errmsg: string, signing: boolean): string {
  if (/sign/i.test(errmsg)) {
    return signing
      ? 'the signature does not match: set the secret to the robot\'s own (the SEC… value under the robot\'s security settings → signature)'
      : 'the robot requires a signature: set its secret (the SEC… value under the robot\'s security settings → signature)';
  }
  if (/timestamp/i.test(errmsg)) return 'the timestamp is more than an hour from DingTalk\'s clock: synchronise this host\'s clock (NTP)';
  if (/keyword/i.test(errmsg)) return 'the message lacks the robot\'s custom keyword: add a keyword rollcall\'s messages contain (e.g. "rollcall") to the robot, or secure it with a signature instead';
  if (/\bip\b|whitelist/i.test(errmsg)) return 'this host\'s public IP is not in the robot\'s IP list: add it, or secure the robot with a signature instead';
  return 'one of the robot\'s security settings refused the message: check its secret (signature), this host\'s clock, its keywords and its IP list';
}
