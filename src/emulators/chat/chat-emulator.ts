import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { RollcallError } from '../../config/errors.js';
import {
  checkDingtalkCallbackUrl,
  checkLarkCallbackUrl,
  deliverDingtalkCallback,
  deliverDingtalkCallbackToBus,
  deliverLarkCallback,
  deliverLarkCallbackToBus,
  type DingtalkCallbackTarget,
  type HttpDeliveryOutcome,
  type LarkCallbackTarget,
} from './deliver-callbacks.js';
import { createDingtalkStreamGateway, DINGTALK_GATEWAY_PATH, type DingtalkStreamEvent } from './dingtalk-stream-gateway.js';
import { createLarkLongConnection, LARK_ENDPOINT_PATH, type LarkClientConfig } from './lark-long-connection.js';
import {
  createChatOpenApi,
  dingtalkBusinessId,
  larkOpenId,
  listenChatServer,
  serve,
  type Answer,
  type ChatOpenApiEmulator,
  type ChatOpenApiEmulatorOptions,
  type DingtalkInstance,
  type LarkInstance,
} from './open-api-emulator.js';
import { groupPage } from './group-page.js';
import type { PushOutcome } from './redelivery.js';
import { createRobotWebhooks, isRobotPath, readRobotRequest, type RobotWebhooks, type RobotWebhooksOptions } from './robot-webhooks.js';

/**
 * The whole chat emulator on one HTTP server: the open APIs (open-api-emulator.ts), and events
 * delivered the ways the platforms deliver them when an instance completes or someone leaves:
 * signed HTTP callbacks, DingTalk's Stream gateway, Lark's long connection. A small control API
 * (`/emulator/…`) lets `rollcall approve` drive it. See README.md.
 */

export type ChatPlatform = 'dingtalk' | 'lark';

/**
 * Which delivery paths are on, per platform. `eventbridge`: the same signed callback as
 * `callback`, posted to an EventBridge HTTPS event source's webhook URL (the platform's event
 * subscription pointed at the stack's source, as in production); delivered when the bus answers 2xx.
 */
export interface ChatDeliveries {
  dingtalk?: { callback?: DingtalkCallbackTarget; stream?: boolean; eventbridge?: DingtalkCallbackTarget };
  lark?: { callback?: LarkCallbackTarget; longConnection?: boolean; eventbridge?: LarkCallbackTarget };
}

/** One path's outcome for one event. */
export interface Delivery {
  via: 'http' | 'stream' | 'long-connection' | 'eventbridge';
  ok: boolean;
  /** HTTP: the last attempt's status. */
  status?: number;
  /** HTTP attempts, or pushes over a connection. */
  attempts: number;
  error?: string;
}

export interface ChatEmulatorOptions extends ChatOpenApiEmulatorOptions {
  dingtalk: ChatOpenApiEmulatorOptions['dingtalk'] & {
    /** Default: `ding` and 16 random hex digits. */
    corpId?: string;
  };
  lark: ChatOpenApiEmulatorOptions['lark'] & {
    /** Default: 16 random hex digits. */
    tenantKey?: string;
    /** `token` of events pushed over the long connection when no callback sets one. */
    verificationToken?: string;
  };
  /** The paths on at start; `configureDeliveries` changes them later. Default: none. */
  deliveries?: ChatDeliveries;
  /** The groups' DingTalk robots and Lark bots (robot-webhooks.ts). Default: none. */
  robots?: RobotWebhooksOptions['robots'];
  timing?: {
    /** Stream and long connection: an unacknowledged event is pushed again after this. Default 3000. */
    ackTimeoutMs?: number;
    /** Stream and long connection: give up (report failed) after this. Default 60 000. */
    giveUpAfterMs?: number;
    /** DingTalk SYSTEM ping period. Default 30 000. */
    pingIntervalMs?: number;
    /** Gateway tickets and Lark URLs live this long. Default 90 000. */
    ticketLifetimeMs?: number;
    /** HTTP callbacks: waits between attempts. Default [500, 2000, 5000]. */
    retryDelaysMs?: number[];
    /** The ClientConfig Lark's endpoint and pongs hand out (seconds). Default Lark's: 120, -1, 120, 30. */
    larkClientConfig?: Partial<LarkClientConfig>;
  };
}

