import { z } from 'zod';
import { RollcallError } from '../../config/errors.js';
import { backoffMs, MAX_DELAY_MS, parseJson, redact, retryPolicy, sendWithRetries, TokenCache, type OpenApiClientOptions, type OpenApiReply, type RetryPolicy } from '../open-api-client.js';

/**
 * Lark / Feishu's open API, the calls rollcall needs: a tenant access token, one approval
 * instance, and the per-approval-code event subscription. Plain `fetch`: the node SDK is 29 MB.
 */

export interface LarkOpenApiOptions extends OpenApiClientOptions {
  appId: string;
  appSecret: string;
  /** Default `https://open.feishu.cn` (`ROLLCALL_LARK_DOMAIN`; `https://open.larksuite.com` for Lark). */
  domain?: string;
}

/** One field of an instance's form (Lark sends the list as a JSON string). */
export const LarkFormField = z.looseObject({
  id: z.string(),
  custom_id: z.string().nullish(),
  name: z.string().nullish(),
  type: z.string().nullish(),
  value: z.unknown(),
});
export type LarkFormField = z.infer<typeof LarkFormField>;

/** One approver task; `status` PENDING | APPROVED | REJECTED | TRANSFERRED | DONE. */
export const LarkTask = z.looseObject({
  id: z.string().nullish(),
  user_id: z.string().nullish(),
  open_id: z.string().nullish(),
  status: z.string().nullish(),
  node_name: z.string().nullish(),
});
export type LarkTask = z.infer<typeof LarkTask>;

/** One timeline entry; `type` START | PASS | REJECT | TRANSFER | … */
export const LarkTimelineEntry = z.looseObject({
  type: z.string(),
  user_id: z.string().nullish(),
  open_id: z.string().nullish(),
  create_time: z.string().nullish(),
});
export type LarkTimelineEntry = z.infer<typeof LarkTimelineEntry>;

const InstanceData = z.looseObject({
  status: z.string(),
  form: z.string(),
  user_id: z.string().nullish(),
  open_id: z.string().nullish(),
  approval_code: z.string().nullish(),
  timeline: z.array(LarkTimelineEntry).nullish().transform((entries) => entries ?? []),
  task_list: z.array(LarkTask).nullish().transform((tasks) => tasks ?? []),
});

/**
 * An approval instance with its form parsed (Lark's other fields kept as they came). Approved is
 * `status === 'APPROVED'`.
 */
export interface LarkApprovalInstance {
  [field: string]: unknown;
  status: string;
  form: LarkFormField[];
  user_id?: string | null | undefined;
  open_id?: string | null | undefined;
  approval_code?: string | null | undefined;
  timeline: LarkTimelineEntry[];
  task_list: LarkTask[];
}

const Envelope = z.looseObject({ code: z.number(), msg: z.string().optional(), data: z.unknown().optional() });
const TokenReply = z.looseObject({ code: z.literal(0), tenant_access_token: z.string().min(1), expire: z.number().positive() });

/** "request trigger frequency limit" (HTTP 429, with `x-ogw-ratelimit-reset` in seconds). */
export const LARK_FREQUENCY_LIMIT_CODES: ReadonlySet<number> = new Set([99991400]);
/**
 * Tenant-token replies that a fresh token cures: 99991661 missing, 99991663 invalid (expired or
 * revoked), 99991668 invalid (another token type), 99991677 expired.
 */
export const LARK_INVALID_TOKEN_CODES: ReadonlySet<number> = new Set([99991661, 99991663, 99991668, 99991677]);
/** "subscription existed": the approval code is subscribed already, which is what we want. */
export const LARK_SUBSCRIPTION_EXISTS = 1390007;
const APP_SECRET_INVALID = 10014;
const INVALID_PARAM = 10003;
const SCOPE_MISSING = 99991672;


/** Client of Lark's open API for one self-built app. Safe to share: calls run concurrently. */
export class LarkOpenApi {
  readonly #appId: string;
  readonly #appSecret: string;
  readonly #domain: string;
  readonly #retry: RetryPolicy;
  readonly #token: TokenCache;

