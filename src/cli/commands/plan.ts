import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatProblem } from '../../config/errors.js';
import { plan } from '../../plan/build-plan.js';
import { parseObservedState, type ObservedState } from '../../plan/observed-state.js';
import { render } from '../../plan/render-plan.js';
import { EXIT } from '../exit-codes.js';
import { wantsColor, type CliIo } from '../io.js';
import { loadRevision, printProblems } from './load.js';
import { observeFleet, type ExecutorFactory } from './observe-fleet.js';

export interface PlanOptions {
  dir: string;
  /** An observed-state snapshot to plan against instead of the live fleet. */
  observed?: string;
  json: boolean;
  detailedExitcode: boolean;
  /** The clock, for tests; the planner itself never reads one. */
  now?: Date;
  /** Where the live fleet comes from when there is no snapshot. */
  executor?: ExecutorFactory;
}

/**
 * `rollcall plan`: against a snapshot (`--observed`) or the live fleet. Exit 0 (no changes, or
 * changes without --detailed-exitcode), 2 (changes, with it), 1 (errors, or instances not read).
 */
export async function planCommand(options: PlanOptions, io: CliIo): Promise<number> {
  const loaded = await loadRevision(options.dir, io);
  if (!loaded.ok) {
    printProblems(loaded.problems, io);
    return EXIT.failed;
  }
  const { desired, policy } = loaded.loaded;
  let observed: ObservedState;
  let unreadable = 0;
  if (options.observed) {
    const snapshot = await readSnapshot(options.observed, io);
    if (!snapshot) return EXIT.failed;
    observed = snapshot;
  } else {
    if (!options.executor) throw new Error('plan without --observed needs an executor');
    const fleet = await observeFleet(await options.executor(desired), desired, io);
    observed = fleet.observed;
    unreadable = fleet.failures.length;
  }

  const started = performance.now();
  const result = plan(desired, observed, policy, options.now ?? new Date());
  io.log.debug({ revision: result.revision, instances: Object.keys(observed.instances).length, summary: result.summary, ms: Math.round(performance.now() - started) }, 'planned');
  io.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : render(result, { color: wantsColor(io) }));
  if (result.errors.length > 0 || unreadable > 0) return EXIT.failed;
  const changes = Object.keys(result.instances).length > 0;
  return options.detailedExitcode && changes ? EXIT.changes : EXIT.ok;
}

/** A snapshot file, validated; problems are printed and undefined returned. */
export async function readSnapshot(file: string, io: CliIo): Promise<ObservedState | undefined> {
  const snapshotPath = path.resolve(io.cwd, file);
  const text = await readFile(snapshotPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    io.stderr.write(`rollcall plan: cannot read the snapshot ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}\n`);
    return undefined;
  });
  if (text === undefined) return undefined;
  const observed = parseObservedState(path.relative(io.cwd, snapshotPath), text);
  if (!observed.ok) {
    for (const problem of observed.problems) io.stderr.write(`${formatProblem(problem)}\n`);
    return undefined;
  }
  return observed.observed;
}
