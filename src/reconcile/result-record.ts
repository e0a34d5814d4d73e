import type { ApplyResult } from '../executors/types.js';
import type { Plan, PlanEntry } from '../plan/types.js';
import type { ChangeLine, InstanceResultRecord, ResultRecord, ResultTrigger } from '../source/result-notes.js';

/** A plan entry as one line of a result note: what was done to what, and which fields changed. */
export function changeLine(entry: PlanEntry): ChangeLine {
  const fields = 'changes' in entry ? Object.keys(entry.changes).sort() : [];
  return { action: entry.action, kind: entry.kind, name: entry.name, ...(fields.length > 0 && entry.action === 'update' ? { fields } : {}) };
}

/** What a reconcile did, per instance, as the git note records it. */
export function resultRecord(input: {
  attempt: string;
  trigger: ResultTrigger;
  generation: number;
  plan: Plan;
  result: ApplyResult | undefined;
  startedAt: number;
  finishedAt: number;
  /** Instances the reconcile looked at: those without entries are recorded as unchanged. */
  instances: readonly string[];
}): ResultRecord {
  const instances: Record<string, InstanceResultRecord> = {};
  for (const id of input.instances) instances[id] = { status: 'unchanged', changes: [] };
  for (const [id, entries] of Object.entries(input.plan.instances)) instances[id] = { status: 'skipped', changes: entries.map(changeLine) };
  for (const outcome of input.result?.instances ?? []) {
    const entries = input.plan.instances[outcome.instance] ?? [];
    const failed = outcome.results.find((result) => result.status === 'failed');
    instances[outcome.instance] = {
      status: outcome.status,
      changes: entries.map(changeLine),
      ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}),
      ...(outcome.durationMs !== undefined ? { durationMs: outcome.durationMs } : {}),
      ...(outcome.status !== 'applied' ? { error: outcome.message ?? (failed ? `${failed.op} ${failed.kind} ${failed.name}: ${failed.error ?? 'failed'}` : 'failed') } : {}),
    };
  }
  const changed = Object.values(instances).some((instance) => instance.changes.length > 0);
  const failed = Object.values(instances).some((instance) => instance.status === 'failed' || instance.status === 'skipped');
  return {
    attempt: input.attempt,
    at: new Date(input.finishedAt).toISOString(),
    trigger: input.trigger,
    generation: input.generation,
    outcome: failed ? 'failed' : changed ? 'applied' : 'no-changes',
    durationMs: input.finishedAt - input.startedAt,
    instances,
  };
}
