import type { Logger } from '../config/logger.js';
import { CallbackRejected } from './callback-checks.js';
import type { HttpRequest, HttpResponse } from './http-server.js';
import type { IngressNotice, NoticeSink } from './ingress-notice.js';

/** What every platform's callback route is given besides its own secrets. */
export interface CallbackRouteOptions {
  /** Records a notice durably before the answer goes out; false for a redelivery. */
  sink: NoticeSink;
  log: Logger;
  now?: () => Date;
  /** Accepted distance between the request's timestamp and our clock, either way. Default 5 minutes. */
  windowMs?: number;
}

/**
 * A failed verification as its answer: 401 with the reason, logged without any secret (the
 * messages of CallbackRejected never carry one). Any other error is not a rejection: rethrown.
 */
export function rejected(error: unknown, request: HttpRequest, log: Logger): HttpResponse {
  if (!(error instanceof CallbackRejected)) throw error;
  log.warn({ reason: error.reason, detail: error.message, remoteAddress: request.remoteAddress }, 'callback rejected');
  return { status: 401, body: { error: error.message, reason: error.reason } };
}

/**
 * Hands a notice to the sink. When the sink throws (the store failed), the answer is 500 so that
 * the platform delivers again and the notice is recorded then; otherwise undefined, and the route
 * acknowledges as its platform expects.
 */
export function recordNotice(sink: NoticeSink, notice: IngressNotice, log: Logger, platformName: string): HttpResponse | undefined {
  let fresh: boolean;
  try {
    fresh = sink(notice);
  } catch (error) {
    log.error({ err: error, eventId: notice.eventId, kind: notice.kind }, 'notice not recorded');
    return { status: 500, body: { error: `the notice could not be recorded; ${platformName} will send it again` } };
  }
  log.info({ eventId: notice.eventId, kind: notice.kind }, fresh ? 'notice recorded' : 'redelivery ignored');
  return undefined;
}
