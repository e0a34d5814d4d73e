import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { RollcallError } from '../../config/errors.js';
import { createLogger, type Logger } from '../../config/logger.js';
import { BoundedLog } from './bounded-log.js';
import { BUS_LIMITS } from './bus-limits.js';
import { acceptEvent, httpSourceEvent, PublishedEvent, type BusEvent, type PublishContext } from './cloud-event-envelope.js';
import { loadTerraformRules, readTerraformRules, type BusConfig, type BusRules, type HttpSourceConfig, type RuleConfig } from './load-terraform-rules.js';
import { TargetDeliveries, type DeadLetter, type DeliveryAttempt } from './target-deliveries.js';
import { verifySignature } from './verify-signature.js';
import { generateAccessKey, listenOnLoopback, type AccessKeyPair } from '../local-server.js';

/**
 * The EventBridge emulator: buses that run a synthesized stack's rules. Events come in three
 * ways (PutEvents from `@alicloud/eventbridge`, requests to an HTTP event source's webhook, and
 * the control API's `/emulator/publish` for cloud services' own events), are matched against the
 * rules of their bus, and are pushed to the rules' targets with their transforms and retry
 * strategies. Everything is kept, bounded, for inspection. See README.md.
 */


export interface EventBridgeEmulatorOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /**
   * The stack: the path of its `cdk.tf.json`, the parsed Terraform JSON, or rules already read
   * (`readTerraformRules`). Default: no rules (the `default` bus only).
   */
  rules?: string | Record<string, unknown> | BusRules;
  /** Values of the stack's `${var.NAME}`; `TF_VAR_NAME` from `env` otherwise. */
  variables?: Readonly<Record<string, string>>;
  /** Where `TF_VAR_*` are read. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Target URLs to send elsewhere, by prefix: `{ 'https://rollcall.example.com': 'http://127.0.0.1:8080' }`
   * delivers what the stack sends to production to a local rollcall. The longest prefix wins.
   */
  redirects?: Readonly<Record<string, string>>;
  /** Default 1234567890123456 (the ECS emulator's). */
  accountId?: string;
  /** Default cn-hangzhou. */
  regionId?: string;
  /** Pairs PutEvents accepts; default one generated pair (the emulator's `accessKeyId`/`accessKeySecret`). */
  accessKeys?: readonly AccessKeyPair[];
  /**
   * Real milliseconds per second of the retry strategies' waits. Default 1000; tests use 1 so
   * that BACKOFF_RETRY's 10–20 s waits take 10–20 ms.
   */
  secondMs?: number;
  /** How long one push to a target may take (real milliseconds). Default 10 000. */
  attemptTimeoutMs?: number;
  /** Picks BACKOFF_RETRY's waits; default Math.random. */
  random?: () => number;
  /** How many of each record to keep (the latest). Default 1000 events, 5000 attempts, 1000 dead letters. */
  keep?: { events?: number; deliveries?: number; deadLetters?: number };
  log?: Logger;
}

/** An event the bus accepted, with how it came and which rules it matched. */
export interface AcceptedEvent {
  via: 'putEvents' | 'http-source' | 'publish';
  event: BusEvent;
  /** Names of the enabled rules of its bus that matched it. */
  matchedRules: string[];
}

/** An HTTP event source as served: its webhook URL. */
export interface ServedHttpSource extends HttpSourceConfig {
  /** POST (or the source's methods) here; any body becomes one event. */
  webhookUrl: string;
}

export interface EventBridgeEmulator {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `127.0.0.1:PORT`: the SDK's `endpoint` (with `protocol: 'http'`). */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly accountId: string;
  readonly regionId: string;
  readonly buses: readonly BusConfig[];
  readonly rules: readonly RuleConfig[];
  readonly sources: readonly ServedHttpSource[];
  /** Where cloud services' own events go (the ECS emulator's `eventsUrl`): `${url}/emulator/publish`. */
  readonly publishUrl: string;
  /** The webhook URL of the HTTP event source with this name. @throws when there is none. */
  webhookUrl(sourceName: string): string;
  /** Puts one event on its bus (`aliyuneventbusname`, default `default`) as a cloud service would. */
  publish(event: unknown, publishAddr?: string): AcceptedEvent;
  /** Accepted events, oldest first. */
  events(): AcceptedEvent[];
  /** Attempts to push to targets, oldest first. */
  deliveries(): DeliveryAttempt[];
  /** Events targets never took. */
  deadLetters(): DeadLetter[];
  /** Waits until every push started so far has been delivered or given up on. */
  flush(): Promise<void>;
  /** Stops serving; retries still waiting are dropped. */
  close(): Promise<void>;
}

