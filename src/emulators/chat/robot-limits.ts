/**
 * The robots' send limits as the platforms count them: so many accepted messages in any window of
 * a given length (a sliding window, not a bucket that refills: the platforms' documents speak of
 * "20 a minute", and a client that sends 20 at 00:59 and 20 at 01:01 is over it).
 */

/** At most `limit` events in any `windowMs`. Times come in as arguments: no clock here. */
export class SlidingWindow {
  readonly #times: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Whether one more event at `now` would go over the limit. */
  full(now: number): boolean {
    this.#forget(now);
    return this.#times.length >= this.limit;
  }

  /** Counts an event at `now`. */
  record(now: number): void {
    this.#forget(now);
    this.#times.push(now);
  }

  #forget(now: number): void {
    while (this.#times.length > 0 && this.#times[0]! <= now - this.windowMs) this.#times.shift();
  }
}

/** DingTalk: 20 messages a minute per robot; the 21st silences the robot for 10 minutes. */
export const DINGTALK_ROBOT_LIMITS = { perMinute: 20, silenceMs: 10 * 60_000, timestampWindowMs: 60 * 60_000, maxBodyBytes: 20_000 } as const;

/** Lark: 5 a second and 100 a minute per bot, bodies up to 20 KB. */
export const LARK_BOT_LIMITS = { perSecond: 5, perMinute: 100, timestampWindowSeconds: 60 * 60, maxBodyBytes: 20 * 1024 } as const;

/** One DingTalk robot's send state. */
export class DingtalkRobotLimit {
  readonly #minute = new SlidingWindow(DINGTALK_ROBOT_LIMITS.perMinute, 60_000);
  #silentUntil = Number.NEGATIVE_INFINITY;

  /** Whether a send at `now` is refused; going over the limit starts the silence. */
  refuses(now: number): boolean {
    if (now < this.#silentUntil) return true;
    if (!this.#minute.full(now)) return false;
    this.#silentUntil = now + DINGTALK_ROBOT_LIMITS.silenceMs;
    return true;
  }

  accepted(now: number): void {
    this.#minute.record(now);
  }
}

/** One Lark bot's send state: both windows must have room, and an accepted message counts in both. */
export class LarkBotLimit {
  readonly #second = new SlidingWindow(LARK_BOT_LIMITS.perSecond, 1000);
  readonly #minute = new SlidingWindow(LARK_BOT_LIMITS.perMinute, 60_000);

  refuses(now: number): boolean {
    return this.#second.full(now) || this.#minute.full(now);
  }

  accepted(now: number): void {
    this.#second.record(now);
    this.#minute.record(now);
  }
}
