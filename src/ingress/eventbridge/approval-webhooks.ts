import { z } from 'zod';
import { CallbackRejected, type CallbackRejectedReason } from '../callback-checks.js';
import { verifyDingtalkCallback } from '../dingtalk/callback-crypto.js';
import type { IngressConfig } from '../ingress-config.js';
import { verifyLarkCallback } from '../lark/callback-crypto.js';
import { noticeFromDingtalkHttpEvent, noticeFromLarkEvent, type ParsedNotice } from '../parse-notice.js';

/*
 * The platforms' own webhooks, as an EventBridge HTTPS event source wraps them. In production
 * DingTalk's event subscription (HTTP push) and Lark's request URL point at the stack's HTTPS
 * sources; the bus makes each POST an `eventbridge:Events:HTTPEvent` whose data is the request
 * (`headers`, `path`, `httpMethod`, `queryString`, `body`), and the approvals rule delivers it to
 * `/ingress/eventbridge`. Anyone may post to such a source, so the webhook inside is verified
 * exactly as `/ingress/dingtalk` and `/ingress/lark` verify theirs, with the same secrets.
 */

/** The CloudEvent type of what an HTTP/HTTPS event source receives. */
export const HTTP_EVENT_TYPE = 'eventbridge:Events:HTTPEvent';

/** The platforms' callback secrets, the same the direct routes use (see `approvalWebhookSecrets`). */
export interface ApprovalWebhookSecrets {
  /** ROLLCALL_DINGTALK_TOKEN, ROLLCALL_DINGTALK_AES_KEY and the app's appKey (the owner key). */
  dingtalk?: { token: string; encodingAesKey: string; appKey: string };
  /** ROLLCALL_LARK_VERIFICATION_TOKEN and, when the app encrypts events, ROLLCALL_LARK_ENCRYPT_KEY. */
  lark?: { verificationToken: string; encryptKey?: string };
}

/** The secrets of the platforms whose HTTP callback is configured (`readIngressConfig`). */
export function approvalWebhookSecrets(config: Pick<IngressConfig, 'dingtalk' | 'lark'>): ApprovalWebhookSecrets {
  const dingtalk = config.dingtalk?.callback;
  const lark = config.lark?.callback;
  return {
    ...(dingtalk !== undefined && config.dingtalk !== undefined ? { dingtalk: { token: dingtalk.token, encodingAesKey: dingtalk.encodingAesKey, appKey: config.dingtalk.appKey } } : {}),
    ...(lark !== undefined ? { lark: { verificationToken: lark.verificationToken, ...(lark.encryptKey !== undefined ? { encryptKey: lark.encryptKey } : {}) } } : {}),
  };
}

/** Why a webhook is refused: a failed check, or no secrets to check it with. */
export type WebhookRefusal = CallbackRejectedReason | 'not-configured';

/** What a webhook inside an HTTPEvent is. */
export type ParsedWebhook =
  | ParsedNotice
  /** DingTalk's `check_url` or Lark's `url_verification`: only the platform's console sends them, and no answer gets back through a bus. */
  | { urlCheck: true }
  /** Not an approval: the message says why, without any secret. */
  | { refused: WebhookRefusal; detail: string };

export interface ReadApprovalWebhookOptions {
  secrets: ApprovalWebhookSecrets;
  /**
   * The clock the webhook's timestamp is held against: when the bus accepted the POST (the
   * event's `aliyunpublishtime`, else `time`), which the poster cannot set. The target's retries
   * (rollcall down for a while) do not make a webhook stale; a replay to the source gets a new
   * publish time and still fails the window.
   */
  at: Date;
  /** Accepted distance between the webhook's timestamp and `at`. Default 5 minutes. */
  windowMs?: number;
}

const Headers = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
const Query = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
/** The request as the HTTPS source gives it; read leniently (the bus may add fields). */
const HttpEventData = z.looseObject({
  headers: Headers.optional().catch(undefined),
  queryString: Query.nullish().catch(undefined),
  httpMethod: z.string().optional().catch(undefined),
  path: z.string().optional().catch(undefined),
  body: z.unknown(),
});

