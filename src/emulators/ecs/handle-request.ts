import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACTIONS } from './actions/index.js';
import { EcsApiError, missingParameter } from './api-error.js';
import type { EcsContext } from './ecs-context.js';
import { newRequestId } from './ids.js';
import type { ReplayGuard } from './replay-guard.js';
import type { RequestParams } from './request-params.js';
import { verifySignature } from './verify-signature.js';

/** The API version the emulator speaks (the `@alicloud/ecs20140526` SDK's). */
export const API_VERSION = '2014-05-26';

/** A request body bigger than this is refused; the SDK sends RPC calls with an empty body. */
const MAX_BODY_BYTES = 1024 * 1024;

/** The endpoint's state and credentials. */
export interface RequestHandlerOptions {
  context: EcsContext;
  /** The secret of an AccessKey id, or undefined for an unknown one. */
  secretOf: (accessKeyId: string) => string | undefined;
  replayGuard: ReplayGuard;
  /** Requests per action, counted once signature and replay checks pass and the action is named (refused ones too). */
  calls: Map<string, number>;
  /** Told of each counted request, with its arrival time. */
  onRequest?: (action: string, receivedAt: number) => void;
}

/**
 * The `node:http` handler of the ECS endpoint: `POST /?<parameters>` (GET works too), signature
 * checked (ACS3-HMAC-SHA256 or v2), the action taken from the signed `x-acs-action` header or the
 * `Action` parameter, faults applied (latency, then throttling), `RegionId` checked, the action
 * run. Replies are JSON: `{RequestId, …}` with 200, or `{RequestId, Code, Message}` with 4xx/5xx.
 */
export function createRequestHandler(options: RequestHandlerOptions): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const requestId = newRequestId();
    handle(request, options).then(
      (reply) => send(response, 200, { RequestId: requestId, ...reply }),
      (error: unknown) => {
        const apiError = error instanceof EcsApiError ? error : new EcsApiError(500, 'InternalError', `The request processing has failed due to some unknown error: ${(error as Error).message}`);
        send(response, apiError.status, { RequestId: requestId, Code: apiError.code, Message: apiError.message });
      },
    );
  };
}

async function handle(request: IncomingMessage, options: RequestHandlerOptions): Promise<Record<string, unknown>> {
  const { context } = options;
  const receivedAt = Date.now();
  const body = await readBody(request);
  const url = new URL(request.url ?? '/', 'http://emulator');
  const query = [...url.searchParams.entries()];
  const contentType = String(request.headers['content-type'] ?? '');
  const form = contentType.includes('application/x-www-form-urlencoded') && body.length > 0 ? [...new URLSearchParams(body.toString('utf8')).entries()] : [];

  const signature = verifySignature({ method: request.method ?? 'GET', query, form, headers: request.headers, body }, options.secretOf);
  options.replayGuard.check(signature.nonce, signature.timestamp);

  const params: RequestParams = Object.fromEntries([...form, ...query]);
  // With v2 only the query is signed: the x-acs-action header (which the SDK also sends) is not.
  const headerAction = signature.algorithm === 'HMAC-SHA1' ? undefined : single(request.headers['x-acs-action']);
  const action = headerAction ?? params['Action'];
  if (action === undefined || action === '') throw missingParameter('Action');
  options.calls.set(action, (options.calls.get(action) ?? 0) + 1);
  options.onRequest?.(action, receivedAt);
  const version = (signature.algorithm === 'HMAC-SHA1' ? undefined : single(request.headers['x-acs-version'])) ?? params['Version'];
  if (version !== undefined && version !== API_VERSION) throw new EcsApiError(400, 'InvalidVersion', `Specified parameter Version is not valid: ${JSON.stringify(version)}; the emulator speaks ECS ${API_VERSION}.`);
  const handler = ACTIONS.get(action);
  if (handler === undefined) throw new EcsApiError(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method: ${action} is not emulated (see README.md).`);

  const latency = context.faults.latencyFor(action);
  if (latency > 0) await sleep(latency);
  if (context.faults.shouldThrottle(action)) throw new EcsApiError(400, 'Throttling.User', 'Request was denied due to user flow control.');

  const regionId = params['RegionId'];
  if (regionId === undefined || regionId === '') throw missingParameter('RegionId', 'MissingParameter.RegionId');
  if (regionId !== context.regionId) throw new EcsApiError(404, 'InvalidRegionId.NotFound', `The specified RegionId does not exist: ${regionId}; this endpoint serves ${context.regionId}.`);
  return handler(params, context);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new EcsApiError(413, 'RequestEntityTooLarge', `The request body is larger than ${MAX_BODY_BYTES} bytes: the ECS API takes its parameters in the query string.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
