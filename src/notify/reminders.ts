import { compareStrings } from '../desired/compare-strings.js';
import type { User } from '../desired/types.js';
import type { ReminderEvent } from './events.js';

const DAY_MS = 86_400_000;

/**
 * The reminders due on `today` (YYYY-MM-DD in policy.timezone): for each present user, an
 * `expires` or a grant's `until` from today to `remindBefore` days ahead, both included. The same
 * reminder comes back every day of that window: the caller keys it (`reminderKey`) so that it is
 * sent once. Pure.
 */
export function dueReminders(users: readonly User[], today: string, remindBefore: number): ReminderEvent[] {
  if (remindBefore <= 0) return [];
  const last = addDays(today, remindBefore);
  const inWindow = (day: string | undefined): day is string => day !== undefined && day >= today && day <= last;
  const due: ReminderEvent[] = [];
  for (const user of users) {
    if (user.state === 'absent') continue;
    if (inWindow(user.expires)) due.push({ kind: 'reminder', empId: user.empId, login: user.login, loses: { account: true }, on: user.expires });
    for (const grant of user.roles) {
      // An account that ends first takes its roles with it: one reminder says so.
      if (inWindow(grant.until) && !(user.expires !== undefined && user.expires <= grant.until)) {
        due.push({ kind: 'reminder', empId: user.empId, login: user.login, loses: { role: grant.role }, on: grant.until });
      }
    }
  }
  return due.sort((a, b) => compareStrings(a.on, b.on) || compareStrings(a.empId, b.empId));
}

/** The outbox key of a reminder: one per user, what they lose, and the day. */
export function reminderKey(reminder: ReminderEvent): string {
  return `reminder:${reminder.empId}:${'role' in reminder.loses ? `role:${reminder.loses.role}` : 'account'}:${reminder.on}`;
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}