/**
 * Verifies the webhook an HTTPS event source wrapped (`data` of an HTTPEvent from
 * `dingtalk.approval` or `lark.approval`) and says what it carries.
 * - DingTalk: `msg_signature`, `timestamp`, `nonce` from `queryString`, the `{encrypt}` body,
 *   checked and opened by `verifyDingtalkCallback` with the token, aes key and appKey.
 * - Lark: `X-Lark-Request-Timestamp`/`-Nonce`/`-Signature` from `headers` (any casing) over the
 *   raw body, by `verifyLarkCallback`. The bus hands the body over parsed; it is serialized again
 *   compactly (`JSON.stringify`) and that is what the signature is checked over: Lark sends
 *   compact JSON (`{"encrypt":"…"}`), so the bytes are the ones it signed. A body the bus kept as
 *   text is taken as it is.
 * Never throws for what the poster sent: every failure is `{refused}`.
 */
export function readApprovalWebhook(platform: 'dingtalk' | 'lark', data: unknown, options: ReadApprovalWebhookOptions): ParsedWebhook {
  const request = HttpEventData.safeParse(data);
  if (!request.success || !('body' in (data as object))) {
    return { refused: 'malformed', detail: `an ${HTTP_EVENT_TYPE} whose data is not the request an HTTPS source wraps ({headers, queryString, body})` };
  }
  const { headers = {}, queryString, body } = request.data;
  try {
    if (platform === 'dingtalk') {
      const secrets = options.secrets.dingtalk;
      if (secrets === undefined) {
        return { refused: 'not-configured', detail: 'a DingTalk webhook came through EventBridge but the callback secrets are not configured: set ROLLCALL_DINGTALK_TOKEN and ROLLCALL_DINGTALK_AES_KEY (the event subscription\'s token and aes_key, with ROLLCALL_DINGTALK_APP_KEY and ROLLCALL_DINGTALK_APP_SECRET)' };
      }
      const { event } = verifyDingtalkCallback({
        query: queryString ?? {},
        body,
        token: secrets.token,
        encodingAesKey: secrets.encodingAesKey,
        ownerKey: secrets.appKey,
        now: options.at,
        ...(options.windowMs !== undefined ? { windowMs: options.windowMs } : {}),
      });
      const parsed = noticeFromDingtalkHttpEvent(event, 'eventbridge', options.at);
      return 'checkUrl' in parsed ? { urlCheck: true } : parsed;
    }
    const secrets = options.secrets.lark;
    if (secrets === undefined) {
      return { refused: 'not-configured', detail: 'a Lark webhook came through EventBridge but the callback secrets are not configured: set ROLLCALL_LARK_VERIFICATION_TOKEN (and ROLLCALL_LARK_ENCRYPT_KEY when the app encrypts events, with ROLLCALL_LARK_APP_ID and ROLLCALL_LARK_APP_SECRET)' };
    }
    const callback = verifyLarkCallback({
      headers,
      rawBody: rawBodyOf(body),
      verificationToken: secrets.verificationToken,
      now: options.at,
      ...(secrets.encryptKey !== undefined ? { encryptKey: secrets.encryptKey } : {}),
      ...(options.windowMs !== undefined ? { windowMs: options.windowMs } : {}),
    });
    if (callback.kind === 'challenge') return { urlCheck: true };
    return noticeFromLarkEvent(callback.eventType, callback.eventId, callback.event, 'eventbridge', options.at);
  } catch (error) {
    if (error instanceof CallbackRejected) return { refused: error.reason, detail: error.message };
    // A configuration mistake (an aes key of the wrong length) is not the poster's: it stays an error.
    throw error;
  }
}

/**
 * The bytes Lark signed, as near as the bus lets us: a parsed body serialized compactly, a text
 * body as it is, no body as nothing.
 */
function rawBodyOf(body: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
}
