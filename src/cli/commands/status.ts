import path from 'node:path';
import { RollcallError } from '../../config/errors.js';
import type { ReconcilerStatus } from '../../reconcile/status.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

export interface StatusOptions {
  /** The daemon's address; default: what the running daemon wrote into the state dir. */
  url?: string;
  stateDir: string;
  json: boolean;
}

/**
 * `rollcall status`: the running daemon's status (GET /status). Exit 0 when Ready or
 * Reconciling, 1 when Stalled or when no daemon answers.
 */
export async function statusCommand(options: StatusOptions, io: CliIo): Promise<number> {
  const url = await daemonUrl(options, io);
  let status: ReconcilerStatus;
  try {
    const response = await fetch(new URL('/status', url), { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    status = (await response.json()) as ReconcilerStatus;
  } catch (error) {
    throw new RollcallError('invalid-input', `no rollcall answers at ${url} (${(error as Error).message}): is rollcall serve running?`);
  }
  io.stdout.write(options.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
  return status.state === 'Stalled' ? EXIT.failed : EXIT.ok;
}

/** Where the daemon is: --url or ROLLCALL_URL, else the file the daemon wrote into its state dir. */
export async function daemonUrl(options: { url?: string; stateDir: string }, io: CliIo): Promise<string> {
  if (options.url) return options.url;
  const stateDir = path.resolve(io.cwd, options.stateDir);
  const { readDaemonFile } = await import('../../reconcile/daemon.js');
  const running = await readDaemonFile(stateDir);
  if (!running) throw new RollcallError('invalid-input', `no running rollcall serve uses the state dir ${stateDir}: pass --url http://HOST:PORT (or ROLLCALL_URL), or --state-dir of the daemon`);
  return running.url;
}

export function renderStatus(status: ReconcilerStatus): string {
  const short = (sha: string | undefined) => (sha ? sha.slice(0, 12) : '-');
  const lines = [
    `${status.state} (${status.reason}): ${status.message.split('\n')[0]}`,
    ...status.message.split('\n').slice(1).map((line) => `  ${line}`),
    `  repository:      ${status.repository.repo} (branch ${status.repository.branch}, folder ${status.repository.path})`,
    `  last applied:    ${short(status.lastAppliedRevision)}`,
    `  last attempted:  ${short(status.lastAttemptedRevision)}`,
    ...(status.outboxPending > 0 ? [`  notifications waiting: ${status.outboxPending}`] : []),
    ...((status.approvalsPending ?? 0) > 0 ? [`  approvals waiting: ${status.approvalsPending}`] : []),
    ...(status.robots ?? [])
      .filter((robot) => robot.lastFailure !== undefined || robot.pausedUntil !== undefined)
      .map((robot) => `  chat ${robot.channel}: ${robot.pausedUntil !== undefined ? `paused until ${new Date(robot.pausedUntil).toISOString()}` : 'not sending'}${robot.lastFailure ? ` (${robot.lastFailure.code}: ${robot.lastFailure.message}${robot.lastFailure.fix ? `; ${robot.lastFailure.fix}` : ''})` : ''}`),
    ...(status.uncommittedEdits?.length ? [`  uncommitted edits (not applied until committed): ${status.uncommittedEdits.join(', ')}`] : []),
  ];
  const instances = Object.entries(status.instances).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (instances.length > 0) {
    const width = Math.max(...instances.map(([id]) => id.length));
    lines.push('  instances:');
    for (const [id, instance] of instances) lines.push(`    ${id.padEnd(width)}  ${instance.state.padEnd(11)}  ${short(instance.lastAppliedRevision).padEnd(12)}  ${instance.message.split('\n')[0]}`);
  }
  return `${lines.join('\n')}\n`;
}