/** `POST /emulator/approvals`, and `approve()`. */
export interface ApprovalInput {
  platform: ChatPlatform;
  /** DingTalk processCode or Lark approvalCode. */
  code: string;
  originator: string;
  approvers: string[];
  form: Record<string, string>;
  /** Default agree. Lark: agree → APPROVED, refuse → REJECTED. */
  result?: 'agree' | 'refuse';
}

/** The emulator; usable wherever a ChatOpenApiEmulator is (its `complete` methods return the deliveries). */
export interface ChatEmulator extends Omit<ChatOpenApiEmulator, 'dingtalk' | 'lark'> {
  readonly dingtalk: Omit<ChatOpenApiEmulator['dingtalk'], 'complete'> & {
    /** Completes the instance and delivers `bpms_instance_change` on every path that is on. */
    complete(id: string, result: 'agree' | 'refuse'): Promise<Delivery[]>;
    /** Open Stream connections. */
    readonly streamConnections: number;
    /** Pushes any event over the stream, whatever `deliveries` say (tests of odd frames). */
    pushStreamEvent(event: DingtalkStreamEvent): Promise<Delivery>;
  };
  readonly lark: Omit<ChatOpenApiEmulator['lark'], 'complete'> & {
    /** Completes the instance and delivers `approval_instance` on every path that is on, if its approval code is subscribed. */
    complete(code: string, status: 'APPROVED' | 'REJECTED'): Promise<Delivery[]>;
    readonly longConnections: number;
    /** Pings the long connection answered. */
    readonly pings: number;
  };
  /** Creates an instance, completes it and delivers its event. */
  approve(input: ApprovalInput): Promise<{ instanceId: string; deliveries: Delivery[] }>;
  /** Someone left: DingTalk `user_leave_org`, Lark `contact.user.deleted_v3`. */
  userLeft(platform: ChatPlatform, userId: string): Promise<Delivery[]>;
  /** Replaces the delivery paths of each platform given (the others stay). */
  configureDeliveries(deliveries: ChatDeliveries): void;
  readonly deliveries: Readonly<ChatDeliveries>;
  /** The URL check a platform's console runs when the callback URL is saved. */
  checkCallbackUrl(platform: ChatPlatform): Promise<HttpDeliveryOutcome>;
  /** Cuts every Stream and long connection (the platforms do now and then); clients reconnect. */
  dropConnections(): void;
  /** `ws://127.0.0.1:P`. */
  readonly wsUrl: string;
  /** The groups' robots (`POST /robot/send`, `POST /open-apis/bot/v2/hook/:token`) and what they accepted; `GET /chat` shows it. */
  readonly robots: RobotWebhooks;
}

/** The control API's paths. */
export const CHAT_CONTROL_PATHS = { config: '/emulator', approvals: '/emulator/approvals', usersLeft: '/emulator/users/left' } as const;

const ApprovalRequest = z
  .object({
    platform: z.enum(['dingtalk', 'lark']),
    code: z.string().min(1),
    originator: z.string().min(1),
    approvers: z.array(z.string().min(1)).min(1),
    form: z.record(z.string(), z.string()),
    result: z.enum(['agree', 'refuse']).default('agree'),
  })
  .strict();

const UserLeftRequest = z.object({ platform: z.enum(['dingtalk', 'lark']), userId: z.string().min(1) }).strict();

