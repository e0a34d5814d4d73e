import { recordNotice, rejected, type CallbackRouteOptions } from '../callback-route-common.js';
import type { HttpRequest, HttpResponse, Route } from '../http-server.js';
import { noticeFromLarkEvent } from '../parse-notice.js';
import { verifyLarkCallback, type LarkCallback } from './callback-crypto.js';

export interface LarkCallbackRouteOptions extends CallbackRouteOptions {
  /** The app's Encrypt Key (ROLLCALL_LARK_ENCRYPT_KEY); when set, every request must be signed and encrypted. */
  encryptKey?: string;
  /** The app's Verification Token (ROLLCALL_LARK_VERIFICATION_TOKEN), checked on every request. */
  verificationToken: string;
}

/** The path the Lark app's event subscription (request URL) points at. */
export const LARK_CALLBACK_PATH = '/ingress/lark';

/**
 * `POST /ingress/lark`: Lark's HTTP event callback. Verification fails → 401 with the reason,
 * nothing else. The URL check → `{challenge}`. An approved instance or a departure → the sink
 * records it, then 200 `{}` (Lark waits 3 s); other events → logged, 200 `{}`. A sink that throws
 * (the store failed) → 500, so Lark sends the event again.
 */
export function larkCallbackRoute(options: LarkCallbackRouteOptions): Route {
  const now = options.now ?? (() => new Date());
  const log = options.log.child({ ingress: 'lark', via: 'http' });

  return {
    method: 'POST',
    path: LARK_CALLBACK_PATH,
    handle(request: HttpRequest): HttpResponse {
      const at = now();
      let callback: LarkCallback;
      try {
        callback = verifyLarkCallback({
          headers: request.headers,
          rawBody: request.body,
          verificationToken: options.verificationToken,
          now: at,
          ...(options.encryptKey !== undefined ? { encryptKey: options.encryptKey } : {}),
          ...(options.windowMs !== undefined ? { windowMs: options.windowMs } : {}),
        });
      } catch (error) {
        return rejected(error, request, log);
      }

      if (callback.kind === 'challenge') {
        log.info('callback URL check answered');
        return { status: 200, body: { challenge: callback.challenge } };
      }
      const parsed = noticeFromLarkEvent(callback.eventType, callback.eventId, callback.event, 'http', at);
      if ('ignored' in parsed) {
        log.info({ eventId: callback.eventId, eventType: callback.eventType, why: parsed.ignored }, 'event ignored');
        return { status: 200, body: {} };
      }
      return recordNotice(options.sink, parsed.notice, log, 'Lark') ?? { status: 200, body: {} };
    },
  };
}
