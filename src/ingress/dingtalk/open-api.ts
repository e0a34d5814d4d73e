import { z } from 'zod';
import { RollcallError } from '../../config/errors.js';
import { redact, retryPolicy, sendWithRetries, TokenCache, type OpenApiClientOptions, type OpenApiReply, type RetryPolicy } from '../open-api-client.js';

/**
 * DingTalk's open API (api.dingtalk.com, the "new" v1.0 API), the two calls rollcall needs:
 * an app access token and one approval (process) instance. Plain `fetch`, no SDK: the official
 * `@alicloud/dingtalk` package is 52 MB for these two requests.
 */

export interface DingtalkOpenApiOptions extends OpenApiClientOptions {
  appKey: string;
  appSecret: string;
  /** Default `https://api.dingtalk.com` (`ROLLCALL_DINGTALK_API`); any server speaking the documented API. */
  baseUrl?: string;
}

/** One form field of an instance, as DingTalk sends it (other fields kept). */
export const DingtalkFormValue = z.looseObject({
  name: z.string().nullish(),
  value: z.string().nullish(),
  id: z.string().nullish(),
  componentType: z.string().nullish(),
});
export type DingtalkFormValue = z.infer<typeof DingtalkFormValue>;

/** One approver step. `result` is AGREE | REFUSE | REDIRECTED | NONE in DingTalk's replies. */
export const DingtalkTask = z.looseObject({
  userId: z.string(),
  result: z.string().nullish(),
  status: z.string().nullish(),
  taskId: z.union([z.string(), z.number()]).nullish(),
});
export type DingtalkTask = z.infer<typeof DingtalkTask>;

/**
 * A process instance, parsed leniently: what rollcall reads is checked, the rest is kept.
 * Finished and approved is `status === 'COMPLETED' && result === 'agree'`.
 */
export const DingtalkProcessInstance = z.looseObject({
  status: z.string(),
  result: z.string().nullish(),
  originatorUserId: z.string(),
  title: z.string().nullish(),
  formComponentValues: z.array(DingtalkFormValue).nullish().transform((values) => values ?? []),
  tasks: z.array(DingtalkTask).nullish().transform((tasks) => tasks ?? []),
  operationRecords: z.array(z.looseObject({})).nullish().transform((records) => records ?? []),
});
export type DingtalkProcessInstance = z.infer<typeof DingtalkProcessInstance>;

const TokenReply = z.looseObject({ accessToken: z.string().min(1), expireIn: z.number().positive() });
const InstanceReply = z.looseObject({ result: DingtalkProcessInstance });
const ErrorReply = z.looseObject({ code: z.string().optional(), message: z.string().optional() });

/**
 * Throttling codes of the v1.0 API (HTTP 403): per app and API (the old API's 90018), and
 * per API across every app of every organisation (the old API's 90002). DingTalk's
 * "invocation frequency limit" page says to wait a second and try again.
 */
export const DINGTALK_THROTTLE_CODES: ReadonlySet<string> = new Set([
  'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
  'Forbidden.AccessDenied.QpsLimitForApi',
]);
/** The reply (HTTP 401) to a token that expired, was revoked, or was never issued. */
const INVALID_TOKEN_CODE = 'InvalidAuthentication';
const PERMISSION_CODE = 'Forbidden.AccessDenied.AccessTokenPermissionDenied';

/** A token is renewed this long before DingTalk says it expires. */


/** Client of DingTalk's open API for one internal app. Safe to share: calls run concurrently. */
export class DingtalkOpenApi {
  readonly #appKey: string;
  readonly #appSecret: string;
  readonly #baseUrl: string;
  readonly #retry: RetryPolicy;
  readonly #token: TokenCache;

