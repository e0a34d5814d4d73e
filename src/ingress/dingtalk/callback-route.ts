import { recordNotice, rejected, type CallbackRouteOptions } from '../callback-route-common.js';
import type { HttpRequest, HttpResponse, Route } from '../http-server.js';
import { noticeFromDingtalkHttpEvent } from '../parse-notice.js';
import { dingtalkReply, encryptDingtalk, verifyDingtalkCallback } from './callback-crypto.js';

export interface DingtalkCallbackRouteOptions extends CallbackRouteOptions {
  /** The event subscription's token (ROLLCALL_DINGTALK_TOKEN). */
  token: string;
  /** The event subscription's 43-character aes_key (ROLLCALL_DINGTALK_AES_KEY). */
  encodingAesKey: string;
  /** The internal app's appKey: the owner key DingTalk seals every message with. */
  appKey: string;
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
        return rejected(error, request, log);
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
      return recordNotice(options.sink, parsed.notice, log, 'DingTalk') ?? reply(at);
    },
  };
}
