import { EcsApiError } from './api-error.js';
import type { RequestParams } from './request-params.js';

/** Parameters that differ on every retry of the same request, so they are not part of its identity. */
const TRANSPORT_PARAMS = new Set(['Signature', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'SignatureType', 'Timestamp', 'AccessKeyId', 'SecurityToken', 'Format', 'Version', 'Action']);

/** Printable ASCII, 1-64 characters. */
const CLIENT_TOKEN = /^[\x20-\x7e]{1,64}$/;

/**
 * ClientToken idempotency: a request repeated with the same token gets the first reply again and
 * does nothing else; the same token with different parameters is refused with
 * `IdempotentParameterMismatch`, as the service does.
 */
export class ClientTokens {
  readonly #replies = new Map<string, { fingerprint: string; reply: Record<string, unknown> }>();

  /**
   * The earlier reply to `action` with this request's ClientToken, or undefined when the request
   * has no token or is the first with it. Throws `InvalidClientToken.Malformed` and
   * `IdempotentParameterMismatch`.
   */
  recall(action: string, params: RequestParams): Record<string, unknown> | undefined {
    const token = params['ClientToken'];
    if (token === undefined || token === '') return undefined;
    if (!CLIENT_TOKEN.test(token)) {
      throw new EcsApiError(400, 'InvalidClientToken.Malformed', 'The specified parameter clientToken is not valid: use 1-64 printable ASCII characters.');
    }
    const earlier = this.#replies.get(`${action}\n${token}`);
    if (earlier === undefined) return undefined;
    if (earlier.fingerprint !== fingerprint(params)) {
      throw new EcsApiError(403, 'IdempotentParameterMismatch', `The specified parameter has changed while using an already used clientToken: ${token}.`);
    }
    return earlier.reply;
  }

  /** Remembers the reply to a request that carried a ClientToken (no-op without one). */
  remember(action: string, params: RequestParams, reply: Record<string, unknown>): void {
    const token = params['ClientToken'];
    if (token === undefined || token === '') return;
    this.#replies.set(`${action}\n${token}`, { fingerprint: fingerprint(params), reply });
  }
}

function fingerprint(params: RequestParams): string {
  return JSON.stringify(
    Object.entries(params)
      .filter(([name]) => !TRANSPORT_PARAMS.has(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