/** Starts the chat emulator on 127.0.0.1 (`port` 0: a free one). */
export async function startChatEmulator(options: ChatEmulatorOptions): Promise<ChatEmulator> {
  const timing = options.timing ?? {};
  const corpId = options.dingtalk.corpId ?? `ding${randomBytes(8).toString('hex')}`;
  const tenantKey = options.lark.tenantKey ?? randomBytes(8).toString('hex');
  const deliveries: ChatDeliveries = { dingtalk: { ...options.deliveries?.dingtalk }, lark: { ...options.deliveries?.lark } };
  const aborter = new AbortController();
  const core = createChatOpenApi(options);
  let wsBase = '';
  const gateway = createDingtalkStreamGateway({
    appKey: options.dingtalk.appKey,
    appSecret: options.dingtalk.appSecret,
    corpId,
    unifiedAppId: randomUUID(),
    wsBase: () => wsBase,
    ...definedOnly({ ackTimeoutMs: timing.ackTimeoutMs, giveUpAfterMs: timing.giveUpAfterMs, pingIntervalMs: timing.pingIntervalMs, ticketLifetimeMs: timing.ticketLifetimeMs }),
  });
  const longConnection = createLarkLongConnection({
    appId: options.lark.appId,
    appSecret: options.lark.appSecret,
    wsBase: () => wsBase,
    ...definedOnly({ ackTimeoutMs: timing.ackTimeoutMs, giveUpAfterMs: timing.giveUpAfterMs, ticketLifetimeMs: timing.ticketLifetimeMs, clientConfig: timing.larkClientConfig }),
  });
  const httpOptions = () => ({ signal: aborter.signal, ...definedOnly({ retryDelaysMs: timing.retryDelaysMs }) });
  const larkToken = () => deliveries.lark?.callback?.verificationToken ?? deliveries.lark?.eventbridge?.verificationToken ?? options.lark.verificationToken ?? '';

  /** `httpEvent` gets the stream's eventId: HTTP pushes of some events carry it, of others not. */
  async function deliverDingtalk(eventType: string, streamData: object, httpEvent: (eventId: string) => object): Promise<Delivery[]> {
    const eventId = randomBytes(16).toString('hex');
    const { callback, stream, eventbridge } = deliveries.dingtalk ?? {};
    const runs: Array<Promise<Delivery>> = [];
    if (callback !== undefined) runs.push(deliverDingtalkCallback(callback, options.dingtalk.appKey, httpEvent(eventId), httpOptions()).then((outcome) => fromHttp(outcome)));
    if (eventbridge !== undefined) runs.push(deliverDingtalkCallbackToBus(eventbridge, options.dingtalk.appKey, httpEvent(eventId), httpOptions()).then((outcome) => fromHttp(outcome, 'eventbridge')));
    if (stream === true) runs.push(gateway.push({ eventType, eventId, bornAt: Date.now(), data: streamData }).then((outcome) => fromPush('stream', outcome)));
    return Promise.all(runs);
  }

  async function deliverLark(envelope: (token: string) => object, eventId: string): Promise<Delivery[]> {
    const { callback, longConnection: connected, eventbridge } = deliveries.lark ?? {};
    const runs: Array<Promise<Delivery>> = [];
    if (callback !== undefined) runs.push(deliverLarkCallback(callback, envelope(callback.verificationToken), httpOptions()).then((outcome) => fromHttp(outcome)));
    if (eventbridge !== undefined) runs.push(deliverLarkCallbackToBus(eventbridge, envelope(eventbridge.verificationToken), httpOptions()).then((outcome) => fromHttp(outcome, 'eventbridge')));
    if (connected === true) runs.push(longConnection.push(eventId, envelope(larkToken())).then((outcome) => fromPush('long-connection', outcome)));
    return Promise.all(runs);
  }

  function dingtalkFinished(instance: Readonly<DingtalkInstance>): Promise<Delivery[]> {
    const data = {
      processInstanceId: instance.id,
      corpId,
      processCode: instance.processCode,
      type: 'finish',
      result: instance.result,
      staffId: instance.originatorUserId,
      title: instance.title,
      createTime: instance.createdAt,
      finishTime: instance.finishedAt,
      businessId: dingtalkBusinessId(instance.id),
      bizCategoryId: '',
      url: `https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm?dinghash=approval&procInstId=${instance.id}`,
    };
    return deliverDingtalk('bpms_instance_change', data, (eventId) => ({ EventType: 'bpms_instance_change', CorpId: corpId, eventId, ...data }));
  }

  async function larkFinished(instance: Readonly<LarkInstance>): Promise<Delivery[]> {
    const { callback, longConnection: connected, eventbridge } = deliveries.lark ?? {};
    if (!core.api.lark.subscriptions.has(instance.approvalCode)) {
      // As the platform: approval_instance is sent only for approval codes the app subscribed to.
      const error = `approval code ${instance.approvalCode} is not subscribed (POST /open-apis/approval/v4/approvals/${instance.approvalCode}/subscribe): Lark sends no event for it`;
      return [
        ...(callback !== undefined ? [{ via: 'http' as const, ok: false, attempts: 0, error }] : []),
        ...(connected === true ? [{ via: 'long-connection' as const, ok: false, attempts: 0, error }] : []),
        ...(eventbridge !== undefined ? [{ via: 'eventbridge' as const, ok: false, attempts: 0, error }] : []),
      ];
    }
    const eventId = randomUUID();
    const now = Date.now();
    const envelope = (token: string) => ({
      uuid: eventId,
      token,
      ts: (now / 1000).toFixed(6),
      type: 'event_callback',
      event: {
        app_id: options.lark.appId,
        tenant_key: tenantKey,
        type: 'approval_instance',
        approval_code: instance.approvalCode,
        instance_code: instance.code,
        status: instance.status,
        operate_time: String(instance.endTime ?? now),
        uuid: randomBytes(4).toString('hex'),
      },
    });
    return deliverLark(envelope, eventId);
  }

  function userLeft(platform: ChatPlatform, userId: string): Promise<Delivery[]> {
    const now = Date.now();
    if (platform === 'dingtalk') {
      return deliverDingtalk('user_leave_org', { timeStamp: now, userId: [userId] }, () => ({ EventType: 'user_leave_org', TimeStamp: String(now), UserId: [userId], CorpId: corpId }));
    }
    const eventId = randomBytes(16).toString('hex');
    const user = { open_id: larkOpenId(userId), user_id: userId, union_id: `on_${randomBytes(16).toString('hex')}`, name: userId };
    const envelope = (token: string) => ({
      schema: '2.0',
      header: { event_id: eventId, event_type: 'contact.user.deleted_v3', create_time: String(now), token, app_id: options.lark.appId, tenant_key: tenantKey },
      event: { object: user, old_object: { department_ids: [] } },
    });
    return deliverLark(envelope, eventId);
  }

  const emulator: Omit<ChatEmulator, 'url' | 'wsUrl' | 'close' | 'robots'> = {
    ...core.api,
    dingtalk: {
      createInstance: core.api.dingtalk.createInstance,
      complete(id, result) {
        core.api.dingtalk.complete(id, result);
        return dingtalkFinished(core.dingtalkInstance(id)!);
      },
      get streamConnections() {
        return gateway.connections;
      },
      async pushStreamEvent(event) {
        return fromPush('stream', await gateway.push(event));
      },
    },
    lark: {
      createInstance: core.api.lark.createInstance,
      subscriptions: core.api.lark.subscriptions,
      complete(code, status) {
        core.api.lark.complete(code, status);
        return larkFinished(core.larkInstance(code)!);
      },
      get longConnections() {
        return longConnection.connections;
      },
      get pings() {
        return longConnection.pings;
      },
    },
    async approve(input) {
      const result = input.result ?? 'agree';
      if (input.platform === 'dingtalk') {
        const instanceId = emulator.dingtalk.createInstance({ processCode: input.code, originatorUserId: input.originator, form: input.form, approvers: input.approvers });
        return { instanceId, deliveries: await emulator.dingtalk.complete(instanceId, result) };
      }
      const instanceId = emulator.lark.createInstance({ approvalCode: input.code, userId: input.originator, form: input.form, approvers: input.approvers });
      return { instanceId, deliveries: await emulator.lark.complete(instanceId, result === 'agree' ? 'APPROVED' : 'REJECTED') };
    },
    userLeft,
    dropConnections() {
      gateway.dropConnections();
      longConnection.dropConnections();
    },
    configureDeliveries(next) {
      if (next.dingtalk !== undefined) deliveries.dingtalk = { ...next.dingtalk };
      if (next.lark !== undefined) deliveries.lark = { ...next.lark };
    },
    get deliveries() {
      return deliveries;
    },
    async checkCallbackUrl(platform) {
      if (platform === 'dingtalk') {
        const callback = deliveries.dingtalk?.callback;
        if (callback === undefined) throw new RollcallError('invalid-input', 'no DingTalk callback is configured: configureDeliveries({dingtalk: {callback: {url, token, aesKey}}}) first');
        return checkDingtalkCallbackUrl(callback, options.dingtalk.appKey, { signal: aborter.signal });
      }
      const callback = deliveries.lark?.callback;
      if (callback === undefined) throw new RollcallError('invalid-input', 'no Lark callback is configured: configureDeliveries({lark: {callback: {url, verificationToken}}}) first');
      return checkLarkCallbackUrl(callback, { signal: aborter.signal });
    },
  };

  async function control(method: string, url: URL, body: unknown): Promise<Answer | undefined> {
    if (url.pathname === CHAT_CONTROL_PATHS.config && method === 'GET') {
      return { status: 200, body: describe() };
    }
    if (url.pathname === CHAT_CONTROL_PATHS.approvals && method === 'POST') {
      const parsed = ApprovalRequest.safeParse(body);
      if (!parsed.success) return badRequest(parsed.error, 'POST /emulator/approvals takes {platform: "dingtalk"|"lark", code, originator, approvers: [ids], form: {label: value}, result?: "agree"|"refuse"}');
      return { status: 200, body: await emulator.approve(parsed.data) };
    }
    if (url.pathname === CHAT_CONTROL_PATHS.usersLeft && method === 'POST') {
      const parsed = UserLeftRequest.safeParse(body);
      if (!parsed.success) return badRequest(parsed.error, 'POST /emulator/users/left takes {platform: "dingtalk"|"lark", userId}');
      return { status: 200, body: { deliveries: await userLeft(parsed.data.platform, parsed.data.userId) } };
    }
    if (url.pathname.startsWith('/emulator')) return { status: 404, body: { error: `no ${method} ${url.pathname}; the control API is GET /emulator, POST /emulator/approvals, POST /emulator/users/left` } };
    return undefined;
  }

  /** Counts a request to a connection endpoint in `calls`, as the open APIs count theirs. */
  function count(path: string, answer: Answer): Answer {
    core.api.calls.set(path, (core.api.calls.get(path) ?? 0) + 1);
    return answer;
  }

  function describe(): object {
    const { dingtalk = {}, lark = {} } = deliveries;
    return {
      url: server.url,
      dingtalk: {
        apiBase: server.url,
        appKey: options.dingtalk.appKey,
        corpId,
        gateway: `${server.url}${DINGTALK_GATEWAY_PATH}`,
        callback: dingtalk.callback?.url ?? null,
        eventbridge: dingtalk.eventbridge?.url ?? null,
        stream: dingtalk.stream === true,
        streamConnections: gateway.connections,
      },
      lark: {
        domain: server.url,
        appId: options.lark.appId,
        tenantKey,
        callback: lark.callback?.url ?? null,
        eventbridge: lark.eventbridge?.url ?? null,
        encrypted: (lark.callback ?? lark.eventbridge)?.encryptKey !== undefined,
        longConnection: lark.longConnection === true,
        longConnections: longConnection.connections,
        subscriptions: [...core.api.lark.subscriptions],
      },
    };
  }

  const robots = createRobotWebhooks({ robots: options.robots ?? { dingtalk: [], lark: [] } });
  const page = groupPage(robots);
  const server = await listenChatServer(options.port, async (request, response) => {
    // The robots read their own raw bodies (their limits count bytes); the page streams.
    if (isRobotPath(request.url ?? '/')) {
      const answer = robots.handle(await readRobotRequest(request));
      if (answer) {
        response.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
        response.end(JSON.stringify(answer.body));
        return;
      }
    }
    if (page.handle(request, response)) return;
    return serve(request, response, async (method, url, body, headers) => {
      if (url.pathname === DINGTALK_GATEWAY_PATH && method === 'POST') return count(DINGTALK_GATEWAY_PATH, gateway.open(body));
      if (url.pathname === LARK_ENDPOINT_PATH && method === 'POST') return count(LARK_ENDPOINT_PATH, longConnection.endpoint(body));
      return (await control(method, url, body)) ?? core.handle(method, url, body, headers);
    });
  });
  wsBase = server.url.replace(/^http/, 'ws');
  server.server.on('upgrade', (request, socket, head: Buffer) => {
    if (!gateway.upgrade(request, socket, head) && !longConnection.upgrade(request, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
    }
  });

  return {
    ...emulator,
    url: server.url,
    wsUrl: wsBase,
    robots,
    async close() {
      aborter.abort();
      page.close();
      gateway.close();
      longConnection.close();
      await server.close();
    },
  };
}

function fromHttp(outcome: HttpDeliveryOutcome, via: 'http' | 'eventbridge' = 'http'): Delivery {
  return { via, ...outcome };
}

function fromPush(via: 'stream' | 'long-connection', outcome: PushOutcome): Delivery {
  return { via, ok: outcome.ok, attempts: outcome.pushes, ...(outcome.error !== undefined ? { error: outcome.error } : {}) };
}

function badRequest(error: z.ZodError, usage: string): Answer {
  const problems = error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`);
  return { status: 400, body: { error: `${problems.join('; ')}. ${usage}`, problems } };
}

/** The object without its undefined values (the options below take absent, not undefined). */
function definedOnly<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
