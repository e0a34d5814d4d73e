import { shortRevision } from '../../plan/render-plan.js';
import type { CliIo } from '../io.js';
import { EXIT } from '../exit-codes.js';
import { loadRevision, printProblems } from './load.js';

export interface ValidateOptions {
  dir: string;
  json: boolean;
}

/** `rollcall validate`: exit 0 with a one-line summary, or 1 with every problem. */
export async function validateCommand(options: ValidateOptions, io: CliIo): Promise<number> {
  const result = await loadRevision(options.dir, io);
  if (options.json) {
    const document = result.ok
      ? { valid: true, revision: result.loaded.desired.revision, problems: [] }
      : { valid: false, problems: result.problems };
    io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    return result.ok ? EXIT.ok : EXIT.failed;
  }
  if (!result.ok) {
    printProblems(result.problems, io);
    return EXIT.failed;
  }
  const { desired } = result.loaded;
  io.stdout.write(
    `${options.dir} is valid: ${count(desired.users.length, 'user')}, ${count(desired.roles.size, 'role')}, ` +
      `${count(Object.keys(desired.fleet.hostgroups).length, 'hostgroup')}, ${count(desired.approvals.flows.length, 'approval flow')} ` +
      `(revision ${shortRevision(desired.revision)})\n`,
  );
  return EXIT.ok;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
