import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SandboxUnavailableError } from './sandbox-errors.js';

/** How one run inside an instance ended. */
export interface RunResult {
  /** The exit code; null when the run was killed by a signal (a timeout, or destroyInstance). */
  exitCode: number | null;
  /** Everything written to stdout, as bytes: scripts may print anything, UTF-8 or not. */
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
  /** True when the run outlived its timeout and was killed. */
  timedOut: boolean;
}

export interface RunInNamespaceOptions {
  /** The whole environment of the program: nothing is inherited from Node. */
  env: Readonly<Record<string, string>>;
  /** Written to the program's stdin, then closed; without it stdin is /dev/null. */
  input?: string | Buffer;
  timeoutMs: number;
  /** Where the output files live while the run lasts (a host directory of the instance). */
  outputDir: string;
}

/**
 * Runs `argv` as root in the namespaces whose PID 1 has host pid `initPid`, with cwd /root and
 * umask 022, and waits for it. No shell on the host side: `argv` reaches the instance element by element.
 *
 * Output goes to files, not pipes, because a script may leave processes running
 * (`runuser -u alice -- sleep 1000 &`, as on a real machine) and they inherit its stdout: with a
 * pipe the run would only end when they do. The run ends when its own process exits, and the files
 * then hold everything it wrote.
 *
 * The run gets its own process group (`detached`), so a timeout kills all of it, background jobs
 * included, with one `kill(-pgid)`.
 */
export async function runInNamespace(initPid: number, argv: readonly string[], options: RunInNamespaceOptions): Promise<RunResult> {
  await mkdir(options.outputDir, { recursive: true });
  const base = path.join(options.outputDir, randomUUID());
  const stdoutFile = `${base}.stdout`;
  const stderrFile = `${base}.stderr`;
  try {
    const started = performance.now();
    const { exitCode, timedOut } = await spawnAndWait(initPid, argv, options, stdoutFile, stderrFile);
    const durationMs = Math.round(performance.now() - started);
    // A destroyInstance during the run may have removed the files with the instance: no output then.
    const [stdout, stderr] = await Promise.all([stdoutFile, stderrFile].map((file) => readFile(file).catch(() => Buffer.alloc(0))));
    return { exitCode, stdout: stdout!, stderr: stderr!, durationMs, timedOut };
  } finally {
    await Promise.all([rm(stdoutFile, { force: true }), rm(stderrFile, { force: true })]);
  }
}

async function spawnAndWait(
  initPid: number,
  argv: readonly string[],
  options: RunInNamespaceOptions,
  stdoutFile: string,
  stderrFile: string,
): Promise<{ exitCode: number | null; timedOut: boolean }> {
  const stdout = await open(stdoutFile, 'w');
  const stderr = await open(stderrFile, 'w');
  try {
    // nsenter forks into the PID namespace itself. Entering the mount namespace leaves the cwd at
    // its root, so `env -C` moves to /root there (nsenter's own --wd=DIR would open DIR on the host).
    // The umask is a stock system's rather than whatever Node's is; argv stays positional ("$@").
    const inside = ['env', '-C', '/root', '--', '/bin/sh', '-c', 'umask 022 && exec "$@"', 'sh', ...argv];
    const child = spawn('nsenter', ['--target', String(initPid), '--mount', '--pid', '--', ...inside], {
      env: options.env,
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', stdout.fd, stderr.fd],
    });
    return await new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, options.timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        killGroup(child.pid);
        reject(new SandboxUnavailableError(`could not run nsenter (${error.message}): install util-linux`, 'tools'));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ exitCode: timedOut ? null : code, timedOut });
      });
      if (child.stdin) {
        // A program that exits without reading its input closes the pipe early: that is its business.
        child.stdin.on('error', () => {});
        child.stdin.end(options.input);
      }
    });
  } finally {
    // The child holds its own copies of the descriptors.
    await Promise.all([stdout.close(), stderr.close()]);
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}
