import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths pino blanks out wherever they appear in a log line's fields. */
const REDACT = [
  'secret',
  '*.secret',
  'accessKeySecret',
  '*.accessKeySecret',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
];

/**
 * The one root logger of a rollcall process. Logs always go to stderr so that stdout stays
 * machine-readable (`--json` prints exactly one document there).
 */
export function createLogger(env: NodeJS.ProcessEnv = process.env, destination: { write(line: string): unknown } = pino.destination({ fd: 2, sync: true })): Logger {
  return pino({ level: env.ROLLCALL_LOG_LEVEL ?? 'info', redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}
