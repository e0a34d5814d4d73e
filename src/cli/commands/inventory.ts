import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { loadRevision, printProblems } from './load.js';
import { observeFleet, type ExecutorFactory } from './observe-fleet.js';

export interface InventoryOptions {
  dir: string;
  json: boolean;
  executor: ExecutorFactory;
}

/** `rollcall inventory`: the observed state of the fleet's instances, as the snapshot `plan --observed` reads. */
export async function inventoryCommand(options: InventoryOptions, io: CliIo): Promise<number> {
  const loaded = await loadRevision(options.dir, io);
  if (!loaded.ok) {
    printProblems(loaded.problems, io);
    return EXIT.failed;
  }
  const { desired } = loaded.loaded;
  const { observed, failures } = await observeFleet(await options.executor(desired), desired, io);
  if (options.json) {
    io.stdout.write(`${JSON.stringify(observed, null, 2)}\n`);
  } else {
    const rows = Object.entries(observed.instances).map(([id, instance]) => {
      const managed = instance.users.filter((user) => user.managed).length;
      const tags = Object.entries(instance.tags).map(([key, value]) => `${key}=${value}`).join(',');
      return `${id}  ${instance.users.length} accounts, ${managed} rollcall's, ${instance.groups.filter((group) => group.managed).length} groups, ${Object.keys(instance.sudoers).length} sudoers files  ${tags}`;
    });
    io.stdout.write(`${rows.join('\n')}${rows.length > 0 ? '\n' : ''}${rows.length} instance${rows.length === 1 ? '' : 's'} read${failures.length > 0 ? `, ${failures.length} could not be` : ''}.\n`);
  }
  return failures.length > 0 ? EXIT.failed : EXIT.ok;
}
