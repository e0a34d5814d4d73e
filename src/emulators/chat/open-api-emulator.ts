import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RollcallError } from '../../config/errors.js';

/**
 * DingTalk's and Lark's open-API endpoints that rollcall calls, on one local server, with
 * approval instances a test creates and completes. The wire formats are the documented ones
 * (see README.md), so the real clients and SDKs talk to it unchanged.
 */

export interface ChatOpenApiEmulatorOptions {
  /** 0 (the default) picks a free port; 127.0.0.1 only. */
  port?: number;
  dingtalk: { appKey: string; appSecret: string };
  lark: { appId: string; appSecret: string };
  /** Lifetime of issued tokens, in seconds. Default 7200, as both platforms. */
  tokenLifetimeSeconds?: number;
}

export interface DingtalkInstanceInput {
  processCode: string;
  originatorUserId: string;
  form: Record<string, string>;
  approvers: string[];
  title?: string;
}

export interface LarkInstanceInput {
  approvalCode: string;
  userId: string;
  form: Record<string, string>;
  approvers: string[];
}

export interface ChatOpenApiEmulator {
  /** `http://127.0.0.1:P`: DingTalk's base URL and Lark's domain both. */
  readonly url: string;
  readonly dingtalk: {
    /** A running instance; returns its processInstanceId. */
    createInstance(input: DingtalkInstanceInput): string;
    /** Every approver acts with `result`; the instance becomes COMPLETED with that result. */
    complete(id: string, result: 'agree' | 'refuse'): void;
  };
  readonly lark: {
    /** A PENDING instance; returns its instance code. */
    createInstance(input: LarkInstanceInput): string;
    complete(code: string, status: 'APPROVED' | 'REJECTED'): void;
    /** Approval codes subscribed so far. */
    readonly subscriptions: ReadonlySet<string>;
  };
  /** Requests per endpoint path (the documented path, `:param` for path parameters). */
  readonly calls: Map<string, number>;
  /** The next `n` requests to `path` (a key of `calls`) get the platform's rate-limit reply. */
  setRateLimit(path: string, n: number): void;
  /** Makes every token issued so far invalid, as if it had expired. */
  expireTokens(): void;
  close(): Promise<void>;
}

/** The endpoint paths, as `calls` and `setRateLimit` name them. */
export const CHAT_API_PATHS = {
  dingtalkToken: '/v1.0/oauth2/accessToken',
  dingtalkInstance: '/v1.0/workflow/processInstances',
  larkToken: '/open-apis/auth/v3/tenant_access_token/internal',
  larkInstance: '/open-apis/approval/v4/instances/:instance_id',
  larkSubscribe: '/open-apis/approval/v4/approvals/:approval_code/subscribe',
} as const;

/** A JSON reply of one of the emulator's endpoints. */
export interface Answer {
  status: number;
  body: object;
  headers?: Record<string, string>;
}

/** A DingTalk instance as the emulator keeps it. */
export interface DingtalkInstance {
  id: string;
  processCode: string;
  title: string;
  originatorUserId: string;
  createTime: string;
  finishTime?: string;
  /** Epoch ms of createTime and finishTime (events carry those, the API minutes). */
  createdAt: number;
  finishedAt?: number;
  status: 'RUNNING' | 'COMPLETED';
  result: '' | 'agree' | 'refuse';
  form: Record<string, string>;
  approvers: string[];
}

/** A Lark instance as the emulator keeps it. */
export interface LarkInstance {
  code: string;
  approvalCode: string;
  userId: string;
  startTime: number;
  endTime?: number;
  status: 'PENDING' | 'APPROVED' | 'REJECTED';
  form: Record<string, string>;
  approvers: string[];
}

/** Starts the emulator (the open APIs alone; `startChatEmulator` adds event delivery). */
export async function startChatOpenApiEmulator(options: ChatOpenApiEmulatorOptions): Promise<ChatOpenApiEmulator> {
  const core = createChatOpenApi(options);
  const server = await listenChatServer(options.port, (request, response) => serve(request, response, async (method, url, body, headers) => core.handle(method, url, body, headers)));
  return { ...core.api, url: server.url, close: server.close };
}

/** The open APIs without a server: their request handler and the test-facing API. */
export interface ChatOpenApi {
  handle(method: string, url: URL, body: unknown, headers: IncomingMessage['headers']): Answer;
  api: Omit<ChatOpenApiEmulator, 'url' | 'close'>;
  dingtalkInstance(id: string): Readonly<DingtalkInstance> | undefined;
  larkInstance(code: string): Readonly<LarkInstance> | undefined;
}

