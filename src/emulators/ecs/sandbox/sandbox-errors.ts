/**
 * The sandbox fleet's errors. Like rollcall's own (`config/errors.ts`) they carry a `code` from a
 * closed union, so the ECS emulator maps them to Cloud Assistant error codes without reading
 * message text, and say whether trying again can help.
 */

export type SandboxErrorCode =
  | 'unavailable' // this machine cannot host sandbox instances (see SandboxUnavailableError.reason)
  | 'no-such-instance' // the id was never created here, or has been destroyed
  | 'instance-exists' // createInstance with an id that is already taken
  | 'invalid-argument' // a malformed id, argv or parameter map
  | 'start-failed' // the instance's namespace did not come up
  | 'instance-gone'; // the instance's namespace died without destroyInstance (someone killed it)

// Starting can fail for passing reasons (a loaded machine misses the readiness deadline).
const RETRYABLE: ReadonlySet<SandboxErrorCode> = new Set(['start-failed']);

export class SandboxError extends Error {
  override readonly name: string = 'SandboxError';
  readonly code: SandboxErrorCode;

  constructor(code: SandboxErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
  }

  /** Whether the same call may succeed later without anyone changing anything. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** What a machine lacks for sandbox instances; see `sandboxSupport()`. */
export type SandboxLack =
  | 'linux' // not Linux at all
  | 'root' // not running as uid 0
  | 'tools' // util-linux or coreutils programs missing
  | 'namespaces' // the kernel has no mount or PID namespaces
  | 'privileges' // root, but not allowed to create namespaces or mount (an unprivileged container)
  | 'overlayfs' // the kernel has no overlay filesystem
  | 'state-dir'; // the state directory cannot hold the instances' upper directories

/**
 * This machine cannot host sandbox instances. `reason` says what is missing and how to fix it
 * ("run as root", "the kernel lacks overlayfs", …), in words meant for the person starting rollcall.
 */
export class SandboxUnavailableError extends SandboxError {
  override readonly name = 'SandboxUnavailableError';
  /** What is missing and how to fix it. */
  readonly reason: string;
  readonly lacking: SandboxLack;

  constructor(reason: string, lacking: SandboxLack) {
    super('unavailable', `sandbox instances are unavailable: ${reason}`);
    this.reason = reason;
    this.lacking = lacking;
  }
}
