import { describe, expect, it } from 'vitest';
import { applyRequest, lowestFreeUid, type UserFileContext } from '../../src/requests/apply-request.js';
import type { Request } from '../../src/requests/types.js';
import { UserFile } from '../../src/desired/schema.js';
import { parse } from 'yaml';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN8QEjW/WLKUJCu73SJqUCM9t/kLvRAqofrJN26bQsz1 new@laptop';
const context: UserFileContext = { uidRange: [20000, 20005], usedUids: new Set([20000, 20001, 20003]), logins: new Map([['zhangsan', 'E1001']]) };
const request = (fields: Partial<Request> & Pick<Request, 'kind' | 'empId'>): Request => ({ flow: 'dingtalk/PROC', ...fields });

const FLOW_LIST = `# Platform team.
empId: E1001
login: zhangsan
uid: 20001
roles: [devops]   # since 2025
sshKeys: ["${KEY}"]
`;
const BLOCK_LIST = `empId: E1004
login: zhaoliu
uid: 20004
roles:
  - { role: analyst, until: 2027-01-31 }   # quarterly access review
  - devops
`;

describe('applyRequest: onboard', () => {
  it('writes a new record with the lowest free uid, that the user schema accepts', () => {
    const change = applyRequest(request({ kind: 'onboard', empId: '10042', login: 'newbie', name: 'New Bie', role: 'analyst', sshKey: KEY }), undefined, context);
    expect(change).toEqual({
      ok: true,
      login: 'newbie',
      uid: 20002,
      text: `empId: "10042"\nlogin: newbie\nuid: 20002\nname: New Bie\nroles: [analyst]\nsshKeys:\n  - "${KEY}"\n`,
    });
    expect(UserFile.safeParse(parse((change as { text: string }).text)).success).toBe(true);
  });

  it('writes a role with an end date as { role, until }', () => {
    const change = applyRequest(request({ kind: 'onboard', empId: 'E9', login: 'temp', role: 'oncall', until: '2027-01-31' }), undefined, context);
    expect(change).toMatchObject({ ok: true, text: 'empId: E9\nlogin: temp\nuid: 20002\nroles: [{ role: oncall, until: 2027-01-31 }]\n' });
  });

  it('refuses an empId that already has a record, a login in use, and a full uid range', () => {
    expect(applyRequest(request({ kind: 'onboard', empId: 'E1001', login: 'other' }), FLOW_LIST, context)).toEqual({
      ok: false,
      reason: 'E1001 already has a record (users/E1001.yaml): changes to existing users go through grant, revoke or offboard',
    });
    expect(applyRequest(request({ kind: 'onboard', empId: 'E2', login: 'zhangsan' }), undefined, context)).toEqual({ ok: false, reason: 'the login zhangsan already belongs to E1001: choose another login' });
    const full = { ...context, usedUids: new Set([20000, 20001, 20002, 20003, 20004, 20005]) };
    expect(applyRequest(request({ kind: 'onboard', empId: 'E2', login: 'x2' }), undefined, full)).toMatchObject({ ok: false, reason: expect.stringContaining('no uid is free in policy.uidRange [20000, 20005]') });
  });
});

describe('applyRequest: onboard with a platform id', () => {
  it('writes ids.<platform> of the flow\'s platform, that the user schema accepts', () => {
    const change = applyRequest({ kind: 'onboard', empId: 'E9', login: 'temp', platformId: '0123', flow: 'dingtalk/PROC' }, undefined, context);
    expect(change).toMatchObject({ ok: true, text: 'empId: E9\nlogin: temp\nuid: 20002\nroles: []\nids: { dingtalk: "0123" }\n' });
    const parsed = UserFile.parse(parse((change as { text: string }).text));
    expect(parsed.ids).toEqual({ dingtalk: '0123' });
    expect(applyRequest({ kind: 'onboard', empId: 'E9', login: 'temp', platformId: 'ou_x', flow: 'lark/APP' }, undefined, context)).toMatchObject({ ok: true, text: expect.stringContaining('ids: { lark: "ou_x" }\n') });
  });

  it('refuses an id another record carries on that platform', () => {
    const taken = { ...context, platformIds: new Map([['lark/ou_x', 'E1001']]) };
    expect(applyRequest({ kind: 'onboard', empId: 'E9', login: 'temp', platformId: 'ou_x', flow: 'lark/APP' }, undefined, taken)).toEqual({
      ok: false,
      reason: 'the lark user ou_x already has a record (E1001): changes to existing users go through grant, revoke or offboard',
    });
    // The same id on the other platform is another person's.
    expect(applyRequest({ kind: 'onboard', empId: 'E9', login: 'temp', platformId: 'ou_x', flow: 'dingtalk/APP' }, undefined, taken)).toMatchObject({ ok: true });
  });
});