/** The open APIs' state and request handler, for a server that also serves other endpoints. */
export function createChatOpenApi(options: Omit<ChatOpenApiEmulatorOptions, 'port'>): ChatOpenApi {
  const lifetime = options.tokenLifetimeSeconds ?? 7200;
  const dingtalkTokens = new Map<string, number>();
  const larkTokens = new Map<string, number>();
  const dingtalkInstances = new Map<string, DingtalkInstance>();
  const larkInstances = new Map<string, LarkInstance>();
  const subscriptions = new Set<string>();
  const calls = new Map<string, number>();
  const rateLimits = new Map<string, number>();

  const issue = (tokens: Map<string, number>, prefix: string) => {
    const token = prefix + randomBytes(16).toString('hex');
    tokens.set(token, Date.now() + lifetime * 1000);
    return token;
  };
  const valid = (tokens: Map<string, number>, token: string | undefined) => token !== undefined && (tokens.get(token) ?? 0) > Date.now();

  const limited = (path: string): boolean => {
    const left = rateLimits.get(path) ?? 0;
    if (left <= 0) return false;
    rateLimits.set(path, left - 1);
    return true;
  };

  const dingtalkError = (status: number, code: string, message: string): Answer => ({ status, body: { requestid: randomUUID().toUpperCase(), code, message } });
  const larkError = (status: number, code: number, msg: string): Answer => ({ status, body: { code, msg, error: { log_id: randomBytes(12).toString('hex') } } });

  const handle = (method: string, url: URL, body: unknown, headers: IncomingMessage['headers']): Answer => {
    const path = url.pathname;
    if (path.startsWith('/v1.0/')) return handleDingtalk(method, path, url, body, headers);
    if (path.startsWith('/open-apis/')) return handleLark(method, path, body, headers);
    return { status: 404, body: { error: `not found: ${path}` } };
  };

  function count(path: string): void {
    calls.set(path, (calls.get(path) ?? 0) + 1);
  }

  function handleDingtalk(method: string, path: string, url: URL, body: unknown, headers: IncomingMessage['headers']): Answer {
    if (path === CHAT_API_PATHS.dingtalkToken && method === 'POST') {
      count(path);
      if (limited(path)) return dingtalkError(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '请求被流控，请稍后重试');
      const { appKey, appSecret } = (body ?? {}) as { appKey?: unknown; appSecret?: unknown };
      if (typeof appKey !== 'string' || typeof appSecret !== 'string') return dingtalkError(400, 'MissingParameter', 'appKey and appSecret are required');
      if (appKey !== options.dingtalk.appKey) return dingtalkError(400, 'invalidClientId', '无效的clientId');
      if (appSecret !== options.dingtalk.appSecret) return dingtalkError(400, 'invalidClientSecret', '无效的clientSecret');
      return { status: 200, body: { accessToken: issue(dingtalkTokens, ''), expireIn: lifetime } };
    }
    if (path === CHAT_API_PATHS.dingtalkInstance && method === 'GET') {
      count(path);
      if (limited(path)) return dingtalkError(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '请求被流控，请稍后重试');
      const token = headerOf(headers, 'x-acs-dingtalk-access-token');
      if (!valid(dingtalkTokens, token)) return dingtalkError(401, 'InvalidAuthentication', '不合法的access_token');
      const id = url.searchParams.get('processInstanceId');
      const instance = id === null ? undefined : dingtalkInstances.get(id);
      if (instance === undefined) return dingtalkError(400, 'InvalidParameter.ProcessInstanceId', `processInstanceId ${id ?? ''} not found`);
      return { status: 200, body: { result: renderDingtalk(instance), success: true } };
    }
    return { status: 404, body: { code: 'InvalidAction.NotFound', message: `no ${method} ${path}` } };
  }

  function handleLark(method: string, path: string, body: unknown, headers: IncomingMessage['headers']): Answer {
    if (path === CHAT_API_PATHS.larkToken && method === 'POST') {
      count(path);
      if (limited(path)) return { ...larkError(429, 99991400, 'request trigger frequency limit'), headers: { 'x-ogw-ratelimit-reset': '1' } };
      const { app_id: appId, app_secret: appSecret } = (body ?? {}) as { app_id?: unknown; app_secret?: unknown };
      if (typeof appId !== 'string' || typeof appSecret !== 'string' || appId !== options.lark.appId) return larkError(400, 10003, 'invalid param');
      if (appSecret !== options.lark.appSecret) return larkError(400, 10014, 'app secret invalid');
      return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: issue(larkTokens, 't-'), expire: lifetime } };
    }
    const instanceMatch = /^\/open-apis\/approval\/v4\/instances\/([^/]+)$/.exec(path);
    const subscribeMatch = /^\/open-apis\/approval\/v4\/approvals\/([^/]+)\/subscribe$/.exec(path);
    const route = instanceMatch && method === 'GET' ? CHAT_API_PATHS.larkInstance : subscribeMatch && method === 'POST' ? CHAT_API_PATHS.larkSubscribe : undefined;
    if (route === undefined) return { status: 404, body: { code: 404, msg: '404 page not found' } };
    count(route);
    if (limited(route)) return { ...larkError(429, 99991400, 'request trigger frequency limit'), headers: { 'x-ogw-ratelimit-reset': '1' } };
    const authorization = headerOf(headers, 'authorization');
    if (authorization === undefined || !authorization.startsWith('Bearer ')) return larkError(400, 99991661, 'Missing access token for authorization. Please make a request with token attached.');
    if (!valid(larkTokens, authorization.slice('Bearer '.length))) return larkError(400, 99991663, 'Invalid access token for authorization. Please make a request with token attached.');
    if (instanceMatch) {
      const instance = larkInstances.get(decodeURIComponent(instanceMatch[1]!));
      if (instance === undefined) return larkError(400, 1390003, 'instance code not found');
      return { status: 200, body: { code: 0, msg: 'success', data: renderLark(instance) } };
    }
    const approvalCode = decodeURIComponent(subscribeMatch![1]!);
    if (subscriptions.has(approvalCode)) return larkError(400, 1390007, 'subscription existed');
    subscriptions.add(approvalCode);
    return { status: 200, body: { code: 0, msg: 'success', data: {} } };
  }

  let sequence = 0;
  const api: ChatOpenApi['api'] = {
    calls,
    dingtalk: {
      createInstance(input) {
        const id = `${randomBytes(4).toString('hex')}-${String(++sequence).padStart(4, '0')}-proc`;
        const now = new Date();
        dingtalkInstances.set(id, {
          id,
          processCode: input.processCode,
          title: input.title ?? `${input.originatorUserId} submitted ${input.processCode}`,
          originatorUserId: input.originatorUserId,
          createTime: isoMinute(now),
          createdAt: now.getTime(),
          status: 'RUNNING',
          result: '',
          form: { ...input.form },
          approvers: [...input.approvers],
        });
        return id;
      },
      complete(id, result) {
        const instance = dingtalkInstances.get(id);
        if (instance === undefined) throw new RollcallError('invalid-input', `no DingTalk instance ${id} in the emulator`);
        const now = new Date();
        instance.status = 'COMPLETED';
        instance.result = result;
        instance.finishTime = isoMinute(now);
        instance.finishedAt = now.getTime();
      },
    },
    lark: {
      subscriptions,
      createInstance(input) {
        const code = randomUUID().toUpperCase();
        larkInstances.set(code, { code, approvalCode: input.approvalCode, userId: input.userId, startTime: Date.now(), status: 'PENDING', form: { ...input.form }, approvers: [...input.approvers] });
        return code;
      },
      complete(code, status) {
        const instance = larkInstances.get(code);
        if (instance === undefined) throw new RollcallError('invalid-input', `no Lark instance ${code} in the emulator`);
        instance.status = status;
        instance.endTime = Date.now();
      },
    },
    setRateLimit(path, n) {
      rateLimits.set(path, n);
    },
    expireTokens() {
      dingtalkTokens.clear();
      larkTokens.clear();
    },
  };
  return { handle, api, dingtalkInstance: (id) => dingtalkInstances.get(id), larkInstance: (code) => larkInstances.get(code) };
}

