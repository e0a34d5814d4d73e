import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** `rollcall serve` running as a child process, so that it can be killed for real. */
export interface ServeProcess {
  readonly pid: number;
  /**
   * Its HTTP address, from the first line it prints on stdout; undefined when the process ended
   * first (it was killed while starting). Rejects when it prints something else, or nothing in time.
   */
  readonly url: Promise<string | undefined>;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** SIGKILL now, synchronously: no handler runs, nothing is flushed. Safe to call at any time. */
  killNow(): void;
  /** SIGKILL, then waits for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM (the graceful stop), then waits; the exit code. */
  terminate(): Promise<number | null>;
}

export interface ServeProcessOptions {
  repo: string;
  stateDir: string;
  /** Added to this process's environment (the emulator's address and keys, the log level). */
  env: NodeJS.ProcessEnv;
  /** Told of every stderr line (the daemon's JSON logs). */
  onLog(line: string): void;
  /** How long to wait for the `{"url": …}` line. */
  startTimeoutMs?: number;
}

const BIN = path.resolve('src/cli/bin.js');

/**
 * Spawns `rollcall serve --port 0 --drift-interval 1h` and returns at once, so that a kill can be
 * armed before the daemon does anything (it finishes a crashed run's attempts before it prints
 * its address).
 */
export function spawnServe(options: ServeProcessOptions): ServeProcess {
  // The drift interval is far away: every apply the test sees comes from a commit or a restart.
  const args = [BIN, 'serve', '--repo', options.repo, '--path', 'desired-state', '--port', '0', '--state-dir', options.stateDir, '--drift-interval', '1h'];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${process.execPath} ${args.join(' ')}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr }).on('line', options.onLog);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const killNow = () => {
    if (alive()) child.kill('SIGKILL');
  };
  const url = firstUrl(createInterface({ input: child.stdout }), exited, options.startTimeoutMs ?? 60_000);
  // Nobody may be waiting for it when the process is killed first.
  url.catch(() => undefined);
  return {
    pid: child.pid,
    url,
    exited,
    killNow,
    kill: async () => {
      killNow();
      await exited;
    },
    terminate: async () => {
      if (alive()) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function firstUrl(lines: ReturnType<typeof createInterface>, exited: Promise<number | null>, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      new Promise<string>((resolve, reject) =>
        lines.once('line', (line) => {
          try {
            resolve((JSON.parse(line) as { url: string }).url);
          } catch {
            reject(new Error(`rollcall serve printed ${JSON.stringify(line)} first, not {"url": …}`));
          }
        }),
      ),
      exited.then(() => undefined),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`rollcall serve printed no address within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