describe('applyRequest: offboard', () => {
  it('sets state: absent and changes nothing else', () => {
    expect(applyRequest(request({ kind: 'offboard', empId: 'E1001' }), FLOW_LIST, context)).toEqual({ ok: true, login: 'zhangsan', text: `${FLOW_LIST}state: absent\n` });
    const present = FLOW_LIST.replace('uid: 20001\n', 'uid: 20001\nstate: present   # active\n');
    expect(applyRequest(request({ kind: 'offboard', empId: 'E1001' }), present, context)).toMatchObject({ text: FLOW_LIST.replace('uid: 20001\n', 'uid: 20001\nstate: absent   # active\n') });
  });

  it('refuses an unknown user and one already offboarded', () => {
    expect(applyRequest(request({ kind: 'offboard', empId: 'E404' }), undefined, context)).toEqual({ ok: false, reason: 'there is no user E404 (users/E404.yaml) to offboard: check the employee id' });
    expect(applyRequest(request({ kind: 'offboard', empId: 'E1001' }), `${FLOW_LIST}state: absent\n`, context)).toEqual({ ok: false, reason: 'E1001 (zhangsan) is already offboarded (state: absent): nothing to change' });
  });
});

describe('applyRequest: grant and revoke', () => {
  it('adds a role to a flow list, keeping the comment', () => {
    expect(applyRequest(request({ kind: 'grant', empId: 'E1001', role: 'analyst', until: '2027-06-30' }), FLOW_LIST, context)).toMatchObject({
      ok: true,
      text: FLOW_LIST.replace('roles: [devops]', 'roles: [devops, { role: analyst, until: 2027-06-30 }]'),
    });
  });

  it('adds a role to a block list, indented like its items', () => {
    expect(applyRequest(request({ kind: 'grant', empId: 'E1004', role: 'oncall' }), BLOCK_LIST, context)).toMatchObject({ ok: true, text: `${BLOCK_LIST}  - oncall\n` });
  });

  it('re-dates a role held with another end date, in place', () => {
    expect(applyRequest(request({ kind: 'grant', empId: 'E1004', role: 'analyst', until: '2027-04-30' }), BLOCK_LIST, context)).toMatchObject({
      text: BLOCK_LIST.replace('until: 2027-01-31', 'until: 2027-04-30'),
    });
    expect(applyRequest(request({ kind: 'grant', empId: 'E1004', role: 'analyst', until: '2027-01-31' }), BLOCK_LIST, context)).toEqual({
      ok: false,
      reason: 'E1004 (zhaoliu) already has the role analyst until 2027-01-31: nothing to change',
    });
  });

  it('removes one role from a flow or a block list', () => {
    expect(applyRequest(request({ kind: 'revoke', empId: 'E1001', role: 'devops' }), FLOW_LIST, context)).toMatchObject({ text: FLOW_LIST.replace('roles: [devops]', 'roles: []') });
    expect(applyRequest(request({ kind: 'revoke', empId: 'E1004', role: 'analyst' }), BLOCK_LIST, context)).toMatchObject({
      text: 'empId: E1004\nlogin: zhaoliu\nuid: 20004\nroles:\n  - devops\n',
    });
  });

  it('refuses a role not held, an unknown user and an offboarded one', () => {
    expect(applyRequest(request({ kind: 'revoke', empId: 'E1001', role: 'dba' }), FLOW_LIST, context)).toEqual({ ok: false, reason: 'E1001 (zhangsan) does not have the role dba: nothing to revoke' });
    expect(applyRequest(request({ kind: 'grant', empId: 'E404', role: 'dba' }), undefined, context)).toMatchObject({ ok: false, reason: expect.stringContaining('there is no user E404') });
    expect(applyRequest(request({ kind: 'grant', empId: 'E1001', role: 'dba' }), `${FLOW_LIST}state: absent\n`, context)).toMatchObject({ ok: false, reason: expect.stringContaining('is offboarded') });
  });
});

describe('lowestFreeUid', () => {
  it('takes the first gap, and says when the range is full', () => {
    expect(lowestFreeUid([10, 13], new Set([10, 11, 13]))).toBe(12);
    expect(lowestFreeUid([10, 11], new Set([10, 11]))).toBeUndefined();
  });
});
