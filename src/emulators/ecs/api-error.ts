/**
 * An error the emulator answers with, as the real ECS API does: an HTTP status 4xx/5xx and a JSON
 * body `{RequestId, Code, Message}`. The SDK turns it into a ClientError, ServerError or (when the
 * code contains "Throttling") a ThrottlingError, each carrying `code`.
 *
 * Codes are the ones Alibaba Cloud documents for the action (see README.md, "Error codes"), so a
 * caller that branches on `code` against the emulator branches the same way against the cloud.
 */
export class EcsApiError extends Error {
  override readonly name = 'EcsApiError';
  /** HTTP status of the reply. */
  readonly status: number;
  /** Alibaba Cloud's error code, such as `InvalidInstance.NotFound`. */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** `MissingParameter`: a required request parameter is absent or empty. */
export function missingParameter(name: string, code = 'MissingParameter'): EcsApiError {
  return new EcsApiError(400, code, `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
}

/** `InvalidParameter`: a parameter is present but malformed; `why` says what is expected. */
export function invalidParameter(name: string, why: string, code = 'InvalidParameter'): EcsApiError {
  return new EcsApiError(400, code, `The specified parameter "${name}" is not valid: ${why}`);
}
