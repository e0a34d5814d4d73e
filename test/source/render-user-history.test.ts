import { describe, expect, it } from 'vitest';
import { renderUserHistory } from '../../src/source/render-user-history.js';
import type { UserHistory } from '../../src/source/user-history.js';

const ONBOARD = '3f2a9c1e0b7d4e5f6a7b8c9d0e1f2a3b4c5d6e7f';
const GRANT = '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b';

const history: UserHistory = {
  empId: 'E1003',
  login: 'wangwu',
  commits: [
    {
      sha: ONBOARD,
      date: '2025-06-02T16:00:00+08:00',
      subject: 'Onboard wangwu',
      request: 'onboard',
      requestedBy: '张三 <dingtalk:0231>',
      approvers: ['李四 <dingtalk:0232>', '王五 <dingtalk:0233>'],
      approval: 'dingtalk/PROC-1',
      author: 'Rollcall <rollcall@localhost>',
      file: 'desired-state/users/E1O03.yaml',
    },
    { sha: '1111111111aaaaaaaaaa', date: '2025-06-02T17:00:00+08:00', subject: 'Correct the empId of wangwu', approvers: [], author: 'Ops <ops@example.com>', file: 'desired-state/users/E1003.yaml' },
    { sha: GRANT, date: '2025-06-03T16:00:00+08:00', subject: 'Grant oncall to wangwu', request: 'grant', approvers: ['李四 <dingtalk:0232>'], author: 'Rollcall <rollcall@localhost>', file: 'desired-state/users/E1003.yaml' },
  ],
  applications: [
    { revision: ONBOARD, at: '2025-06-02T08:00:05.123Z', trigger: 'revision', instance: 'i-web1', status: 'applied', changes: [{ action: 'create', kind: 'group', name: 'wangwu' }, { action: 'create', kind: 'user', name: 'wangwu' }] },
    { revision: ONBOARD, at: '2025-06-02T08:00:05.123Z', trigger: 'revision', instance: 'i-db10', status: 'failed', changes: [{ action: 'create', kind: 'user', name: 'wangwu' }], error: '\nuseradd: cannot lock /etc/passwd\nretry later' },
    { revision: GRANT, at: '2025-06-03T08:00:04Z', trigger: 'revision', instance: 'i-web1', status: 'applied', changes: [{ action: 'update', kind: 'user', name: 'wangwu', fields: ['groups'] }] },
    { revision: ONBOARD, at: '2025-06-04T03:00:00.000Z', trigger: 'drift', instance: 'i-web1', status: 'applied', changes: [{ action: 'update', kind: 'user', name: 'wangwu', fields: ['shell', 'sshKeys'] }] },
  ],
};

describe('renderUserHistory', () => {
  it('shows the requests, then what was applied on each instance and when', () => {
    expect(renderUserHistory(history)).toMatchInlineSnapshot(`
      "E1003 (login wangwu)

      Requests (3, oldest first)
        2025-06-02 16:00:00+08:00  3f2a9c1e0b  Onboard wangwu
            request onboard, requested by 张三 <dingtalk:0231>
            approved by 李四 <dingtalk:0232>, 王五 <dingtalk:0233>; approval dingtalk/PROC-1
            committed by Rollcall <rollcall@localhost> in desired-state/users/E1O03.yaml
        2025-06-02 17:00:00+08:00  1111111111  Correct the empId of wangwu
            committed by Ops <ops@example.com> in desired-state/users/E1003.yaml
        2025-06-03 16:00:00+08:00  9a8b7c6d5e  Grant oncall to wangwu
            request grant
            approved by 李四 <dingtalk:0232>
            committed by Rollcall <rollcall@localhost> in desired-state/users/E1003.yaml

      Applied (4, oldest first)
        2025-06-02 08:00:05Z  3f2a9c1e0b  i-web1  applied  create group wangwu, create user wangwu
        2025-06-02 08:00:05Z  3f2a9c1e0b  i-db10  failed   create user wangwu
            error: useradd: cannot lock /etc/passwd
        2025-06-03 08:00:04Z  9a8b7c6d5e  i-web1  applied  update user wangwu (groups)
        2025-06-04 03:00:00Z  3f2a9c1e0b  i-web1  applied  update user wangwu (shell, sshKeys)  (drift correction)
      "
    `);
  });

  it('says when nothing has been applied yet', () => {
    expect(renderUserHistory({ ...history, applications: [] }).split('\n').slice(-2)).toEqual(['Applied: nothing yet (no rollcall result names wangwu)', '']);
  });
});
