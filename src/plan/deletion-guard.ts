import { compareStrings } from '../desired/compare-strings.js';
import type { PlanEntry, PlanPolicy, PlanProblem } from './types.js';

const LOGINS_NAMED = 20;

/**
 * The blast-radius guard: a plan that locks or deletes more distinct logins than
 * `policy.maxDeletions` (or the revision's `Rollcall-Allow-Deletions: N`) is refused as a whole.
 * Groups and sudoers files do not count: removing them takes nobody's access away by itself.
 */
export function checkDeletionGuard(instances: Readonly<Record<string, readonly PlanEntry[]>>, policy: PlanPolicy): PlanProblem | undefined {
  const logins = new Set<string>();
  for (const entries of Object.values(instances)) {
    for (const entry of entries) if (entry.kind === 'user' && (entry.action === 'lock' || entry.action === 'delete')) logins.add(entry.name);
  }
  const limit = Math.max(policy.maxDeletions, policy.allowDeletions ?? 0);
  if (logins.size <= limit) return undefined;
  const names = [...logins].sort(compareStrings);
  const shown = names.slice(0, LOGINS_NAMED).join(', ') + (names.length > LOGINS_NAMED ? ` and ${names.length - LOGINS_NAMED} more` : '');
  return {
    message:
      `the plan would lock or delete ${logins.size} login${logins.size === 1 ? '' : 's'} (${shown}), more than policy.maxDeletions (${limit}); ` +
      `if that is intended, add the trailer "Rollcall-Allow-Deletions: ${logins.size}" to the commit, or raise policy.maxDeletions`,
  };
}
