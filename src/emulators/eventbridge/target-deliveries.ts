import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../config/logger.js';
import { BoundedLog } from './bounded-log.js';
import type { BusEvent } from './cloud-event-envelope.js';
import type { RuleConfig, TargetConfig } from './load-terraform-rules.js';
import { retryDelaySeconds } from './retry-policy.js';
import { buildTargetRequest, type TargetRequest } from './target-request.js';

/*
 * Pushing events to targets, each push in the background with its target's retry strategy, and a
 * dead letter when the strategy gives up. What is retried (README.md): no answer, a timeout, 408,
 * 429, 5xx, and a DingTalk robot's errcode other than 0; any other status is final at once.
 */

/** One attempt to push one event to one target. */
export interface DeliveryAttempt {
  eventId: string;
  busName: string;
  ruleName: string;
  targetId: string;
  targetType: string;
  /** 1 for the first push, 2 for the first retry, … */
  attempt: number;
  /** When the attempt started (ISO). */
  at: string;
  /** What was sent; secrets in the URL's query blanked out. Absent when nothing could be sent. */
  request?: { url: string; method: string; body?: string };
  /** The target's HTTP status. */
  status?: number;
  ok: boolean;
  /** Why it failed, or why the event was not sent at all. */
  error?: string;
  /** The target type is not one the emulator delivers to. */
  notDeliverable?: boolean;
  durationMs: number;
}

/** An event a target never took: its strategy's retries ran out, or its failure was final. */
export interface DeadLetter {
  eventId: string;
  busName: string;
  ruleName: string;
  targetId: string;
  targetType: string;
  /** The target's dead-letter queue (its ARN), or null: without one the cloud drops the event. */
  deadLetterQueue: string | null;
  attempts: number;
  /** The last attempt's failure. */
  reason: string;
  at: string;
  event: BusEvent;
}

export interface TargetDeliveriesOptions {
  /** Real milliseconds per second of the retry strategies' waits (1000; tests shrink it). */
  secondMs: number;
  /** How long one attempt may take before it counts as failed (real milliseconds). */
  attemptTimeoutMs: number;
  /** Rewrites each target URL before sending. */
  redirect: (url: string) => string;
  random: () => number;
  log: Logger;
  keep: { deliveries: number; deadLetters: number };
}

type AttemptOutcome = { ok: true; status: number } | { ok: false; status?: number; error: string; final: boolean };