/** A listening emulator server on 127.0.0.1. */
export interface ChatServer {
  readonly server: Server;
  readonly url: string;
  readonly port: number;
  /** Stops listening and cuts every connection (WebSocket ones included). */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: a free port) with `handler`. */
export async function listenChatServer(port: number | undefined, handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Promise<ChatServer> {
  const server = createServer((request, response) => {
    void handler(request, response);
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new RollcallError('invalid-input', `the chat emulator cannot listen on port ${port ?? 0}: ${error.message}; choose another --port`, { cause: error })));
    server.listen(port ?? 0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  return {
    server,
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** DingTalk's `result` of GET processInstances. */
function renderDingtalk(instance: DingtalkInstance): object {
  const done = instance.status === 'COMPLETED';
  const taskResult = instance.result === 'agree' ? 'AGREE' : instance.result === 'refuse' ? 'REFUSE' : 'NONE';
  return {
    title: instance.title,
    businessId: dingtalkBusinessId(instance.id),
    originatorUserId: instance.originatorUserId,
    originatorDeptId: '1',
    status: instance.status,
    result: instance.result,
    createTime: instance.createTime,
    ...(instance.finishTime !== undefined ? { finishTime: instance.finishTime } : {}),
    approverUserIds: instance.approvers,
    ccUserIds: [],
    formComponentValues: Object.entries(instance.form).map(([name, value], index) => ({ id: `TextField-${index}`, name, value, componentType: 'TextField' })),
    tasks: instance.approvers.map((userId, index) => ({
      taskId: 1000 + index,
      userId,
      status: done ? 'COMPLETED' : 'RUNNING',
      result: taskResult,
      createTime: instance.createTime,
      ...(instance.finishTime !== undefined ? { finishTime: instance.finishTime } : {}),
      processInstanceId: instance.id,
    })),
    operationRecords: [
      { userId: instance.originatorUserId, date: instance.createTime, type: 'START_PROCESS_INSTANCE', result: 'NONE' },
      ...(done ? instance.approvers.map((userId) => ({ userId, date: instance.finishTime, type: 'EXECUTE_TASK_NORMAL', result: taskResult })) : []),
    ],
  };
}

/** Lark's `data` of GET approval/v4/instances/:id; `form` a JSON string, times epoch-ms strings. */
function renderLark(instance: LarkInstance): object {
  const done = instance.status !== 'PENDING';
  const fields = Object.entries(instance.form).map(([name, value], index) => ({ id: `widget${index + 1}`, custom_id: name, name, type: 'input', ext: null, value }));
  const openId = larkOpenId;
  return {
    approval_code: instance.approvalCode,
    approval_name: instance.approvalCode,
    instance_code: instance.code,
    serial_number: instance.code.slice(0, 8),
    uuid: instance.code.toLowerCase(),
    user_id: instance.userId,
    open_id: openId(instance.userId),
    department_id: '',
    start_time: String(instance.startTime),
    end_time: String(instance.endTime ?? 0),
    status: instance.status,
    form: JSON.stringify(fields),
    task_list: instance.approvers.map((userId, index) => ({
      id: String(7_000_000 + index),
      user_id: userId,
      open_id: openId(userId),
      status: done ? instance.status : 'PENDING',
      node_id: 'node-approve',
      node_name: 'Approval',
      type: 'AND',
      start_time: String(instance.startTime),
      end_time: String(instance.endTime ?? 0),
    })),
    comment_list: [],
    timeline: [
      { type: 'START', create_time: String(instance.startTime), user_id: instance.userId, open_id: openId(instance.userId), ext: '{}' },
      ...(done
        ? instance.approvers.map((userId, index) => ({
            type: instance.status === 'APPROVED' ? 'PASS' : 'REJECT',
            create_time: String(instance.endTime),
            user_id: userId,
            open_id: openId(userId),
            ext: '{}',
            task_id: String(7_000_000 + index),
          }))
        : []),
    ],
  };
}

/** The open_id the emulator gives a Lark user id (stable, `ou_` and 32 hex digits, as Lark's). */
export function larkOpenId(userId: string): string {
  return `ou_${Buffer.from(userId).toString('hex').padEnd(32, '0').slice(0, 32)}`;
}

/** The businessId the emulator gives a DingTalk instance (the API and the events agree). */
export function dingtalkBusinessId(instanceId: string): string {
  return instanceId.slice(0, 12);
}

/**
 * Reads a request whole, parses its body as JSON when it is (otherwise `undefined`), and sends the
 * handler's answer as JSON; a handler that throws gets a 500.
 */
export async function serve(request: IncomingMessage, response: ServerResponse, handle: (method: string, url: URL, body: unknown, headers: IncomingMessage['headers']) => Promise<Answer>): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  let answer: Answer;
  try {
    answer = await handle(request.method ?? 'GET', new URL(request.url ?? '/', 'http://127.0.0.1'), body, request.headers);
  } catch {
    answer = { status: 500, body: { error: 'internal error' } };
  }
  const payload = JSON.stringify(answer.body);
  response.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(payload)), ...answer.headers });
  response.end(payload);
}

export function headerOf(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** DingTalk's instance times: `2026-11-28T00:12Z` (ISO 8601 to the minute, UTC). */
function isoMinute(date: Date): string {
  return `${date.toISOString().slice(0, 16)}Z`;
}