/** The control API's paths. */
export const EVENTBRIDGE_PATHS = {
  putEvents: '/openapi/putEvents',
  webhook: '/webhook/putEvents',
  summary: '/emulator',
  publish: '/emulator/publish',
  events: '/emulator/events',
  deliveries: '/emulator/deliveries',
  deadLetters: '/emulator/dead-letters',
} as const;

const DEFAULT_ACCOUNT = '1234567890123456';
const DEFAULT_REGION = 'cn-hangzhou';

/**
 * Starts the emulator on 127.0.0.1.
 *
 * ```ts
 * const bus = await startEventBridgeEmulator({ rules: 'cdktf.out/stacks/rollcall/cdk.tf.json',
 *   redirects: { 'https://rollcall.example.com': 'http://127.0.0.1:8080' } });
 * const client = new EventBridge(new Config({ accessKeyId: bus.accessKeyId, accessKeySecret: bus.accessKeySecret,
 *   endpoint: bus.endpoint, protocol: 'http' }));
 * ```
 *
 * @throws RollcallError('invalid-input') when the rules cannot be read (every problem listed) or the port is taken.
 */
export async function startEventBridgeEmulator(options: EventBridgeEmulatorOptions = {}): Promise<EventBridgeEmulator> {
  const log = options.log ?? createLogger({ ROLLCALL_LOG_LEVEL: 'silent' });
  const accountId = options.accountId ?? DEFAULT_ACCOUNT;
  const regionId = options.regionId ?? DEFAULT_REGION;
  const accessKeys = options.accessKeys && options.accessKeys.length > 0 ? [...options.accessKeys] : [generateAccessKey()];
  const secrets = new Map(accessKeys.map((key) => [key.accessKeyId, key.accessKeySecret]));
  const stack = await readRules(options);
  for (const bus of stack.buses) {
    if (!bus.declared) log.warn({ bus: bus.name }, 'EventBridge emulator: a rule or source names a bus the stack does not create; the emulator serves it as if it existed');
  }
  const busNames = new Set(stack.buses.map((bus) => bus.name));
  const redirect = redirector(options.redirects ?? {});
  const deliveries = new TargetDeliveries({
    secondMs: options.secondMs ?? 1000,
    attemptTimeoutMs: options.attemptTimeoutMs ?? 10_000,
    redirect,
    random: options.random ?? Math.random,
    log,
    keep: { deliveries: options.keep?.deliveries ?? 5000, deadLetters: options.keep?.deadLetters ?? 1000 },
  });
  const accepted = new BoundedLog<AcceptedEvent>(options.keep?.events ?? 1000);
  const tokens = new Map<string, HttpSourceConfig>(stack.sources.map((source) => [randomBytes(12).toString('hex'), source]));

  const route = (event: BusEvent, via: AcceptedEvent['via']): AcceptedEvent => {
    const matched = stack.rules.filter((rule) => rule.enabled && rule.busName === event.aliyuneventbusname && rule.match(event));
    const record: AcceptedEvent = { via, event, matchedRules: matched.map((rule) => rule.name) };
    accepted.push(record);
    log.debug({ eventId: event.id, bus: event.aliyuneventbusname, source: event.source, type: event.type, via, rules: record.matchedRules }, 'EventBridge emulator: event accepted');
    for (const rule of matched) for (const target of rule.targets) deliveries.deliver(event, rule, target);
    return record;
  };
  const context = (publishAddr: string): PublishContext => ({ accountId, regionId, publishAddr, now: new Date() });

  /** Validates and accepts one published event, or says why not (an SDK-style error code and message). */
  const admit = (candidate: unknown, publishAddr: string, via: AcceptedEvent['via'], defaultBus?: string): { ok: true; record: AcceptedEvent } | { ok: false; code: string; message: string; eventId?: string } => {
    const parsed = PublishedEvent.safeParse(candidate);
    const eventId = typeof (candidate as { id?: unknown } | null)?.id === 'string' ? (candidate as { id: string }).id : undefined;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, code: 'InvalidArgument', message: `not a CloudEvent: ${issue?.path.join('.') || 'the event'} ${issue?.message ?? 'is invalid'}`, ...(eventId ? { eventId } : {}) };
    }
    const size = Buffer.byteLength(JSON.stringify(candidate));
    if (size > BUS_LIMITS.eventBytes) {
      return { ok: false, code: 'EventSizeExceeded', message: `the event is ${size} bytes; an event may be at most ${BUS_LIMITS.eventBytes} bytes (256 KB)`, eventId: parsed.data.id };
    }
    const busName = parsed.data.aliyuneventbusname ?? defaultBus;
    if (busName === undefined) {
      return { ok: false, code: 'InvalidArgument', message: 'the event names no bus: set the extension aliyuneventbusname (CloudEvent.extensions in the SDK)', eventId: parsed.data.id };
    }
    if (!busNames.has(busName)) {
      return { ok: false, code: 'EventBusNotExist', message: `The event bus [${busName}] not existed! The stack's buses are ${[...busNames].join(', ')}`, eventId: parsed.data.id };
    }
    return { ok: true, record: route(acceptEvent(parsed.data, busName, context(publishAddr)), via) };
  };

  const handler = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://emulator');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    const publishAddr = addressOf(request);
    if (path === EVENTBRIDGE_PATHS.putEvents && method === 'POST') {
      const requestId = newRequestId();
      const auth = verifySignature({ method, path, query: url.searchParams, headers: request.headers }, (id) => secrets.get(id));
      if (!auth.ok) {
        await drain(request);
        return sendJson(response, auth.problem.code === 'RequestTimeTooSkewed' ? 400 : 403, { requestId, code: auth.problem.code, message: auth.problem.message });
      }
      const mediaType = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
      if (mediaType !== 'application/cloudevents-batch+json') {
        await drain(request);
        return sendJson(response, 400, { requestId, code: 'InvalidArgument', message: `PutEvents takes application/cloudevents-batch+json, not ${mediaType || 'no content type'}` });
      }
      const body = await readBody(request, BUS_LIMITS.batchBytes);
      if (body === undefined) {
        return sendJson(response, 400, { requestId, code: 'EventsSizeExceeded', message: `the batch is larger than ${BUS_LIMITS.batchBytes} bytes (1 MB): send fewer or smaller events a call` });
      }
      let events: unknown;
      try {
        events = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(response, 400, { requestId, code: 'InvalidArgument', message: 'the body is not JSON: send a JSON list of CloudEvents' });
      }
      if (!Array.isArray(events) || events.length === 0) {
        return sendJson(response, 400, { requestId, code: 'InvalidArgument', message: 'PutEvents takes a JSON list of 1 to 16 CloudEvents' });
      }
      if (events.length > BUS_LIMITS.eventsPerBatch) {
        return sendJson(response, 400, { requestId, code: 'EventsCountExceeded', message: `PutEvents takes at most ${BUS_LIMITS.eventsPerBatch} events a call; got ${events.length}: split the batch` });
      }
      const entries = events.map((candidate) => {
        const result = admit(candidate, publishAddr, 'putEvents');
        if (result.ok) return { EventId: result.record.event.id, TraceId: randomUUID() };
        return { ...(result.eventId ? { EventId: result.eventId } : {}), ErrorCode: result.code, ErrorMessage: result.message };
      });
      return sendJson(response, 200, { RequestId: requestId, ResourceOwnerAccountId: accountId, FailedEntryCount: entries.filter((entry) => 'ErrorCode' in entry).length, EntryList: entries });
    }
    if (path.startsWith('/openapi/')) {
      await drain(request);
      return sendJson(response, 404, { requestId: newRequestId(), code: 'ApiNotSupported', message: `the EventBridge emulator serves PutEvents only, not ${method} ${path}: manage buses and rules in the stack` });
    }
    if (path === EVENTBRIDGE_PATHS.webhook) return serveWebhook(request, response, url, method, publishAddr);
    if (path === EVENTBRIDGE_PATHS.publish && method === 'POST') {
      const body = await readBody(request, BUS_LIMITS.batchBytes);
      if (body === undefined) return sendJson(response, 413, { error: `more than ${BUS_LIMITS.batchBytes} bytes` });
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(response, 400, { error: 'the body is not JSON: send a CloudEvent or a list of them' });
      }
      const results = (Array.isArray(parsed) ? parsed : [parsed]).map((candidate) => admit(candidate, publishAddr, 'publish', 'default'));
      const refused = results.flatMap((result) => (result.ok ? [] : [`${result.code}: ${result.message}`]));
      if (refused.length > 0) return sendJson(response, 400, { error: refused.join('; '), accepted: results.length - refused.length });
      return sendJson(response, 200, { events: results.flatMap((result) => (result.ok ? [{ id: result.record.event.id, matchedRules: result.record.matchedRules }] : [])) });
    }
    if (method === 'GET' && path === EVENTBRIDGE_PATHS.summary) {
      return sendJson(response, 200, {
        accountId,
        regionId,
        buses: stack.buses,
        rules: stack.rules.map(describeRule),
        sources: served(),
        counts: { events: accepted.list().length, deliveries: deliveries.attempts.list().length, deadLetters: deliveries.deadLetters.list().length },
      });
    }
    if (method === 'GET' && path === EVENTBRIDGE_PATHS.events) return sendJson(response, 200, { events: accepted.list(), dropped: accepted.dropped });
    if (method === 'GET' && path === EVENTBRIDGE_PATHS.deliveries) return sendJson(response, 200, { deliveries: deliveries.attempts.list(), dropped: deliveries.attempts.dropped });
    if (method === 'GET' && path === EVENTBRIDGE_PATHS.deadLetters) return sendJson(response, 200, { deadLetters: deliveries.deadLetters.list(), dropped: deliveries.deadLetters.dropped });
    await drain(request);
    return sendJson(response, 404, { error: `no ${method} ${path} here: the emulator serves POST ${EVENTBRIDGE_PATHS.putEvents}, the HTTP sources' ${EVENTBRIDGE_PATHS.webhook}?token=…, and ${Object.values(EVENTBRIDGE_PATHS).filter((p) => p.startsWith('/emulator')).join(', ')}` });
  };

  const serveWebhook = async (request: IncomingMessage, response: ServerResponse, url: URL, method: string, publishAddr: string): Promise<void> => {
    const requestId = newRequestId();
    const source = tokens.get(url.searchParams.get('token') ?? '');
    if (source === undefined) {
      await drain(request);
      return sendJson(response, 404, { requestId, code: 'EventSourceNotExist', message: 'no HTTP event source has this token: use the webhook URL the emulator lists' });
    }
    if (source.methods.length > 0 && !source.methods.includes(method)) {
      await drain(request);
      return sendJson(response, 405, { requestId, code: 'MethodNotAllowed', message: `event source ${source.name} takes ${source.methods.join(', ')}, not ${method}` });
    }
    const refusal = securityRefusal(source, request, publishAddr);
    if (refusal !== undefined) {
      await drain(request);
      return sendJson(response, 403, { requestId, code: 'Forbidden', message: refusal });
    }
    const body = await readBody(request, BUS_LIMITS.eventBytes);
    if (body === undefined) return sendJson(response, 413, { requestId, code: 'EventSizeExceeded', message: `the request body is larger than ${BUS_LIMITS.eventBytes} bytes (256 KB)` });
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) if (key !== 'token') query[key] = value;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const event = httpSourceEvent(source.name, source.busName, { method, path: url.pathname, query, headers, body }, context(publishAddr));
    if (Buffer.byteLength(JSON.stringify(event)) > BUS_LIMITS.eventBytes) {
      return sendJson(response, 413, { requestId, code: 'EventSizeExceeded', message: `the event made of this request is larger than ${BUS_LIMITS.eventBytes} bytes (256 KB)` });
    }
    const record = route(event, 'http-source');
    return sendJson(response, 200, { requestId, eventId: record.event.id });
  };

  const listening = createServer((request, response) => {
    handler(request, response).catch((error: unknown) => {
      log.error({ err: error }, 'EventBridge emulator: request failed');
      if (!response.headersSent) sendJson(response, 500, { requestId: newRequestId(), code: 'InternalError', message: (error as Error).message });
      else response.destroy();
    });
  });
  const port = await listenOnLoopback(listening, options.port ?? 0).catch((error: Error) => {
    throw new RollcallError('invalid-input', `the EventBridge emulator cannot listen on port ${options.port ?? 0}: ${error.message}; choose another --port`, { cause: error });
  });
  const base = `http://127.0.0.1:${port}`;
  const served = (): ServedHttpSource[] => [...tokens].map(([token, source]) => ({ ...source, webhookUrl: `${base}${EVENTBRIDGE_PATHS.webhook}?token=${token}` }));

  let closing: Promise<void> | undefined;
  return {
    url: base,
    endpoint: `127.0.0.1:${port}`,
    accessKeyId: accessKeys[0]!.accessKeyId,
    accessKeySecret: accessKeys[0]!.accessKeySecret,
    accountId,
    regionId,
    buses: stack.buses,
    rules: stack.rules,
    sources: served(),
    publishUrl: `${base}${EVENTBRIDGE_PATHS.publish}`,
    webhookUrl: (name) => {
      const found = served().find((source) => source.name === name);
      if (!found) throw new RollcallError('invalid-input', `the stack has no HTTP event source ${name}; its sources are ${served().map((source) => source.name).join(', ') || 'none'}`);
      return found.webhookUrl;
    },
    publish: (event, publishAddr = '127.0.0.1') => {
      const result = admit(event, publishAddr, 'publish', 'default');
      if (!result.ok) throw new RollcallError('invalid-input', `${result.code}: ${result.message}`);
      return result.record;
    },
    events: () => accepted.list(),
    deliveries: () => deliveries.attempts.list(),
    deadLetters: () => deliveries.deadLetters.list(),
    flush: () => deliveries.flush(),
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          listening.close(() => resolve());
          listening.closeAllConnections();
        });
        await deliveries.close();
      })();
      return closing;
    },
  };
}