export class TargetDeliveries {
  readonly attempts: BoundedLog<DeliveryAttempt>;
  readonly deadLetters: BoundedLog<DeadLetter>;
  readonly #options: TargetDeliveriesOptions;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(options: TargetDeliveriesOptions) {
    this.#options = options;
    this.attempts = new BoundedLog(options.keep.deliveries);
    this.deadLetters = new BoundedLog(options.keep.deadLetters);
  }

  /** Starts pushing the event to one target of a rule that matched it; returns at once. */
  deliver(event: BusEvent, rule: RuleConfig, target: TargetConfig): void {
    if (this.#stop.signal.aborted) return;
    const push = this.#push(event, rule, target).catch((error: unknown) => {
      if (!this.#stop.signal.aborted) this.#options.log.error({ err: error, eventId: event.id, rule: rule.name, target: target.id }, 'EventBridge emulator: delivery crashed');
    });
    this.#inFlight.add(push);
    void push.finally(() => this.#inFlight.delete(push));
  }

  /** Waits until every push started so far has been delivered, given up on, or stopped. */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Stops retries waiting and attempts under way (they are not recorded as dead letters). */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.flush();
  }

  async #push(event: BusEvent, rule: RuleConfig, target: TargetConfig): Promise<void> {
    const base = { eventId: event.id, busName: rule.busName, ruleName: rule.name, targetId: target.id, targetType: target.type };
    const log = this.#options.log;
    for (let attempt = 1; ; attempt++) {
      const startedAt = new Date();
      const built = buildTargetRequest(event, target, this.#options.redirect, startedAt);
      if (built.kind === 'not-deliverable') {
        this.attempts.push({ ...base, attempt, at: startedAt.toISOString(), ok: false, notDeliverable: true, error: built.reason, durationMs: 0 });
        log.warn({ ...base }, `EventBridge emulator: ${built.reason}`);
        return;
      }
      let outcome: AttemptOutcome;
      let request: TargetRequest | undefined;
      if (built.kind === 'invalid') {
        outcome = { ok: false, error: built.reason, final: true };
      } else {
        request = built.request;
        outcome = await this.#send(request, built.dingtalk);
        if (this.#stop.signal.aborted) return;
      }
      const record: DeliveryAttempt = {
        ...base,
        attempt,
        at: startedAt.toISOString(),
        ...(request ? { request: { url: redactUrl(request.url), method: request.method, ...(request.body !== undefined ? { body: request.body } : {}) } } : {}),
        ...(outcome.status !== undefined ? { status: outcome.status } : {}),
        ok: outcome.ok,
        ...(!outcome.ok ? { error: outcome.error } : {}),
        durationMs: Date.now() - startedAt.getTime(),
      };
      this.attempts.push(record);
      if (outcome.ok) {
        log.debug({ ...base, attempt, status: outcome.status }, 'EventBridge emulator: delivered');
        return;
      }
      const delay = outcome.final ? undefined : retryDelaySeconds(target.retryStrategy, attempt, this.#options.random);
      if (delay === undefined) {
        this.deadLetters.push({ ...base, deadLetterQueue: target.deadLetterQueue ?? null, attempts: attempt, reason: outcome.error, at: new Date().toISOString(), event });
        log.warn({ ...base, attempts: attempt, reason: outcome.error, deadLetterQueue: target.deadLetterQueue ?? null }, target.deadLetterQueue ? 'EventBridge emulator: gave up; the event goes to the dead-letter queue' : 'EventBridge emulator: gave up; the target has no dead-letter queue, so the event is dropped');
        return;
      }
      log.info({ ...base, attempt, reason: outcome.error, retryInSeconds: Math.round(delay * 10) / 10 }, 'EventBridge emulator: delivery failed; retrying');
      try {
        await sleep(delay * this.#options.secondMs, undefined, { signal: this.#stop.signal });
      } catch {
        return;
      }
    }
  }

  async #send(request: TargetRequest, dingtalk: boolean): Promise<AttemptOutcome> {
    const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.#options.attemptTimeoutMs)]);
    let response: Response;
    let text: string;
    try {
      response = await fetch(request.url, { method: request.method, headers: request.headers, ...(request.body !== undefined ? { body: request.body } : {}), signal, redirect: 'manual' });
      text = await response.text();
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      return { ok: false, error: timedOut ? `no answer within ${this.#options.attemptTimeoutMs} ms` : `cannot reach ${redactUrl(request.url)}: ${causeOf(error)}`, final: false };
    }
    const status = response.status;
    if (status >= 200 && status < 300) {
      if (dingtalk) {
        const errcode = dingtalkErrcode(text);
        if (errcode !== undefined && errcode !== 0) return { ok: false, status, error: `the robot answered errcode ${errcode}: ${text.slice(0, 200)}`, final: false };
      }
      return { ok: true, status };
    }
    const retryable = status === 408 || status === 429 || status >= 500;
    return { ok: false, status, error: `answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`, final: !retryable };
  }
}

function dingtalkErrcode(text: string): number | undefined {
  try {
    const parsed = JSON.parse(text) as { errcode?: unknown };
    return typeof parsed.errcode === 'number' ? parsed.errcode : undefined;
  } catch {
    return undefined;
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

const SECRET_QUERY = new Set(['access_token', 'sign', 'token']);

/** The URL with its secret query values (a robot's access_token, a signature) blanked out. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    let changed = false;
    for (const key of [...parsed.searchParams.keys()]) {
      if (SECRET_QUERY.has(key.toLowerCase())) {
        parsed.searchParams.set(key, '[redacted]');
        changed = true;
      }
    }
    return changed ? parsed.href : url;
  } catch {
    return url;
  }
}
