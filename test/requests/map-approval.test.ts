import { describe, expect, it } from 'vitest';
import { ApprovalsFile } from '../../src/desired/schema.js';
import { requestFromApproval } from '../../src/requests/map-approval.js';
import type { ApprovalEvent, KnownUser } from '../../src/requests/types.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN8QEjW/WLKUJCu73SJqUCM9t/kLvRAqofrJN26bQsz1 new@laptop';
const approvals = ApprovalsFile.parse({
  flows: [
    { platform: 'dingtalk', processCode: 'PROC-ONBOARD', request: 'onboard', roles: ['devops', 'analyst'], fields: { empId: '工号', login: '账号', name: '姓名', role: '角色', sshKey: 'SSH公钥' }, notify: 'ops' },
    { platform: 'lark', approvalCode: 'ONBOARD-PICK', request: 'onboard', fields: { empId: '工号', login: '账号', userId: '员工' }, notify: 'ops' },
    { platform: 'dingtalk', processCode: 'PROC-OFFBOARD', request: 'offboard', fields: { empId: '工号' }, notify: 'ops' },
    { platform: 'lark', approvalCode: 'GRANT', request: 'grant', subject: 'originator', roles: ['analyst', 'ghost'], fields: { empId: '工号', role: '角色', until: '截止日期' }, notify: 'ops' },
    { platform: 'lark', approvalCode: 'REVOKE', request: 'revoke', roles: ['analyst', 'oncall'], fields: { empId: '工号', role: '角色' }, notify: 'ops' },
  ],
});
const roleNames = new Set(['devops', 'analyst', 'oncall', 'dba']);
const users: KnownUser[] = [
  { empId: 'E1001', login: 'zhangsan', platformIds: { lark: 'ou_zhang', dingtalk: 'ding_zhang' } },
  { empId: 'E1002', login: 'lisi', platformIds: { lark: 'ou_li' } },
];

function event(platform: ApprovalEvent['platform'], processCode: string, form: Record<string, string>, requester = 'ou_zhang'): ApprovalEvent {
  return { platform, approvalId: 'A1', processCode, requester: { id: requester }, approvers: [{ id: 'boss' }], form, finishedAt: '2026-11-27T10:00:00Z' };
}
const onboardForm = { 工号: 'E2001', 账号: 'newbie', 姓名: 'New Bie', 角色: 'devops', SSH公钥: KEY };

