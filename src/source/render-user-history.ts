import { formatChange, type ResultTrigger } from './result-notes.js';
import type { HistoryApplication, HistoryCommit, UserHistory } from './user-history.js';

/** Characters of a sha shown: enough to paste into `git show`. */
const SHORT_SHA = 10;

/** Why an apply ran, when it was not simply a new revision. */
const TRIGGER_NOTES: Record<ResultTrigger, string> = {
  revision: '',
  drift: 'drift correction',
  'new-instance': 'new instance',
  'break-glass': 'break-glass',
};

/**
 * `rollcall history` for a terminal: who asked for what and who approved it (from the commits),
 * then what was applied on which instance and when (from the notes), oldest first.
 */
export function renderUserHistory(history: UserHistory): string {
  const lines = [`${history.empId} (login ${history.login || 'unknown'})`, ''];
  lines.push(`Requests (${history.commits.length}, oldest first)`);
  for (const commit of history.commits) lines.push(...commitLines(commit));
  lines.push('');
  if (history.applications.length === 0) {
    lines.push(`Applied: nothing yet (no rollcall result names ${history.login || history.empId})`);
  } else {
    lines.push(`Applied (${history.applications.length}, oldest first)`);
    const instanceWidth = Math.max(...history.applications.map((application) => application.instance.length));
    const statusWidth = Math.max(...history.applications.map((application) => application.status.length));
    for (const application of history.applications) lines.push(...applicationLines(application, instanceWidth, statusWidth));
  }
  return `${lines.join('\n')}\n`;
}

function commitLines(commit: HistoryCommit): string[] {
  const lines = [`  ${readableTime(commit.date)}  ${commit.sha.slice(0, SHORT_SHA)}  ${commit.subject}`];
  const asked = [commit.request && `request ${commit.request}`, commit.requestedBy && `requested by ${commit.requestedBy}`].filter(Boolean);
  if (asked.length > 0) lines.push(`      ${asked.join(', ')}`);
  const approved = [commit.approvers.length > 0 && `approved by ${commit.approvers.join(', ')}`, commit.approval && `approval ${commit.approval}`].filter(Boolean);
  if (approved.length > 0) lines.push(`      ${approved.join('; ')}`);
  lines.push(`      committed by ${commit.author} in ${commit.file}`);
  return lines;
}

function applicationLines(application: HistoryApplication, instanceWidth: number, statusWidth: number): string[] {
  const note = TRIGGER_NOTES[application.trigger];
  const line =
    `  ${readableTime(application.at)}  ${application.revision.slice(0, SHORT_SHA)}  ${application.instance.padEnd(instanceWidth)}  ` +
    `${application.status.padEnd(statusWidth)}  ${application.changes.map(formatChange).join(', ')}${note ? `  (${note})` : ''}`;
  const lines = [line];
  const error = application.error?.split('\n').find((part) => part.trim() !== '');
  if (error) lines.push(`      error: ${error.trim()}`);
  return lines;
}

/** `2025-06-01T08:00:00.000Z` → `2025-06-01 08:00:00Z`: the same instant, easier to scan. */
function readableTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+(?=Z$|[+-]\d\d:\d\d$)/, '');
}
