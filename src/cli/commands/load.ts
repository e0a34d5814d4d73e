import path from 'node:path';
import { formatProblem, type SourceProblem } from '../../config/errors.js';
import { loadDesiredState } from '../../desired/load-desired-state.js';
import type { DesiredState } from '../../desired/types.js';
import type { PlanPolicy } from '../../plan/types.js';
import { describeCommittedRevision } from '../../source/git.js';
import type { CliIo } from '../io.js';

export interface LoadedRevision {
  desired: DesiredState;
  /** fleet.yaml's policy, lifted by the commit's `Rollcall-Allow-Deletions` trailer if it has one. */
  policy: PlanPolicy;
  files: string[];
  /**
   * The apply generation: the commit's time for a committed revision, else now. It only grows from
   * revision to revision, so an agent can refuse an older one that arrives late.
   */
  generation: number;
}

/**
 * Loads the desired state and names its revision: the commit sha when the folder is a clean git
 * tree (with that commit's trailers), else the hash of the files. Problems come back as a list.
 */
export async function loadRevision(dir: string, io: CliIo): Promise<{ ok: true; loaded: LoadedRevision } | { ok: false; problems: SourceProblem[] }> {
  const absolute = path.resolve(io.cwd, dir);
  const result = await loadDesiredState(absolute, { cwd: io.cwd });
  if (!result.ok) return result;
  const commit = await describeCommittedRevision(absolute);
  const desired = commit ? { ...result.desired, revision: commit.sha } : result.desired;
  const policy: PlanPolicy = { ...desired.fleet.policy, ...(commit?.allowDeletions !== undefined ? { allowDeletions: commit.allowDeletions } : {}) };
  const generation = commit?.committedAt ?? Math.floor(Date.now() / 1000);
  return { ok: true, loaded: { desired, policy, files: result.files, generation } };
}

export function printProblems(problems: readonly SourceProblem[], io: CliIo): void {
  for (const problem of problems) io.stderr.write(`${formatProblem(problem)}\n`);
  io.stderr.write(`${problems.length} problem${problems.length === 1 ? '' : 's'} found.\n`);
}
