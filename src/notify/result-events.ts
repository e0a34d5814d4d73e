import { compareStrings } from '../desired/compare-strings.js';
import type { Revision } from '../source/desired-repository.js';
import { formatChange, type ChangeLine, type ResultRecord } from '../source/result-notes.js';
import { Platform } from '../desired/schema.js';
import type { AppliedEvent, ChatPerson, DriftEvent, InstanceOutcome, Links, RevisionRef } from './events.js';

/** A commit as messages name it, with the approval that made it and who asked, when its trailers say so. */
export function revisionRef(revision: Pick<Revision, 'sha' | 'subject' | 'trailers'>): RevisionRef {
  const approval = revision.trailers.Approval?.[0];
  const requester = parsePerson(revision.trailers['Requested-by']?.[0]);
  return { sha: revision.sha, subject: revision.subject, ...(approval ? { approval } : {}), ...(requester ? { requester } : {}) };
}

/**
 * `Name <platform:id>` as the approval commits write a person; undefined for anything else (a
 * commit made by hand may say `Requested-by: someone`, which names nobody a chat can mention).
 */
export function parsePerson(trailer: string | undefined): ChatPerson | undefined {
  const match = trailer === undefined ? null : /^(.*?)\s*<([a-z]+):([^<>\s]+)>$/.exec(trailer);
  if (!match) return undefined;
  const platform = Platform.safeParse(match[2]);
  if (!platform.success) return undefined;
  const name = match[1]!.trim();
  return { id: match[3]!, platform: platform.data, ...(name && name !== match[3] ? { name } : {}) };
}

/** What one apply did, for the chat: the logins by what happened to them, and how each instance ended. */
export function appliedEvent(record: ResultRecord, revision: RevisionRef, links: Links = {}): AppliedEvent {
  const accounts = { created: new Set<string>(), updated: new Set<string>(), locked: new Set<string>(), deleted: new Set<string>() };
  const into = { create: accounts.created, update: accounts.updated, lock: accounts.locked, delete: accounts.deleted } as const;
  const instances: InstanceOutcome[] = [];
  for (const [id, instance] of Object.entries(record.instances).sort(([a], [b]) => compareStrings(a, b))) {
    // Only what happened counts: a failed or skipped instance's changes were planned, not made.
    if (instance.status === 'applied') for (const change of instance.changes) if (change.kind === 'user') into[change.action].add(change.name);
    const ok = instance.status === 'applied' || instance.status === 'unchanged';
    instances.push({
      id,
      ok,
      ...(!ok && instance.changes[0] ? { failedOperation: formatChange(instance.changes[0]) } : {}),
      ...(!ok ? { error: instance.error ?? instance.status } : {}),
    });
  }
  const sorted = (names: Set<string>) => [...names].sort(compareStrings);
  return {
    kind: 'applied',
    revision,
    trigger: record.trigger,
    durationMs: record.durationMs,
    accounts: { created: sorted(accounts.created), updated: sorted(accounts.updated), locked: sorted(accounts.locked), deleted: sorted(accounts.deleted) },
    instances,
    links,
  };
}

/** Instances that differ from the revision in force, found or corrected. */
export function driftEvent(changes: Readonly<Record<string, readonly ChangeLine[]>>, revision: RevisionRef, corrected: boolean, links: Links = {}): DriftEvent {
  return {
    kind: 'drift',
    corrected,
    revision,
    instances: Object.entries(changes)
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([id, lines]) => ({ id, changes: [...lines] })),
    links,
  };
}
