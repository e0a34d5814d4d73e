/**
 * rollcall's few error classes. Each carries a `code` from a closed union so callers branch on
 * codes, never on message text, and says whether trying again can help.
 */

/** A problem at a position in a desired-state (or snapshot) file. */
export interface SourceProblem {
  /** Path of the file, relative to the working directory when the CLI prints it. */
  file: string;
  /** 1-based line, 0 when the problem concerns the file as a whole. */
  line: number;
  /** 1-based column, 0 when the problem concerns the file as a whole. */
  col: number;
  message: string;
}

export type RollcallErrorCode =
  | 'invalid-input' // the user's files or flags are wrong: fix them and run again
  | 'plan-refused' // the plan breaks a guard (policy.maxDeletions, conflicts on an instance)
  | 'git' // a git command failed
  | 'cloud-api' // the cloud refused or failed a request (after retries, where retrying helps)
  | 'internal'; // a bug in rollcall

const RETRYABLE: ReadonlySet<RollcallErrorCode> = new Set(['git', 'cloud-api']);

export class RollcallError extends Error {
  override readonly name = 'RollcallError';
  readonly code: RollcallErrorCode;
  /** Source positions the error is about, all of them: the CLI prints every one. */
  readonly problems: readonly SourceProblem[];

  constructor(
    code: RollcallErrorCode,
    message: string,
    options: { cause?: unknown; problems?: readonly SourceProblem[] } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.problems = options.problems ?? [];
  }

  /** Whether the same call may succeed later without anyone changing anything. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** `file:line:col: message`, the format editors and CI annotations understand. */
export function formatProblem(problem: SourceProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.col}` : problem.file;
  return `${where}: ${problem.message}`;
}
