import { describe, expect, it } from 'vitest';
import { leaverApproval, leaverApprovalId, leaverSubmissions, offboardsForLeaver } from '../../src/requests/leavers.js';
import { approvalBranch, approvalMessage } from '../../src/requests/commit-request.js';
import { knownUser, type KnownUser } from '../../src/requests/types.js';

const users: KnownUser[] = [
  knownUser({ empId: 'E1001', login: 'zhangsan', ids: { dingtalk: 'ding_zhang', lark: 'ou_zhang' } }),
  knownUser({ empId: 'E1002', login: 'lisi', ids: { dingtalk: 'ding_li' } }),
  knownUser({ empId: 'E1003', login: 'wangwu', ids: { dingtalk: 'ding_wang' }, state: 'absent' }),
  knownUser({ empId: 'E1004', login: 'zhaoliu' }),
  // A second record of one person (say, a contractor account): both go.
  knownUser({ empId: 'C0001', login: 'zhangsan2', ids: { dingtalk: 'ding_zhang' } }),
];

describe('offboardsForLeaver', () => {
  it('offboards every present record that carries a leaving id on that platform', () => {
    expect(offboardsForLeaver('dingtalk', ['ding_zhang', 'ding_li', 'ding_wang', 'ding_nobody'], users)).toEqual([
      { kind: 'offboard', empId: 'E1001', flow: 'dingtalk/user_leave_org' },
      { kind: 'offboard', empId: 'E1002', flow: 'dingtalk/user_leave_org' },
      { kind: 'offboard', empId: 'C0001', flow: 'dingtalk/user_leave_org' },
    ]);
  });

  it('matches ids on the event\'s platform only', () => {
    expect(offboardsForLeaver('lark', ['ding_li', 'ou_zhang'], users)).toEqual([{ kind: 'offboard', empId: 'E1001', flow: 'lark/contact.user.deleted_v3' }]);
    expect(offboardsForLeaver('lark', [], users)).toEqual([]);
  });
});

describe('leaverApproval', () => {
  const event = { platform: 'lark' as const, eventId: '5e3702a84e847582be8db7fb73283c02', userIds: ['ou_zhang'], occurredAt: '2026-11-27T10:00:00Z' };

  it('is the event of record: the platform requests, the form names the event and the user', () => {
    const [submission] = leaverSubmissions(event, users);
    expect(submission).toEqual({
      request: { kind: 'offboard', empId: 'E1001', flow: 'lark/contact.user.deleted_v3' },
      event: {
        platform: 'lark',
        approvalId: '5e3702a84e847582be8db7fb73283c02-E1001',
        processCode: 'contact.user.deleted_v3',
        requester: { id: 'contact.user.deleted_v3', name: 'Lark' },
        approvers: [],
        form: { event: 'contact.user.deleted_v3', eventId: '5e3702a84e847582be8db7fb73283c02', userId: 'ou_zhang' },
        finishedAt: '2026-11-27T10:00:00Z',
      },
    });
    expect(approvalMessage(submission!.event, submission!.request, 'zhangsan')).toBe(
      'Offboard E1001 (zhangsan)\n\nevent: contact.user.deleted_v3\neventId: 5e3702a84e847582be8db7fb73283c02\nuserId: ou_zhang\n\n' +
        'Approval: lark/5e3702a84e847582be8db7fb73283c02-E1001\nRequested-by: Lark <lark:contact.user.deleted_v3>\nRequest: offboard\nFlow: lark/contact.user.deleted_v3\n',
    );
  });

  it('gives each record of one event its own stable approval id', () => {
    const ids = leaverSubmissions({ ...event, platform: 'dingtalk', userIds: ['ding_zhang'] }, users).map((entry) => entry.event.approvalId);
    expect(ids).toEqual(['5e3702a84e847582be8db7fb73283c02-E1001', '5e3702a84e847582be8db7fb73283c02-C0001']);
    expect(leaverApproval({ ...event, platform: 'dingtalk' }, { kind: 'offboard', empId: 'E1001', flow: 'x/y' }, 'ding_zhang').requester).toEqual({ id: 'user_leave_org', name: 'DingTalk' });
  });

  it('makes any event id a valid branch name, keeping distinct ids distinct', () => {
    const branchName = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
    const odd = ['evt.1/2', 'evt_1_2', '-leading', '事件-1', 'x'.repeat(200), `${'x'.repeat(200)}y`];
    const ids = odd.map((id) => leaverApprovalId(id, 'E1.5'));
    for (const id of ids) expect(id).toMatch(branchName);
    expect(new Set(ids).size).toBe(ids.length);
    expect(leaverApprovalId('evt.1/2', 'E1.5')).toBe(ids[0]);
    expect(approvalBranch({ platform: 'lark', approvalId: leaverApprovalId('abc', 'E1') })).toBe('rollcall/lark-abc-E1');
  });
});