describe('requestFromApproval', () => {
  it('maps an onboarding form by the flow\'s field labels', () => {
    expect(requestFromApproval(event('dingtalk', 'PROC-ONBOARD', { ...onboardForm, 备注: 'ignored' }), approvals, users, roleNames)).toEqual({
      ok: true,
      request: { kind: 'onboard', empId: 'E2001', login: 'newbie', name: 'New Bie', role: 'devops', sshKey: KEY, flow: 'dingtalk/PROC-ONBOARD' },
    });
  });

  it('maps offboard and revoke by an empId field', () => {
    expect(requestFromApproval(event('dingtalk', 'PROC-OFFBOARD', { 工号: ' E1002 ' }), approvals, users, roleNames)).toEqual({ ok: true, request: { kind: 'offboard', empId: 'E1002', flow: 'dingtalk/PROC-OFFBOARD' } });
    expect(requestFromApproval(event('lark', 'REVOKE', { 工号: 'E1002', 角色: 'oncall' }), approvals, users, roleNames)).toEqual({ ok: true, request: { kind: 'revoke', empId: 'E1002', role: 'oncall', flow: 'lark/REVOKE' } });
  });

  it('takes a self-service subject from the requester\'s own record', () => {
    expect(requestFromApproval(event('lark', 'GRANT', { 角色: 'analyst', 截止日期: '2027-01-31' }), approvals, users, roleNames)).toEqual({
      ok: true,
      request: { kind: 'grant', empId: 'E1001', role: 'analyst', until: '2027-01-31', flow: 'lark/GRANT' },
    });
  });

  it('says unknown flow for a code (or platform) approvals.yaml does not have', () => {
    expect(requestFromApproval(event('dingtalk', 'PROC-OTHER', {}), approvals, users, roleNames)).toMatchObject({ ok: false, code: 'unknown-flow', reason: expect.stringMatching(/^unknown flow/) });
    expect(requestFromApproval(event('lark', 'PROC-ONBOARD', onboardForm), approvals, users, roleNames)).toMatchObject({ ok: false, code: 'unknown-flow' });
  });

  const refused = (form: Record<string, string>, code = 'PROC-ONBOARD', platform: ApprovalEvent['platform'] = 'dingtalk', requester?: string) => {
    const result = requestFromApproval(event(platform, code, form, requester), approvals, users, roleNames);
    if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.request)}`);
    expect(result.code).toBe('refused');
    return result.reason;
  };

  it('refuses an illegal or reserved login, naming the form field', () => {
    expect(refused({ ...onboardForm, 账号: 'Zhang San' })).toMatch(/^"账号" \(login\) "Zhang San" must be a Linux name/);
    expect(refused({ ...onboardForm, 账号: 'root' })).toMatch(/"root" is reserved/);
    expect(refused({ ...onboardForm, 账号: 'x;rm -rf /' })).toMatch(/must be a Linux name/);
  });

  it('refuses an unknown role, and a role outside the flow\'s allowlist', () => {
    expect(refused({ 角色: 'ghost' }, 'GRANT', 'lark')).toBe('"角色" (role) "ghost" does not exist: choose one of analyst');
    expect(refused({ ...onboardForm, 角色: 'dba' })).toBe('"角色" (role) "dba" is not one this flow may grant (devops, analyst)');
    expect(refused({ ...onboardForm, 角色: '../etc' })).toMatch(/must be a role name/);
  });

  it('refuses keys with options, and malformed keys', () => {
    expect(refused({ ...onboardForm, SSH公钥: `command="/bin/sh" ${KEY}` })).toBe('"SSH公钥" (sshKey) carries options (command="/bin/sh"): keys from a form are accepted without options; paste only "type key comment"');
    expect(refused({ ...onboardForm, SSH公钥: `cert-authority ${KEY}` })).toMatch(/carries options \(cert-authority\)/);
    expect(refused({ ...onboardForm, SSH公钥: 'ssh-ed25519 AAAA' })).toMatch(/^"SSH公钥" \(sshKey\) key data/);
  });

  it('refuses a self-service request about someone else, or from someone without a record', () => {
    expect(refused({ 工号: 'E1002', 角色: 'analyst' }, 'GRANT', 'lark')).toBe("this self-service flow only changes your own record (E1001), not E1002: file the request about a colleague through their manager's flow");
    expect(refused({ 角色: 'analyst' }, 'GRANT', 'lark', 'ou_stranger')).toMatch(/no user record carries your lark id ou_stranger/);
  });

  it('refuses empty required fields, bad dates, bad empIds and names', () => {
    expect(refused({ ...onboardForm, 账号: '  ' })).toBe('the form field "账号" (login) is empty: fill it in and submit the approval again');
    expect(refused({ 角色: 'analyst', 截止日期: '31/01/2027' }, 'GRANT', 'lark')).toMatch(/^"截止日期" \(until\) "31\/01\/2027" must be a date written YYYY-MM-DD/);
    expect(refused({ ...onboardForm, 工号: '../E1' })).toMatch(/^"工号" \(empId\) "..\/E1" must be letters, digits/);
    expect(refused({ ...onboardForm, 姓名: 'a:b' })).toMatch(/GECOS/);
  });

  it('carries the subject\'s platform id from the flow\'s userId field on onboard', () => {
    expect(requestFromApproval(event('lark', 'ONBOARD-PICK', { 工号: 'E2001', 账号: 'newbie', 员工: ' ou_new ' }), approvals, users, roleNames)).toEqual({
      ok: true,
      request: { kind: 'onboard', empId: 'E2001', login: 'newbie', platformId: 'ou_new', flow: 'lark/ONBOARD-PICK' },
    });
    // Without the field filled in, the record gets no id (and is found by none later).
    expect(requestFromApproval(event('lark', 'ONBOARD-PICK', { 工号: 'E2001', 账号: 'newbie' }), approvals, users, roleNames)).toEqual({
      ok: true,
      request: { kind: 'onboard', empId: 'E2001', login: 'newbie', flow: 'lark/ONBOARD-PICK' },
    });
  });

  it('refuses a malformed platform id, and one that another record carries already', () => {
    const pick = (id: string) => requestFromApproval(event('lark', 'ONBOARD-PICK', { 工号: 'E2001', 账号: 'newbie', 员工: id }), approvals, users, roleNames);
    expect(pick('ou new')).toMatchObject({ ok: false, code: 'refused', reason: expect.stringMatching(/^"员工" \(userId\) "ou new" must be a platform user id/) });
    expect(pick('ou_li')).toEqual({ ok: false, code: 'refused', reason: '"员工" (userId): this person already has a record (E1002, lisi): changes to existing users go through grant, revoke or offboard' });
  });
});
