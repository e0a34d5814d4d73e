import { createInterface } from 'node:readline/promises';
import type { ApplyResult, ProgressEvent } from '../../executors/types.js';
import { plan } from '../../plan/build-plan.js';
import { render } from '../../plan/render-plan.js';
import { EXIT } from '../exit-codes.js';
import { wantsColor, type CliIo } from '../io.js';
import { loadRevision, printProblems } from './load.js';
import { observeFleet, type ExecutorFactory } from './observe-fleet.js';

export interface ApplyOptions {
  dir: string;
  autoApprove: boolean;
  executor: ExecutorFactory;
  /** Asks the person at the terminal; by default a readline prompt on stdin. */
  confirm?: (question: string) => Promise<boolean>;
  isInteractive?: boolean;
  now?: Date;
}

/** `rollcall apply`: plan against the live fleet, confirm, apply with progress. 0 when all applied, 1 otherwise. */
export async function applyCommand(options: ApplyOptions, io: CliIo): Promise<number> {
  const loaded = await loadRevision(options.dir, io);
  if (!loaded.ok) {
    printProblems(loaded.problems, io);
    return EXIT.failed;
  }
  const { desired, policy, generation } = loaded.loaded;
  const executor = await options.executor(desired);
  const { observed, failures } = await observeFleet(executor, desired, io);
  const planned = plan(desired, observed, policy, options.now ?? new Date());
  io.stdout.write(render(planned, { color: wantsColor(io) }));
  if (planned.errors.some((error) => error.instance === undefined)) return EXIT.failed;
  if (Object.keys(planned.instances).length === 0) return failures.length > 0 || planned.errors.length > 0 ? EXIT.failed : EXIT.ok;

  if (!options.autoApprove) {
    const interactive = options.isInteractive ?? Boolean(process.stdin.isTTY);
    if (!interactive) {
      io.stderr.write('rollcall apply: stdin is not a terminal: pass --auto-approve to apply without asking\n');
      return EXIT.failed;
    }
    const confirm = options.confirm ?? ask;
    if (!(await confirm('Apply this plan? Only "yes" is accepted: '))) {
      io.stderr.write('Apply cancelled.\n');
      return EXIT.failed;
    }
  }

  const progress = progressLine(io);
  const result = await executor.apply(planned, { generation, onProgress: progress.update });
  progress.end();
  io.stdout.write(summary(result));
  const allApplied = result.instances.every((instance) => instance.status === 'applied');
  return allApplied && failures.length === 0 && !result.stopped ? EXIT.ok : EXIT.failed;
}

async function ask(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await prompt.question(question)).trim() === 'yes';
  } finally {
    prompt.close();
  }
}

/** One line that updates in place on a terminal; a line per change elsewhere would only be noise. */
function progressLine(io: CliIo): { update: (event: ProgressEvent) => void; end: () => void } {
  const tty = Boolean((io.stderr as { isTTY?: boolean }).isTTY);
  let last = '';
  return {
    update(event) {
      last = `applying: ${event.done} done, ${event.failed} failed, ${event.running} running of ${event.total} instances`;
      if (tty) io.stderr.write(`\r${last}\x1b[K`);
    },
    end() {
      if (tty && last) io.stderr.write('\n');
    },
  };
}

function summary(result: ApplyResult): string {
  const lines: string[] = [''];
  const counts = { changed: 0, unchanged: 0, failed: 0 };
  for (const instance of result.instances) {
    for (const entry of instance.results) counts[entry.status]++;
    if (instance.status !== 'applied') {
      lines.push(`  ${instance.instance}: ${instance.status}${instance.message ? `: ${instance.message}` : ''}`);
      for (const entry of instance.results.filter((item) => item.status === 'failed')) lines.push(`    ${entry.op} ${entry.name}: ${entry.error ?? 'failed'}`);
    }
  }
  if (result.stopped) lines.push(`  ${result.stopped}`);
  const applied = result.instances.filter((instance) => instance.status === 'applied').length;
  lines.push(`Apply complete: ${applied} of ${result.instances.length} instances applied; ${counts.changed} changed, ${counts.unchanged} unchanged, ${counts.failed} failed.`);
  return `${lines.join('\n')}\n`;
}
