import { describe, expect, it } from 'vitest';
import type { User } from '../../src/desired/types.js';
import { dueReminders, reminderKey } from '../../src/notify/reminders.js';

function user(empId: string, extra: Partial<User> = {}): User {
  return { empId, login: `u${empId.toLowerCase()}`, uid: 20000 + Number(empId.slice(1)), roles: [], sshKeys: [], shell: '/bin/bash', state: 'present', adopt: false, ...extra } as User;
}

describe('dueReminders', () => {
  it('reminds of an expiry and a grant ending within the window, both ends included, soonest first', () => {
    const users = [
      user('E1', { expires: '2026-12-05' }),
      user('E2', { roles: [{ role: 'oncall', until: '2026-11-28' }, { role: 'analyst', until: '2026-12-06' }, { role: 'devops' }] }),
      user('E3', { expires: '2026-11-27' }),
    ];
    expect(dueReminders(users, '2026-11-28', 7)).toEqual([
      { kind: 'reminder', empId: 'E2', login: 'ue2', loses: { role: 'oncall' }, on: '2026-11-28' },
      { kind: 'reminder', empId: 'E1', login: 'ue1', loses: { account: true }, on: '2026-12-05' },
    ]);
    expect(dueReminders(users, '2026-11-29', 7).map(reminderKey)).toEqual(['reminder:E1:account:2026-12-05', 'reminder:E2:role:analyst:2026-12-06']);
  });

  it('says nothing of absent users, of roles that end with the account, or when reminders are off', () => {
    const users = [
      user('E4', { state: 'absent', expires: '2026-11-30' }),
      user('E5', { expires: '2026-11-30', roles: [{ role: 'oncall', until: '2026-12-01' }] }),
    ];
    expect(dueReminders(users, '2026-11-28', 7)).toEqual([{ kind: 'reminder', empId: 'E5', login: 'ue5', loses: { account: true }, on: '2026-11-30' }]);
    expect(dueReminders(users, '2026-11-28', 0)).toEqual([]);
  });

  it('crosses months and years', () => {
    expect(dueReminders([user('E6', { expires: '2027-01-03' })], '2026-12-29', 5)).toHaveLength(1);
    expect(dueReminders([user('E6', { expires: '2027-01-04' })], '2026-12-29', 5)).toHaveLength(0);
  });
});
