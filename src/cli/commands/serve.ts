import { once } from 'node:events';
import path from 'node:path';
import { RollcallError } from '../../config/errors.js';
import { readFleetAccess } from '../../config/fleet-access.js';
import type { Executor } from '../../executors/types.js';
import type { Daemon, DaemonOptions } from '../../reconcile/daemon.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

export interface ServeOptions {
  repo: string;
  branch?: string;
  path: string;
  port: number;
  stateDir: string;
  /** Flags that say how to reach the fleet (--endpoint, --region, …). */
  fleetFlags: Record<string, unknown>;
  pollIntervalMs?: number;
  driftIntervalMs?: number;
  /** Resolves when the daemon should stop: SIGTERM or SIGINT by default. */
  stopped?: Promise<unknown>;
  /** Told once the daemon runs (tests). */
  onStarted?: (daemon: Daemon) => void;
}

/**
 * `rollcall serve`: the daemon in the foreground. The first line on stdout is its address as
 * JSON (`{"url": …}`), so `--port 0` works for scripts; logs go to stderr. SIGTERM or Ctrl-C
 * stops it gracefully: the reconcile in progress finishes and is recorded first.
 */
export async function serveCommand(options: ServeOptions, io: CliIo): Promise<number> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new RollcallError('invalid-input', '--port must be a port number from 0 to 65535 (0 picks a free one)');
  }
  const daemon = await startServing(options, io);
  io.stdout.write(`${JSON.stringify({ url: daemon.url })}\n`);
  options.onStarted?.(daemon);
  await (options.stopped ?? Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]));
  io.log.info('stopping: finishing the reconcile in progress');
  await daemon.stop();
  io.log.info('stopped');
  return EXIT.ok;
}

/** Starts the daemon for `serve` and `dev`, with the executor the fleet flags and env describe. */
export async function startServing(options: Omit<ServeOptions, 'stopped' | 'onStarted'> & { retryBaseMs?: number }, io: CliIo): Promise<Daemon> {
  const access = readFleetAccess(options.fleetFlags, io.env);
  // Loaded here: the daemon and the ECS SDK take a moment to load, which other commands need not pay.
  const [{ startDaemon }, { createExecutor }] = await Promise.all([import('../../reconcile/daemon.js'), import('../../executors/create-executor.js')]);
  const daemonOptions: DaemonOptions = {
    repo: isUrl(options.repo) ? options.repo : path.resolve(io.cwd, options.repo),
    ...(options.branch ? { branch: options.branch } : {}),
    path: options.path,
    stateDir: path.resolve(io.cwd, options.stateDir),
    port: options.port,
    env: io.env,
    log: io.log,
    createExecutor: async (region, onApiCall): Promise<Executor> => createExecutor(access, region, io.env, { onApiCall }),
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    ...(options.driftIntervalMs !== undefined ? { driftIntervalMs: options.driftIntervalMs } : {}),
    ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
  };
  return startDaemon(daemonOptions);
}

/** A remote URL (scheme://… or scp-like user@host:path), as opposed to a local path. */
export function isUrl(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\s]+@[^/\s:]+:/.test(repo);
}

/** `30s`, `5m`, `1h` or plain milliseconds, as milliseconds; a clear error otherwise. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new RollcallError('invalid-input', `${flag} ${value}: write a duration like 500ms, 30s, 10m or 1h`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}
