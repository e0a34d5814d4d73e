import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** `rollcall serve` running as a child process, so that it can be killed for real. */
export interface ServeProcess {
  readonly pid: number;
  /** Its HTTP address, from the first line it printed on stdout. */
  readonly url: string;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** SIGKILL now, synchronously: no handler runs, nothing is flushed. Safe to call twice. */
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

/** Starts `rollcall serve --port 0 --drift-interval 1h` and resolves once it printed its address. */
export async function startServeProcess(options: ServeProcessOptions): Promise<ServeProcess> {
  // The drift interval is far away: every apply the test sees comes from a commit or a restart.
  const args = [BIN, 'serve', '--repo', options.repo, '--path', 'desired-state', '--port', '0', '--state-dir', options.stateDir, '--drift-interval', '1h'];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr! }).on('line', options.onLog);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${process.execPath} ${args.join(' ')}`);
  try {
    const url = await firstUrl(child, exited, options.startTimeoutMs ?? 60_000);
    return serveProcess(child, pid, url, exited);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
}

function serveProcess(child: ChildProcess, pid: number, url: string, exited: Promise<number | null>): ServeProcess {
  const killNow = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return {
    pid,
    url,
    exited,
    killNow,
    kill: async () => {
      killNow();
      await exited;
    },
    terminate: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function firstUrl(child: ChildProcess, exited: Promise<number | null>, timeoutMs: number): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
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
      exited.then((code) => Promise.reject(new Error(`rollcall serve exited (code ${code}) before it printed its address`))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`rollcall serve printed no address within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
