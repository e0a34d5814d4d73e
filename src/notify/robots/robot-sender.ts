import type { Logger } from '../../config/logger.js';
import type { Platform } from '../../desired/schema.js';
import { DingtalkRobot } from './dingtalk-robot.js';
import { LarkBot } from './lark-bot.js';
import type { Robot, RobotOptions, RobotRefused, RobotReplyCode, RobotRetryAfter } from './robot.js';
import { DINGTALK_BUCKETS, LARK_BUCKETS, RateLimit, type BucketConfig } from './token-bucket.js';

/** What one {@link RobotSender.trySend} did. */
export type SendOutcome =
  /** The platform took the message. */
  | 'sent'
  /**
   * Not sent; try again in `wait` ms. `reply` is there when the platform (or the network) said
   * so; without it the robot's own rate limit or a pause held the message back and nothing was sent.
   */
  | { wait: number; reply?: RobotRetryAfter }
  /** Not sent, and sending again cannot help until someone acts on `failed.fix`. */
  | { failed: RobotRefused };

/** The last failed send, for status. Secrets already redacted. */
export interface RobotFailure {
  at: number;
  code: RobotReplyCode;
  message: string;
  fix?: string;
}

export interface RobotSenderOptions {
  robot: Robot;
  /** The robot's rate limit; default by platform in {@link createRobotSender}. */
  buckets: readonly BucketConfig[];
  log?: Logger;
  /** The longest wait after repeated network failures or 5xx. Default 5 minutes. */
  maxBackoffMs?: number;
  /**
   * When this robot was sent to before (epoch ms), by an earlier process: taken from the buckets
   * as they happened, so that a restart does not grant a burst the platform's window still counts
   * (DingTalk silences a robot for 10 minutes after its 21st message in a minute).
   */
  sentBefore?: readonly number[];
  /** Told of every request made (a token taken), to be remembered across restarts. */
  onSend?: (at: number) => void;
}

const DEFAULT_MAX_BACKOFF_MS = 5 * 60_000;

/**
 * One robot's sending: its rate limit, its pause and its adapter. `trySend` never sends faster than
 * the buckets allow and never while the robot is paused; a throttle reply pauses the robot for the
 * period the platform imposes, network failures and 5xx pause it for a backoff that doubles while
 * they go on. The caller (the outbox) keeps the message and tries again after `wait`.
 */
export class RobotSender {
  readonly robot: Robot;
  readonly #limit: RateLimit;
  readonly #log: Logger | undefined;
  readonly #maxBackoffMs: number;
  readonly #onSend: ((at: number) => void) | undefined;
  #transientFailures = 0;
  #lastFailure: RobotFailure | undefined;

  constructor(options: RobotSenderOptions) {
    this.robot = options.robot;
    this.#limit = new RateLimit(options.buckets);
    for (const at of [...(options.sentBefore ?? [])].sort((a, b) => a - b)) this.#limit.take(at);
    this.#onSend = options.onSend;
    this.#log = options.log?.child({ robot: options.robot.target });
    this.#maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  }

  /** The webhook, redacted. */
  get target(): string {
    return this.robot.target;
  }

  /** Sends `body` now if the rate limit and any pause allow, else says how long to wait. `now` is epoch ms. */
  async trySend(body: object, now: number): Promise<SendOutcome> {
    // Taken before the request, synchronously: concurrent calls cannot both get the last token.
    const wait = this.#limit.take(now);
    if (wait > 0) return { wait };
    this.#onSend?.(now);

    const reply = await this.robot.send(body);
    if (reply.ok) {
      this.#transientFailures = 0;
      return 'sent';
    }
    if (reply.retry === 'never') {
      this.#lastFailure = { at: now, code: reply.code, message: reply.message, fix: reply.fix };
      this.#log?.error({ code: reply.code, detail: reply.message, fix: reply.fix }, 'robot refused a message');
      return { failed: reply };
    }

    let pauseMs = reply.afterMs;
    if (reply.reason === 'transient') {
      this.#transientFailures += 1;
      pauseMs = Math.min(this.#maxBackoffMs, reply.afterMs * 2 ** (this.#transientFailures - 1));
    } else {
      this.#transientFailures = 0;
    }
    this.#limit.pauseUntil(now + pauseMs);
    this.#lastFailure = { at: now, code: reply.code, message: reply.message };
    this.#log?.warn({ code: reply.code, reason: reply.reason, pauseMs, detail: reply.message }, 'robot paused');
    return { wait: pauseMs, reply };
  }

  /** How long until `trySend` could send (its rate limit or a pause), without taking anything: 0 means now. */
  readyIn(now: number): number {
    return this.#limit.waitMs(now);
  }

  /** For status: until when the robot is paused (epoch ms) and its last failure; no secrets. */
  status(now: number): { target: string; pausedUntil?: number; lastFailure?: RobotFailure } {
    const pausedUntil = this.#limit.pausedUntil(now);
    return {
      target: this.target,
      ...(pausedUntil !== undefined ? { pausedUntil } : {}),
      ...(this.#lastFailure !== undefined ? { lastFailure: this.#lastFailure } : {}),
    };
  }
}

/** A sender for a robot of `platform`, with that platform's adapter and rate limit. */
export function createRobotSender(
  platform: Platform,
  options: RobotOptions & Pick<RobotSenderOptions, 'log' | 'sentBefore' | 'onSend'> & { buckets?: readonly BucketConfig[] },
): RobotSender {
  const robot = platform === 'dingtalk' ? new DingtalkRobot(options) : new LarkBot(options);
  const buckets = options.buckets ?? (platform === 'dingtalk' ? DINGTALK_BUCKETS : LARK_BUCKETS);
  return new RobotSender({
    robot,
    buckets,
    ...(options.log !== undefined ? { log: options.log } : {}),
    ...(options.sentBefore !== undefined ? { sentBefore: options.sentBefore } : {}),
    ...(options.onSend !== undefined ? { onSend: options.onSend } : {}),
  });
}
