/** Exit codes shared by every command. */
export const EXIT = {
  ok: 0,
  /** Invalid input, plan errors, a failed apply. */
  failed: 1,
  /** `plan --detailed-exitcode` with changes to make (terraform's convention). */
  changes: 2,
  /** Unknown command or option (sysexits EX_USAGE). */
  usage: 64,
} as const;
