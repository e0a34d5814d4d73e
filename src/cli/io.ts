import { createLogger, type Logger } from '../config/logger.js';

/** What a command reads and writes: the real process by default, buffers in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  /** Messages for the person at the terminal. */
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Structured logs (JSON lines), to stderr too: stdout stays the command's output alone. */
  log: Logger;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), log: createLogger(process.env) };
}

/** Colour only for a terminal, and never when NO_COLOR is set (no-color.org). */
export function wantsColor(io: CliIo): boolean {
  return Boolean(io.stdout.isTTY) && !io.env.NO_COLOR;
}
