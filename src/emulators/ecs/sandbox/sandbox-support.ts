import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findMissingTools, SYSTEM_PATH } from './host-tools.js';
import { OVERLAID_DIRS } from './instance-namespace.js';
import type { SandboxLack } from './sandbox-errors.js';

/** Whether this machine can host sandbox instances; when not, what it lacks and how to fix it. */
export type SandboxSupport = { ok: true } | { ok: false; reason: string; lacking: SandboxLack };

/**
 * Lacks that running differently cannot fix: the platform or kernel does not have the feature.
 * Tests skip on these, and only on these; as root on Linux they must run.
 */
export const KERNEL_LACKS: ReadonlySet<SandboxLack> = new Set(['linux', 'namespaces', 'overlayfs']);

// Exit codes of the probe script, so a failure names its step without parsing stderr.
const PROBE_OVERLAY_MOUNT = 10;
const PROBE_OVERLAY_WRITE = 11;
const PROBE_TMPFS = 12;

// The same steps an instance takes (private mount and PID namespaces, overlay with relative
// upper and work directories, a tmpfs), on a scratch directory instead of /etc.
const PROBE_SCRIPT = [
  `mount -t overlay overlay -o lowerdir=lower,upperdir=upper,workdir=work merged || exit ${PROBE_OVERLAY_MOUNT}`,
  `echo probe > merged/written || exit ${PROBE_OVERLAY_WRITE}`,
  `mount -t tmpfs tmpfs merged || exit ${PROBE_TMPFS}`,
].join('\n');

/**
 * Checks, by doing it once on a scratch directory, that this machine can host sandbox instances
 * whose state lives in `stateDir` (default: the OS temp directory): Linux, root, util-linux,
 * mount and PID namespaces, overlayfs with its upper directory in `stateDir`, and tmpfs.
 * Creates `stateDir` when it is missing (the probe runs inside it) and leaves nothing else behind.
 * Never throws; `SandboxFleet.create` turns a failure into a SandboxUnavailableError.
 */
export async function sandboxSupport(options: { stateDir?: string } = {}): Promise<SandboxSupport> {
  if (process.platform !== 'linux') {
    return lack('linux', `sandbox instances need Linux (mount and PID namespaces, overlayfs), and this is ${process.platform}: run rollcall in a Linux VM, or in a container started with --privileged`);
  }
  if (process.getuid?.() !== 0) {
    return lack('root', 'sandbox instances need root, to create namespaces and mount overlayfs: run as root (for example `sudo npm start`, or `sudo npx vitest`)');
  }
  const missing = await findMissingTools();
  if (missing.length > 0) {
    return lack('tools', `programs not found on ${SYSTEM_PATH}: ${missing.join(', ')}: install them (Debian: apt-get install util-linux mount coreutils)`);
  }
  if (!existsSync('/proc/self/ns/mnt') || !existsSync('/proc/self/ns/pid')) {
    return lack('namespaces', 'the kernel lacks mount or PID namespaces (no /proc/self/ns/mnt or /proc/self/ns/pid): use a kernel built with CONFIG_NAMESPACES and CONFIG_PID_NS');
  }

  const stateDir = path.resolve(options.stateDir ?? tmpdir());
  const real = await realpathOfNearest(stateDir);
  const overlaid = OVERLAID_DIRS.find((dir) => real === dir || real.startsWith(`${dir}/`));
  if (overlaid !== undefined) {
    // An upper directory inside its own lower directory makes overlayfs fail every lookup (ELOOP).
    return lack('state-dir', `the state directory ${stateDir} is inside ${overlaid}, which every instance overlays: choose one elsewhere, for example under /tmp`);
  }

  let probeDir: string;
  try {
    await mkdir(stateDir, { recursive: true });
    probeDir = await mkdtemp(path.join(stateDir, '.probe-'));
  } catch (error) {
    return lack('state-dir', `cannot create directories in the state directory ${stateDir} (${(error as Error).message}): choose a writable one`);
  }
  try {
    for (const dir of ['lower', 'upper', 'work', 'merged']) await mkdir(path.join(probeDir, dir));
    await writeFile(path.join(probeDir, 'lower', 'file'), 'lower\n');
    const unshare = ['unshare', '--mount', '--pid', '--fork', '--mount-proc', '--propagation', 'private', '--', '/bin/sh', '-c', PROBE_SCRIPT];
    const { code, stderr } = await runOnHost(unshare, probeDir);
    const detail = stderr.trim().replace(/\s+/g, ' ');
    if (code === PROBE_OVERLAY_MOUNT || code === PROBE_OVERLAY_WRITE) {
      if (!(await kernelHasOverlay())) {
        return lack('overlayfs', `the kernel lacks overlayfs (${detail || 'mount -t overlay failed'}): run \`modprobe overlay\`, or use a kernel built with CONFIG_OVERLAY_FS`);
      }
      return lack('state-dir', `overlayfs will not keep an upper directory in ${stateDir} (${detail || `probe step ${code} failed`}): choose a state directory on ext4, xfs, btrfs or tmpfs (not on overlayfs, NFS or FUSE)`);
    }
    if (code === PROBE_TMPFS) {
      return lack('privileges', `mounting a tmpfs inside the instance failed (${detail}): run as root on the host, or in a container started with --privileged`);
    }
    if (code !== 0) {
      return lack('privileges', `creating mount and PID namespaces failed (${detail || `unshare exited with ${code}`}): root here lacks CAP_SYS_ADMIN; run on the host, or in a container started with --privileged`);
    }
    if (!existsSync(path.join(probeDir, 'upper', 'written'))) {
      return lack('state-dir', `a write through overlayfs did not reach its upper directory in ${stateDir}: choose a state directory on ext4, xfs, btrfs or tmpfs`);
    }
    return { ok: true };
  } finally {
    await rm(probeDir, { recursive: true, force: true });
  }
}

function lack(lacking: SandboxLack, reason: string): SandboxSupport {
  return { ok: false, reason, lacking };
}

/** Whether overlay is a known filesystem type (a failed mount attempt has loaded the module if it exists). */
async function kernelHasOverlay(): Promise<boolean> {
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  return /\toverlay$/m.test(filesystems);
}

/** The real path of `p`, following links in its nearest existing ancestor when `p` does not exist yet. */
async function realpathOfNearest(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    const parent = path.dirname(p);
    if (parent === p) return p;
    return path.join(await realpathOfNearest(parent), path.basename(p));
  }
}

/** Runs `argv` (no shell) and collects its exit code and stderr. */
function runOnHost(argv: readonly string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  const [command, ...args] = argv;
  return new Promise((resolve) => {
    const child = spawn(command!, args, { cwd, env: { PATH: SYSTEM_PATH }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => resolve({ code: -1, stderr: error.message }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
