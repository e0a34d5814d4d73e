import { z } from 'zod';
import { RollcallError } from '../config/errors.js';
import { ObservedGroup, ObservedInstance, ObservedUser } from '../plan/observed-state.js';

/** One operation's outcome, as the agent prints it. */
export const OperationResult = z.object({
  op: z.string(),
  kind: z.enum(['group', 'sudoers', 'user', 'unknown']),
  name: z.string(),
  status: z.enum(['changed', 'unchanged', 'failed']),
  error: z.string().optional(),
});
export type OperationResult = z.output<typeof OperationResult>;

const Summary = z.object({
  summary: z.object({ changed: z.int(), unchanged: z.int(), failed: z.int() }),
  generation: z.int(),
  refused: z.string().optional(),
});

export interface ApplyOutput {
  results: OperationResult[];
  summary?: z.output<typeof Summary>['summary'];
  /** Why the agent refused the whole invocation (an older generation), if it did. */
  refused?: string;
  /** The agent stopped before its first operation, or lines it printed could not be read. */
  errors: string[];
}

/** Reads the agent's apply output: one JSON line per operation, then a summary line. */
export function parseApplyOutput(stdout: string): ApplyOutput {
  const output: ApplyOutput = { results: [], errors: [] };
  for (const text of stdout.split('\n')) {
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      output.errors.push(`unreadable agent output: ${text.slice(0, 200)}`);
      continue;
    }
    const result = OperationResult.safeParse(value);
    if (result.success) {
      output.results.push(result.data);
      continue;
    }
    const summary = Summary.safeParse(value);
    if (summary.success) {
      output.summary = summary.data.summary;
      if (summary.data.refused) output.refused = summary.data.refused;
      continue;
    }
    const error = z.object({ error: z.string() }).safeParse(value);
    output.errors.push(error.success ? error.data.error : `unexpected agent output: ${text.slice(0, 200)}`);
  }
  return output;
}

/** One page of `inventory`: the instance's accounts from some index on, and where the next page starts. */
export const InventoryPage = z.strictObject({
  users: z.array(ObservedUser),
  groups: z.array(ObservedGroup),
  sudoers: z.record(z.string(), z.string()),
  nextPage: z.string().regex(/^\d+$/).optional(),
});
export type InventoryPage = z.output<typeof InventoryPage>;

/** Reads one inventory page; an error line or broken JSON is an error that names the instance. */
export function parseInventoryPage(instanceId: string, stdout: string): InventoryPage {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch (error) {
    throw new RollcallError('internal', `${instanceId}: the agent's inventory is not JSON (${(error as Error).message})`);
  }
  const page = InventoryPage.safeParse(value);
  if (!page.success) {
    const error = z.object({ error: z.string() }).safeParse(value);
    throw new RollcallError('internal', `${instanceId}: ${error.success ? `the agent says: ${error.data.error}` : `the agent's inventory does not match the snapshot format: ${page.error.issues[0]?.message}`}`);
  }
  return page.data;
}

/** The pages of one instance, joined into its snapshot entry; `tags` come from the ECS API. */
export function mergeInventoryPages(pages: readonly InventoryPage[], tags: Readonly<Record<string, string>> = {}): ObservedInstance {
  return ObservedInstance.parse({
    tags,
    users: pages.flatMap((page) => page.users),
    groups: pages.flatMap((page) => page.groups),
    sudoers: Object.assign({}, ...pages.map((page) => page.sudoers)),
  });
}
