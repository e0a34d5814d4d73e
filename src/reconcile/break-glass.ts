import { summarize } from '../plan/build-plan.js';
import type { Plan, PlanEntry } from '../plan/types.js';
import type { ResultTrigger } from '../source/result-notes.js';

/** The trailer `rollcall lock --now` writes: the daemon applies that user's lock before anything else. */
export const BREAK_GLASS_TRAILER = 'Rollcall-Break-Glass';

/** A break-glass revision's plan in two: the named users' entries first, everything else after. */
export function splitBreakGlass(plan: Plan, logins: readonly string[]): { plan: Plan; trigger: ResultTrigger }[] {
  const urgent = (entry: PlanEntry) => entry.kind === 'user' && logins.includes(entry.name);
  const part = (keep: (entry: PlanEntry) => boolean): Plan => {
    const instances: Plan['instances'] = {};
    for (const [id, entries] of Object.entries(plan.instances)) {
      const kept = entries.filter(keep);
      if (kept.length > 0) instances[id] = kept;
    }
    return { ...plan, instances, summary: summarize(instances) };
  };
  const first = part(urgent);
  const rest = part((entry) => !urgent(entry));
  return [{ plan: first, trigger: 'break-glass' }, ...(Object.keys(rest.instances).length > 0 ? [{ plan: rest, trigger: 'revision' as const }] : [])];
}

