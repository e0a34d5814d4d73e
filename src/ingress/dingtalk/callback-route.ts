import type { Logger } from '../../config/logger.js';
import { CallbackRejected } from '../callback-checks.js';
import type { HttpRequest, HttpResponse, Route } from '../http-server.js';
import type { NoticeSink } from '../ingress-notice.js';
import { noticeFromDingtalkHttpEvent } from '../parse-notice.js';
import { dingtalkReply, encryptDingtalk, verifyDingtalkCallback } from './callback-crypto.js';

export interface DingtalkCallbackRouteOptions {
  /** The event subscription's token (ROLLCALL_DINGTALK_TOKEN). */
  token: string;
  /** The event subscription's 43-character aes_key (ROLLCALL_DINGTALK_AES_KEY). */
  encodingAesKey: string;
  /** The internal app's appKey: the owner key DingTalk seals every message with. */
  appKey: string;
  /** Records a notice durably before the answer goes out; false for a redelivery. */
  sink: NoticeSink;
  log: Logger;
  now?: () => Date;
  /** Accepted clock distance of the request's timestamp. Default 5 minutes. */
  windowMs?: number;
}

/** The path DingTalk's event subscription (HTTP push) points at. */
export const DINGTALK_CALLBACK_PATH = '/ingress/dingtalk';

/**
 * `POST /ingress/dingtalk`: DingTalk's HTTP push. A request that fails verification gets 401 with
 * the reason and nothing else happens. A verified one is answered at once with the sealed
 * "success" DingTalk waits for (1500 ms): the URL check as it is, a finished approval or a
 * departure after the sink has recorded it, any other event after a log line. The sink only
 * records; the work happens after the answer. A sink that throws (the store failed) gets 500, so
 * DingTalk pushes again.
 */
export function dingtalkCallbackRoute(options: DingtalkCallbackRouteOptions): Route {
  // A key that is not 43 base64 characters fails here, at start-up, not at the first push.
  encryptDingtalk(options.encodingAesKey, '', options.appKey);
  const now = options.now ?? (() => new Date());
  const log = options.log.child({ ingress: 'dingtalk', via: 'http' });
  const reply = (at: Date): HttpResponse => ({ status: 200, body: dingtalkReply({ token: options.token, encodingAesKey: options.encodingAesKey, ownerKey: options.appKey, now: at }) });

  return {
    method: 'POST',
    path: DINGTALK_CALLBACK_PATH,
    handle(request: HttpRequest): HttpResponse {
      const at = now();
      let event: unknown;
      try {
        ({ event } = verifyDingtalkCallback({
          query: request.url.searchParams,
          body: request.body,
          token: options.token,
          encodingAesKey: options.encodingAesKey,
          ownerKey: options.appKey,
          now: at,
          ...(options.windowMs !== undefined ? { windowMs: options.windowMs } : {}),
        }));
      } catch (error) {
        if (!(error instanceof CallbackRejected)) throw error;
        log.warn({ reason: error.reason, detail: error.message, remoteAddress: request.remoteAddress }, 'callback rejected');
        return { status: 401, body: { error: error.message, reason: error.reason } };
      }

      const parsed = noticeFromDingtalkHttpEvent(event, 'http', at);
      if ('checkUrl' in parsed) {
        log.info('callback URL check answered');
        return reply(at);
      }
      if ('ignored' in parsed) {
        log.info({ why: parsed.ignored }, 'event ignored');
        return reply(at);
      }
      const { notice } = parsed;
      let fresh: boolean;
      try {
        fresh = options.sink(notice);
      } catch (error) {
        // Not acknowledged: DingTalk pushes again, and the notice is recorded then.
        log.error({ err: error, eventId: notice.eventId, kind: notice.kind }, 'notice not recorded');
        return { status: 500, body: { error: 'the notice could not be recorded; DingTalk will push it again' } };
      }
      if (fresh) log.info({ eventId: notice.eventId, kind: notice.kind }, 'notice recorded');
      else log.info({ eventId: notice.eventId, kind: notice.kind }, 'redelivery ignored');
      return reply(at);
    },
  };
}
