import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatProblem } from '../../config/errors.js';
import { plan } from '../../plan/build-plan.js';
import { parseObservedState } from '../../plan/observed-state.js';
import { render } from '../../plan/render-plan.js';
import { EXIT } from '../exit-codes.js';
import { wantsColor, type CliIo } from '../io.js';
import { loadRevision, printProblems } from './load.js';

export interface PlanOptions {
  dir: string;
  /** An observed-state snapshot to plan against instead of the live fleet. */
  observed?: string;
  json: boolean;
  detailedExitcode: boolean;
  /** The clock, for tests; the planner itself never reads one. */
  now?: Date;
}

/** `rollcall plan`: 0 (no changes, or changes without --detailed-exitcode), 2 (changes, with it), 1 (errors). */
export async function planCommand(options: PlanOptions, io: CliIo): Promise<number> {
  if (!options.observed) {
    io.stderr.write(
      'rollcall plan: reading the fleet itself needs the ECS executor, which this version does not have yet.\n' +
        'Plan against a snapshot instead: rollcall plan --observed FILE (the format `rollcall inventory --json` prints; an example is test/fixtures/observed.json).\n',
    );
    return EXIT.failed;
  }
  const loaded = await loadRevision(options.dir, io);
  if (!loaded.ok) {
    printProblems(loaded.problems, io);
    return EXIT.failed;
  }
  const snapshotPath = path.resolve(io.cwd, options.observed);
  const text = await readFile(snapshotPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    io.stderr.write(`rollcall plan: cannot read the snapshot ${options.observed}: ${error.code === 'ENOENT' ? 'no such file' : error.message}\n`);
    return undefined;
  });
  if (text === undefined) return EXIT.failed;
  const observed = parseObservedState(path.relative(io.cwd, snapshotPath), text);
  if (!observed.ok) {
    for (const problem of observed.problems) io.stderr.write(`${formatProblem(problem)}\n`);
    return EXIT.failed;
  }

  const { desired, policy } = loaded.loaded;
  const started = performance.now();
  const result = plan(desired, observed.observed, policy, options.now ?? new Date());
  io.log.debug({ revision: result.revision, instances: Object.keys(observed.observed.instances).length, summary: result.summary, ms: Math.round(performance.now() - started) }, 'planned');
  io.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : render(result, { color: wantsColor(io) }));
  if (result.errors.length > 0) return EXIT.failed;
  const changes = Object.keys(result.instances).length > 0;
  return options.detailedExitcode && changes ? EXIT.changes : EXIT.ok;
}