  constructor(options: DingtalkOpenApiOptions) {
    if (options.appKey === '' || options.appSecret === '') {
      throw new RollcallError('invalid-input', 'DingTalk appKey and appSecret must not be empty: set ROLLCALL_DINGTALK_APP_KEY and ROLLCALL_DINGTALK_APP_SECRET');
    }
    this.#appKey = options.appKey;
    this.#appSecret = options.appSecret;
    this.#baseUrl = (options.baseUrl ?? 'https://api.dingtalk.com').replace(/\/+$/, '');
    this.#retry = retryPolicy(options, {
      retryable,
      unreachable: (reason, cause) =>
        new RollcallError('cloud-api', `cannot reach DingTalk's open API at ${this.#baseUrl} after ${this.#retry.maxAttempts} tries (${reason}): check the network and ROLLCALL_DINGTALK_API`, { cause }),
    });
    this.#token = new TokenCache(() => this.#fetchToken(), options.now ?? Date.now);
  }

  /**
   * The app's access token, fetched once and reused until 5 minutes before it expires;
   * concurrent callers share one request.
   */
  accessToken(): Promise<string> {
    return this.#token.get();
  }

  /** One process instance (`GET /v1.0/workflow/processInstances`), confirmed from the source. */
  async processInstance(id: string): Promise<DingtalkProcessInstance> {
    const path = `/v1.0/workflow/processInstances?processInstanceId=${encodeURIComponent(id)}`;
    let refreshed = false;
    for (;;) {
      const token = await this.accessToken();
      const reply = await this.#send('GET', path, { 'x-acs-dingtalk-access-token': token });
      if (reply.status >= 200 && reply.status < 300) {
        const parsed = InstanceReply.safeParse(reply.body);
        if (!parsed.success) {
          throw new RollcallError('cloud-api', `DingTalk's reply for process instance ${id} has no readable result (${z.prettifyError(parsed.error).split('\n')[0]})`);
        }
        return parsed.data.result;
      }
      const code = errorOf(reply).code;
      if ((reply.status === 401 || code === INVALID_TOKEN_CODE) && !refreshed) {
        // The token was revoked or expired early (a new appSecret, a clock off): fetch one again, once.
        refreshed = true;
        this.#token.refused(token);
        continue;
      }
      throw this.#failure(reply, `reading DingTalk process instance ${id}`);
    }
  }

  async #fetchToken(): Promise<{ value: string; lifetimeSeconds: number }> {
    const reply = await this.#send('POST', '/v1.0/oauth2/accessToken', { 'content-type': 'application/json' }, JSON.stringify({ appKey: this.#appKey, appSecret: this.#appSecret }));
    if (retryable(reply)) throw this.#failure(reply, 'getting a DingTalk access token');
    if (reply.status < 200 || reply.status >= 300) {
      const { code, message } = errorOf(reply);
      throw new RollcallError(
        'cloud-api',
        `DingTalk refused an access token for appKey ${this.#appKey} (HTTP ${reply.status}${code ? ` ${code}` : ''}${message ? `: ${this.#clean(message)}` : ''}): check ROLLCALL_DINGTALK_APP_KEY and ROLLCALL_DINGTALK_APP_SECRET (the app's Client ID and Client Secret)`,
      );
    }
    const parsed = TokenReply.safeParse(reply.body);
    if (!parsed.success) throw new RollcallError('cloud-api', `DingTalk's access token reply has no accessToken and expireIn: is ${this.#baseUrl} DingTalk's open API?`);
    return { value: parsed.data.accessToken, lifetimeSeconds: parsed.data.expireIn };
  }

  #send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<OpenApiReply> {
    return sendWithRetries(this.#baseUrl + path, { method, headers, ...(body !== undefined ? { body } : {}) }, this.#retry);
  }

  #failure(reply: OpenApiReply, doing: string): RollcallError {
    const { code, message } = errorOf(reply);
    const detail = `HTTP ${reply.status}${code ? ` ${code}` : ''}${message ? `: ${this.#clean(message)}` : ''}`;
    let fix = 'try again later; if it persists, check the instance id and the app';
    if (code !== undefined && DINGTALK_THROTTLE_CODES.has(code)) fix = `still throttled after ${this.#retry.maxAttempts} tries: lower the request rate`;
    else if (reply.status >= 500) fix = `DingTalk kept failing after ${this.#retry.maxAttempts} tries: try again later`;
    else if (code === PERMISSION_CODE) fix = 'grant the app the permission the message names (reading approval instances) in the DingTalk developer console, then publish the app';
    else if (reply.status === 401 || code === INVALID_TOKEN_CODE) fix = 'the access token was refused even after a fresh one: check ROLLCALL_DINGTALK_APP_KEY and ROLLCALL_DINGTALK_APP_SECRET';
    return new RollcallError('cloud-api', `${doing} failed (${detail}): ${fix}`);
  }

  /** The server's text, without our secret or token should a server echo them. */
  #clean(text: string): string {
    return redact(text, [this.#appSecret, this.#token.current]);
  }
}

function retryable(reply: OpenApiReply): boolean {
  if (reply.status === 429 || reply.status >= 500) return true;
  const code = errorOf(reply).code;
  return code !== undefined && DINGTALK_THROTTLE_CODES.has(code);
}

function errorOf(reply: OpenApiReply): { code?: string; message?: string } {
  const parsed = ErrorReply.safeParse(reply.body);
  return parsed.success ? parsed.data : {};
}