async function readRules(options: EventBridgeEmulatorOptions): Promise<BusRules> {
  const loadOptions = { ...(options.variables ? { variables: options.variables } : {}), ...(options.env ? { env: options.env } : {}) };
  if (options.rules === undefined) return readTerraformRules({}, loadOptions);
  if (typeof options.rules === 'string') return loadTerraformRules(options.rules, loadOptions);
  if (Array.isArray((options.rules as BusRules).rules) && Array.isArray((options.rules as BusRules).buses)) return options.rules as BusRules;
  return readTerraformRules(options.rules, loadOptions);
}

/** A rule as the summary shows it (its matcher is code). */
function describeRule(rule: RuleConfig): object {
  return {
    address: rule.address,
    busName: rule.busName,
    name: rule.name,
    enabled: rule.enabled,
    pattern: rule.pattern,
    targets: rule.targets.map((target) => ({
      id: target.id,
      type: target.type,
      endpoint: target.endpoint,
      retryStrategy: target.retryStrategy,
      deadLetterQueue: target.deadLetterQueue ?? null,
      params: [...target.params.keys()],
    })),
  };
}

/** Why the source's security configuration refuses the request; undefined when it does not. */
function securityRefusal(source: HttpSourceConfig, request: IncomingMessage, address: string): string | undefined {
  if (source.securityConfig === 'ip') {
    if (source.ip.some((allowed) => ipAllowed(address, allowed))) return undefined;
    return `event source ${source.name} takes requests from ${source.ip.join(', ') || 'no address'} only, not ${address}`;
  }
  if (source.securityConfig === 'referer') {
    const referer = request.headers.referer ?? '';
    let host = '';
    try {
      host = new URL(referer).hostname;
    } catch {
      // No or a malformed Referer: matches nothing below.
    }
    if (source.referer.some((allowed) => allowed === referer || (host !== '' && allowed.replace(/^https?:\/\//, '').replace(/\/.*$/, '') === host))) return undefined;
    return `event source ${source.name} takes requests with a Referer of ${source.referer.join(', ') || 'nothing'} only`;
  }
  return undefined;
}

/** Whether an IPv4 address is the allowed address or in the allowed CIDR block. */
function ipAllowed(address: string, allowed: string): boolean {
  const [network, bits] = allowed.split('/');
  if (bits === undefined) return network === address;
  const size = Number(bits);
  const a = ipv4(address);
  const b = ipv4(network ?? '');
  if (a === undefined || b === undefined || !Number.isInteger(size) || size < 0 || size > 32) return false;
  const mask = size === 0 ? 0 : (~0 << (32 - size)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) return undefined;
  return parts.reduce((value, part) => (value << 8) + Number(part), 0) >>> 0;
}

/** The client's IPv4 address (an IPv4-mapped IPv6 address unwrapped). */
function addressOf(request: IncomingMessage): string {
  return (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

function redirector(redirects: Readonly<Record<string, string>>): (url: string) => string {
  const entries = Object.entries(redirects).sort(([a], [b]) => b.length - a.length);
  return (url) => {
    const found = entries.find(([from]) => url.startsWith(from));
    return found ? found[1] + url.slice(found[0].length) : url;
  };
}

/** The body, or undefined when it is longer than `limit` bytes (the rest is read and dropped). */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

async function drain(request: IncomingMessage): Promise<void> {
  for await (const _chunk of request as AsyncIterable<Buffer>) {
    // Read to the end, so the reply is not sent before the client has finished writing.
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** Alibaba Cloud's request ids are upper-case UUIDs. */
function newRequestId(): string {
  return randomUUID().toUpperCase();
}
