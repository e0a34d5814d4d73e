import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { SYSTEM_PATH } from './host-tools.js';
import { SandboxError } from './sandbox-errors.js';

/** The host directories each instance sees through its own overlay (copy-on-write, host untouched). */
export const OVERLAID_DIRS = ['/etc', '/home', '/var', '/root'] as const;

const READY = 'rollcall-sandbox-ready';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/*
 * PID 1 of an instance. It runs with its cwd in the instance's state directory, so the upper and
 * work directories are named relative to it: that way the overlays stay correct wherever the state
 * directory is (even under /tmp, which the last mount hides) and its path never enters the script.
 * It then stays as init. Not `exec sleep infinity`: processes that scripts leave behind
 * (`runuser -u alice -- sleep 1000 &`) are reparented to PID 1, and `sleep` would never reap them,
 * so `pkill -u alice` would leave zombies that `pgrep -u alice` still lists. dash's `wait` reaps
 * any child, the adopted ones too.
 */
const INIT_SCRIPT = [
  'set -e',
  `for d in ${OVERLAID_DIRS.map((dir) => dir.slice(1)).join(' ')}; do`,
  '  mount -t overlay overlay -o "lowerdir=/$d,upperdir=upper/$d,workdir=work/$d" "/$d"',
  'done',
  'mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp',
  'set +e',
  `echo ${READY}`,
  'while :; do sleep infinity & wait; done',
].join('\n');

/**
 * One instance's mount and PID namespaces, held open by a long-lived init process.
 *
 * Host process tree: `setpriv` (exec'd into `unshare`, our child) → the namespace's PID 1 (`sh`).
 * `--pdeathsig KILL` kills unshare when Node exits, and `--kill-child` then kills PID 1, which takes
 * every process of the instance with it: an instance never outlives the fleet's process.
 */
export class InstanceNamespace {
  /** Host pid of the namespace's PID 1: what `nsenter --target` enters. */
  readonly initPid: number;
  /** `mnt:[inode]` of the instance's mount namespace. */
  readonly mountNamespace: string;
  /** `pid:[inode]` of the instance's PID namespace. */
  readonly pidNamespace: string;
  readonly #unshare: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(unshare: ChildProcess, exited: Promise<void>, initPid: number, mountNamespace: string, pidNamespace: string) {
    this.#unshare = unshare;
    this.#exited = exited;
    this.initPid = initPid;
    this.mountNamespace = mountNamespace;
    this.pidNamespace = pidNamespace;
  }

  /**
   * Creates `upper/` and `work/` in `dir`, starts the namespaces there, and resolves once the
   * overlays and /tmp are mounted. Throws SandboxError `start-failed` with unshare's stderr.
   */
  static async start(dir: string): Promise<InstanceNamespace> {
    for (const overlaid of OVERLAID_DIRS) {
      await mkdir(path.join(dir, 'upper', overlaid), { recursive: true });
      await mkdir(path.join(dir, 'work', overlaid), { recursive: true });
    }
    const unshare = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--pid', '--fork', '--mount-proc', '--propagation', 'private', '--kill-child', '--', '/bin/sh', '-c', INIT_SCRIPT, 'rollcall-sandbox-init'],
      { cwd: dir, env: { PATH: SYSTEM_PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<void>((resolve) => unshare.once('exit', () => resolve()));
    // A failed kill() is reported as 'error'; unhandled, it would throw from the event loop.
    unshare.on('error', () => {});
    try {
      await waitForReady(unshare);
      const initPid = await findOnlyChild(unshare.pid!);
      const [mountNamespace, pidNamespace] = await Promise.all([readlink(`/proc/${initPid}/ns/mnt`), readlink(`/proc/${initPid}/ns/pid`)]);
      // Our Node process may exit with instances still up; pdeathsig then ends them.
      unshare.stdout?.destroy();
      unshare.stderr?.destroy();
      unshare.unref();
      return new InstanceNamespace(unshare, exited, initPid, mountNamespace, pidNamespace);
    } catch (error) {
      // Without a pid it never started, and 'exit' may never come.
      if (unshare.pid !== undefined) {
        unshare.kill('SIGKILL');
        await exited;
      }
      throw error instanceof SandboxError ? error : new SandboxError('start-failed', `could not start a sandbox instance in ${dir}`, { cause: error });
    }
  }

  /** False once the namespace's init has exited, whoever killed it. */
  get alive(): boolean {
    return this.#unshare.exitCode === null && this.#unshare.signalCode === null;
  }

  /**
   * Throws unless `initPid` is still this namespace's init. Checked before each nsenter: were the
   * init gone and its pid reused, nsenter would otherwise enter some other process's namespaces,
   * typically the host's, and run the script there.
   */
  async assertAlive(id: string): Promise<void> {
    const mountNamespace = this.alive ? await readlink(`/proc/${this.initPid}/ns/mnt`).catch(() => undefined) : undefined;
    if (mountNamespace !== this.mountNamespace) {
      throw new SandboxError('instance-gone', `sandbox instance ${id} stopped without destroyInstance (its init, host pid ${this.initPid}, is gone): destroy it and create another`);
    }
  }

  /** Kills every process of the instance; resolves when none is left. */
  async stop(): Promise<void> {
    // Keep Node alive until the exit is seen, or a caller awaiting stop() at the end of a program
    // could find its event loop empty.
    this.#unshare.ref();
    if (this.alive) {
      // SIGKILL to a PID namespace's init kills the whole namespace; unshare exits once that is
      // done. Should the init be gone already (its pid maybe reused), kill unshare instead: its pid
      // stays ours until Node reaps it, and --kill-child passes the kill on.
      const mountNamespace = await readlink(`/proc/${this.initPid}/ns/mnt`).catch(() => undefined);
      killQuietly(mountNamespace === this.mountNamespace ? this.initPid : this.#unshare.pid!);
      const late = setTimeout(() => killQuietly(this.#unshare.pid!), STOP_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(late);
    }
    this.#unshare.unref();
  }
}

function waitForReady(unshare: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const fail = (message: string) => {
      cleanup();
      reject(new SandboxError('start-failed', `${message}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    };
    const onStdout = (chunk: string) => {
      stdout += chunk;
      if (stdout.includes(`${READY}\n`)) {
        cleanup();
        resolve();
      }
    };
    const onStderr = (chunk: string) => (stderr += chunk);
    const onError = (error: Error) => fail(`could not run setpriv/unshare (${error.message})`);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`the sandbox instance's namespace exited before it was ready (${signal ?? `exit code ${code}`})`);
    const timer = setTimeout(() => fail(`the sandbox instance was not ready within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      unshare.stdout?.off('data', onStdout);
      unshare.stderr?.off('data', onStderr);
      unshare.off('error', onError);
      unshare.off('exit', onExit);
    };
    unshare.stdout?.setEncoding('utf8').on('data', onStdout);
    unshare.stderr?.setEncoding('utf8').on('data', onStderr);
    unshare.on('error', onError);
    unshare.on('exit', onExit);
  });
}

/** The pid of the only child of `pid` (unshare forks exactly one: the namespace's PID 1). */
async function findOnlyChild(pid: number): Promise<number> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => undefined);
  const listed = children?.trim().split(/\s+/).filter(Boolean).map(Number) ?? [];
  if (listed.length === 1) return listed[0]!;
  // Kernels without CONFIG_PROC_CHILDREN have no `children` file: look for the parent pid instead.
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the command name, which is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[1] === String(pid)) return Number(entry);
  }
  throw new SandboxError('start-failed', `could not find the init process of the sandbox namespace (child of host pid ${pid})`);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
