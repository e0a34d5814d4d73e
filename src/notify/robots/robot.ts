import { RollcallError } from '../../config/errors.js';

/*
 * The port every chat robot adapter implements (DingTalk custom robot, Lark custom bot), and the
 * reply each one reduces its platform's answer to. Callers branch on `retry`, never on text.
 */

/** Codes rollcall gives a failure that has no platform code: the request never got a platform answer. */
export type RobotLocalCode =
  | 'network' // no HTTP reply at all (refused, reset, timed out)
  | 'http-status' // an HTTP error without a platform body (a proxy's 502, a 404 from the wrong server)
  | 'bad-reply' // HTTP 200 but not the robot API's JSON: the URL points at something else
  | 'body-too-large'; // refused before sending: the platform would refuse it anyway

/** The platform's own code (DingTalk `errcode`, Lark `code`), or one of {@link RobotLocalCode}. */
export type RobotReplyCode = number | RobotLocalCode;

/** The platform took the message. */
export interface RobotDelivered {
  ok: true;
}

/** Not delivered, and trying the same message again after `afterMs` can succeed (throttling, a 5xx, the network). */
export interface RobotRetryAfter {
  ok: false;
  retry: 'after';
  afterMs: number;
  /**
   * `throttled`: the platform's rate limit (or a `Retry-After`), `afterMs` is the period it imposes (wait exactly that);
   * `transient`: a network failure, a 5xx, "busy" (back off further while it goes on).
   */
  reason: 'throttled' | 'transient';
  code: RobotReplyCode;
  /** What happened, webhook secrets redacted. */
  message: string;
}

/** Not delivered, and sending again cannot help until someone changes the robot's settings or the message. */
export interface RobotRefused {
  ok: false;
  retry: 'never';
  code: RobotReplyCode;
  /** What happened, webhook secrets redacted. */
  message: string;
  /** What to change, in words for whoever configures the robot. */
  fix: string;
}

/** What a robot made of one send. */
export type RobotReply = RobotDelivered | RobotRetryAfter | RobotRefused;

/** A chat robot: posts one message body (the platform's own JSON, e.g. `{msgtype, markdown}`) to its group. */
export interface Robot {
  /** The webhook URL with its secrets replaced by `***`: safe for logs, status and errors. */
  readonly target: string;
  /** Posts `body`; never throws for anything the network or the platform does, and never waits out a throttle itself. */
  send(body: object): Promise<RobotReply>;
}

/** What both adapters accept. */
export interface RobotOptions {
  /** The webhook, secrets and all (`…/robot/send?access_token=…`, `…/bot/v2/hook/<token>`). */
  webhookUrl: string;
  /** The signing secret (`SEC…` for DingTalk) when the robot's security setting is "signature". */
  secret?: string;
  fetch?: typeof globalThis.fetch;
  /** Epoch ms: the signature's timestamp and Lark's minute window come from it. */
  now?: () => number;
  /** How long one request may take before it counts as a network failure. Default 10 s. */
  timeoutMs?: number;
}

/** The first wait after a network failure or a 5xx; the sender doubles it while failures go on. */
export const TRANSIENT_RETRY_MS = 1_000;

const DEFAULT_TIMEOUT_MS = 10_000;

/** An HTTP answer as the adapters judge it. */
export interface RawRobotAnswer {
  status: number;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: unknown;
  /** `Retry-After` in ms, when the server sent one. */
  retryAfterMs: number | undefined;
}

/**
 * POSTs JSON to `url` and reads the answer, or returns the failure as a reply: a network error or
 * timeout → retry after {@link TRANSIENT_RETRY_MS}. `scrub` takes the webhook's secrets out of any
 * text that goes into the reply (undici puts the URL in some of its messages).
 */
export async function postJson(
  url: string,
  payload: string,
  options: Pick<RobotOptions, 'fetch' | 'timeoutMs'>,
  scrub: (text: string) => string,
): Promise<RawRobotAnswer | RobotRetryAfter> {
  const fetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: payload,
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    text = await response.text();
  } catch (error) {
    const reason = error instanceof Error ? `${error.message}${causeText(error.cause)}` : String(error);
    return { ok: false, retry: 'after', afterMs: TRANSIENT_RETRY_MS, reason: 'transient', code: 'network', message: scrub(`no answer from the robot: ${reason}`) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  return { status: response.status, json, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return ` (${cause.message})`;
  return '';
}

/** `Retry-After` as seconds (the HTTP-date form is not worth parsing for a robot). */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1_000;
}

/**
 * The answer when the HTTP reply carried no platform code: 5xx and 429 are worth another try
 * (after `Retry-After` when given), anything else means the URL is not a robot of this platform.
 */
export function classifyWithoutCode(answer: RawRobotAnswer, platform: string, target: string, scrub: (text: string) => string): RobotRetryAfter | RobotRefused {
  if (answer.status >= 500 || answer.status === 429) {
    return {
      ok: false,
      retry: 'after',
      afterMs: answer.retryAfterMs ?? TRANSIENT_RETRY_MS,
      // A period the server named is waited out as named; without one, back off.
      reason: answer.retryAfterMs !== undefined ? 'throttled' : 'transient',
      code: 'http-status',
      message: scrub(`the ${platform} robot at ${target} answered HTTP ${answer.status}`),
    };
  }
  const what = answer.status >= 400 ? `HTTP ${answer.status}` : `HTTP ${answer.status} without the robot API's JSON reply`;
  return {
    ok: false,
    retry: 'never',
    code: answer.status >= 400 ? 'http-status' : 'bad-reply',
    message: scrub(`the ${platform} robot at ${target} answered ${what}`),
    fix: `check that the webhook URL is the ${platform} robot's own (copied whole from the group's robot settings)`,
  };
}

/** The webhook parsed, or a configuration error that says what to fix (without the URL's secrets). */
export function parseWebhookUrl(webhookUrl: string, platform: string, example: string, redacted: string): URL {
  let url: URL;
  try {
    url = new URL(webhookUrl);
  } catch {
    // No `cause`: Node's "Invalid URL" error carries the input, secrets and all, in `input`.
    throw new RollcallError('invalid-input', `the ${platform} robot's webhook is not a URL (${redacted}): set it to the robot's webhook, e.g. ${example}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RollcallError('invalid-input', `the ${platform} robot's webhook ${redacted} is not http(s): set it to the robot's webhook, e.g. ${example}`);
  }
  return url;
}