  constructor(options: LarkOpenApiOptions) {
    if (options.appId === '' || options.appSecret === '') {
      throw new RollcallError('invalid-input', 'Lark appId and appSecret must not be empty: set ROLLCALL_LARK_APP_ID and ROLLCALL_LARK_APP_SECRET');
    }
    this.#appId = options.appId;
    this.#appSecret = options.appSecret;
    this.#domain = (options.domain ?? 'https://open.feishu.cn').replace(/\/+$/, '');
    this.#retry = retryPolicy(options, {
      retryable,
      delayMs: delay,
      unreachable: (reason, cause) =>
        new RollcallError('cloud-api', `cannot reach Lark's open API at ${this.#domain} after ${this.#retry.maxAttempts} tries (${reason}): check the network and ROLLCALL_LARK_DOMAIN`, { cause }),
    });
    this.#token = new TokenCache(() => this.#fetchToken(), options.now ?? Date.now);
  }

  /** The tenant access token, reused until 5 minutes before it expires; concurrent callers share one request. */
  tenantToken(): Promise<string> {
    return this.#token.get();
  }

  /** One approval instance (`GET /open-apis/approval/v4/instances/:instance_id`), its form parsed. */
  async approvalInstance(instanceCode: string): Promise<LarkApprovalInstance> {
    const body = await this.#authorized('GET', `/open-apis/approval/v4/instances/${encodeURIComponent(instanceCode)}`, `reading Lark approval instance ${instanceCode}`);
    const parsed = InstanceData.safeParse(body.data);
    if (!parsed.success) {
      throw new RollcallError('cloud-api', `Lark's reply for approval instance ${instanceCode} has no readable data (${z.prettifyError(parsed.error).split('\n')[0]})`);
    }
    return { ...parsed.data, form: parseForm(parsed.data.form, instanceCode) };
  }

  /**
   * Subscribes the app to the events of one approval definition
   * (`POST /open-apis/approval/v4/approvals/:approval_code/subscribe`). Idempotent: Lark's
   * "subscription existed" counts as done.
   */
  async subscribe(approvalCode: string): Promise<void> {
    await this.#authorized('POST', `/open-apis/approval/v4/approvals/${encodeURIComponent(approvalCode)}/subscribe`, `subscribing to Lark approval ${approvalCode}`, [LARK_SUBSCRIPTION_EXISTS]);
  }

  /** A call with the tenant token, fetched again once when Lark says it is no longer valid. */
  async #authorized(method: 'GET' | 'POST', path: string, doing: string, alsoSuccess: readonly number[] = []): Promise<z.infer<typeof Envelope>> {
    let refreshed = false;
    for (;;) {
      const token = await this.tenantToken();
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (method === 'POST') headers['content-type'] = 'application/json; charset=utf-8';
      const reply = await this.#send(method, path, headers, method === 'POST' ? '{}' : undefined);
      const envelope = Envelope.safeParse(reply.body);
      const code = envelope.success ? envelope.data.code : undefined;
      if (envelope.success && (code === 0 || alsoSuccess.includes(code!))) return envelope.data;
      if (code !== undefined && LARK_INVALID_TOKEN_CODES.has(code) && !refreshed) {
        refreshed = true;
        this.#token.refused(token);
        continue;
      }
      throw this.#failure(reply, doing);
    }
  }

  async #fetchToken(): Promise<{ value: string; lifetimeSeconds: number }> {
    const reply = await this.#send(
      'POST',
      '/open-apis/auth/v3/tenant_access_token/internal',
      { 'content-type': 'application/json; charset=utf-8' },
      JSON.stringify({ app_id: this.#appId, app_secret: this.#appSecret }),
    );
    const parsed = TokenReply.safeParse(reply.body);
    if (parsed.success) return { value: parsed.data.tenant_access_token, lifetimeSeconds: parsed.data.expire };
    if (retryable(reply)) throw this.#failure(reply, 'getting a Lark tenant access token');
    const { code, msg } = envelopeOf(reply);
    const detail = `HTTP ${reply.status}${code !== undefined ? ` code ${code}` : ''}${msg ? `: ${this.#clean(msg)}` : ''}`;
    const fix =
      code === APP_SECRET_INVALID
        ? 'the app secret is wrong: set ROLLCALL_LARK_APP_SECRET to the App Secret of that app'
        : code === INVALID_PARAM
          ? 'check ROLLCALL_LARK_APP_ID (cli_…) and ROLLCALL_LARK_APP_SECRET'
          : code === undefined && reply.status < 300
            ? `is ${this.#domain} Lark's open API? Check ROLLCALL_LARK_DOMAIN`
            : 'check ROLLCALL_LARK_APP_ID and ROLLCALL_LARK_APP_SECRET';
    throw new RollcallError('cloud-api', `Lark refused a tenant access token for app ${this.#appId} (${detail}): ${fix}`);
  }

  #send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<OpenApiReply> {
    return sendWithRetries(this.#domain + path, { method, headers, ...(body !== undefined ? { body } : {}) }, this.#retry);
  }

  #failure(reply: OpenApiReply, doing: string): RollcallError {
    const { code, msg } = envelopeOf(reply);
    const detail = `HTTP ${reply.status}${code !== undefined ? ` code ${code}` : ''}${msg ? `: ${this.#clean(msg)}` : ''}`;
    let fix = 'check the code and the app, then try again';
    if (code !== undefined && LARK_FREQUENCY_LIMIT_CODES.has(code)) fix = `still rate limited after ${this.#retry.maxAttempts} tries: lower the request rate`;
    else if (reply.status >= 500) fix = `Lark kept failing after ${this.#retry.maxAttempts} tries: try again later`;
    else if (code === SCOPE_MISSING) fix = 'grant the app the approval scopes (approval:approval) in the developer console and publish a new version';
    else if (code !== undefined && LARK_INVALID_TOKEN_CODES.has(code)) fix = 'the tenant token was refused even after a fresh one: check ROLLCALL_LARK_APP_ID and ROLLCALL_LARK_APP_SECRET';
    else if (code === undefined) fix = `the reply is not Lark's {code, msg, data}: check ROLLCALL_LARK_DOMAIN`;
    return new RollcallError('cloud-api', `${doing} failed (${detail}): ${fix}`);
  }

  /** The server's text, without our secret or token should a server echo them. */
  #clean(text: string): string {
    return redact(text, [this.#appSecret, this.#token.current]);
  }
}

/** Lark's `form` is a JSON string of the field list; a field that does not parse is Lark's fault, reported as such. */
function parseForm(form: string, instanceCode: string): LarkFormField[] {
  const parsed = z.array(LarkFormField).safeParse(parseJson(form));
  if (!parsed.success) throw new RollcallError('cloud-api', `the form of Lark approval instance ${instanceCode} is not a JSON list of {id, name, type, value}`);
  return parsed.data;
}

function retryable(reply: OpenApiReply): boolean {
  if (reply.status === 429 || reply.status >= 500) return true;
  const code = envelopeOf(reply).code;
  return code !== undefined && LARK_FREQUENCY_LIMIT_CODES.has(code);
}

function envelopeOf(reply: OpenApiReply): { code?: number; msg?: string } {
  const parsed = Envelope.safeParse(reply.body);
  return parsed.success ? { code: parsed.data.code, ...(parsed.data.msg !== undefined ? { msg: parsed.data.msg } : {}) } : {};
}

/** Lark's own reset hint (`x-ogw-ratelimit-reset`, seconds) when it gives one, capped; else the usual backoff. */
function delay(retry: number, random: number, last: OpenApiReply | undefined): number {
  const resetSeconds = Number(last?.headers.get('x-ogw-ratelimit-reset'));
  if (Number.isFinite(resetSeconds) && resetSeconds > 0) return Math.min(resetSeconds * 1000, MAX_DELAY_MS) + Math.round(random * 100);
  return backoffMs(retry, random);
}
