import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import { ResultNotes, type ResultRecord } from '../../src/source/result-notes.js';
import { userHistory, type UserHistory } from '../../src/source/user-history.js';
import { desiredStateRepo } from '../cli/git-fixture.js';

const ONBOARD_TRAILERS = [
  'Request: onboard',
  'Requested-by: 张三 <dingtalk:0231>',
  'Approved-by: 李四 <dingtalk:0232>',
  'Approved-by: 王五 <dingtalk:0233>',
  'Approval: dingtalk/PROC-1',
].join('\n');

function userFile(empId: string, roles: string): string {
  return `empId: ${empId}\nlogin: yangmu\nuid: 29003\nname: Yang Mu\nroles: [${roles}]\n`;
}

function record(attempt: string, at: string, instances: ResultRecord['instances'], trigger: ResultRecord['trigger'] = 'revision'): ResultRecord {
  return { attempt, at, trigger, generation: 1, outcome: 'applied', durationMs: 10, instances };
}

/**
 * yangmu is onboarded on a branch (merged into main) under a mistyped file name, renamed to
 * E9003.yaml, then granted a role; hanliu (E9004) is onboarded, then deleted. Notes on several commits name them.
 */
function historyRepo() {
  const { repo, dir, git } = desiredStateRepo();
  const sha = () => git('rev-parse', 'HEAD').trim();
  writeFileSync(path.join(dir, 'users', 'E9004.yaml'), 'empId: E9004\nlogin: hanliu\nuid: 29004\nroles: [devops]\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'Onboard hanliu');
  const initial = sha();
  git('checkout', '-q', '-b', 'onboard-yangmu');
  writeFileSync(path.join(dir, 'users', 'E9OO3.yaml'), userFile('E9OO3', 'devops'));
  git('add', '-A');
  git('commit', '-q', '-m', 'Onboard yangmu', '-m', ONBOARD_TRAILERS);
  const onboard = sha();
  git('checkout', '-q', 'main');
  git('merge', '-q', '--no-ff', '-m', 'Merge onboard-yangmu', 'onboard-yangmu');
  renameSync(path.join(dir, 'users', 'E9OO3.yaml'), path.join(dir, 'users', 'E9003.yaml'));
  writeFileSync(path.join(dir, 'users', 'E9003.yaml'), userFile('E9003', 'devops'));
  git('add', '-A');
  git('commit', '-q', '-m', 'Correct the empId of yangmu');
  const rename = sha();
  writeFileSync(path.join(dir, 'users', 'E9003.yaml'), userFile('E9003', 'devops, oncall'));
  git('commit', '-q', '-am', 'Grant oncall to yangmu', '-m', 'Request: grant\nRequested-by: 王五 <dingtalk:0233>\nApproved-by: 李四 <dingtalk:0232>\nApproval: dingtalk/PROC-2');
  const grant = sha();
  rmSync(path.join(dir, 'users', 'E9004.yaml'));
  git('commit', '-q', '-am', 'Offboard hanliu', '-m', 'Request: offboard');
  const offboard = sha();
  return { repo, git, initial, onboard, rename, grant, offboard };
}

describe('userHistory', () => {
  let fixture: ReturnType<typeof historyRepo>;
  let byEmpId: UserHistory;

  beforeAll(async () => {
    fixture = historyRepo();
    const { repo, initial, onboard, grant, offboard } = fixture;
    const notes = new ResultNotes(repo, {});
    await notes.append(initial, record('r0', '2025-06-01T00:00:00.000Z', { 'i-web1': { status: 'applied', changes: [{ action: 'create', kind: 'user', name: 'hanliu' }] } }));
    await notes.append(onboard, record('r1', '2025-06-02T08:00:00.000Z', {
      'i-web2': { status: 'failed', changes: [{ action: 'create', kind: 'user', name: 'yangmu' }], exitCode: 1, error: 'useradd: cannot lock /etc/passwd\nretry later' },
      'i-web1': {
        status: 'applied',
        changes: [
          { action: 'create', kind: 'group', name: 'yangmu' },
          { action: 'create', kind: 'user', name: 'yangmu' },
          { action: 'update', kind: 'user', name: 'hanliu', fields: ['groups'] },
          { action: 'create', kind: 'sudoers', name: 'yangmu' },
        ],
      },
    }));
    // A drift correction recorded on the revision it restored, later than the grant's apply.
    await notes.append(onboard, record('r3', '2025-06-04T03:00:00.000Z', { 'i-web1': { status: 'applied', changes: [{ action: 'update', kind: 'user', name: 'yangmu', fields: ['shell'] }] } }, 'drift'));
    await notes.append(grant, record('r2', '2025-06-03T08:00:00.000Z', {
      'i-web1': { status: 'applied', changes: [{ action: 'update', kind: 'group', name: 'devops' }, { action: 'update', kind: 'user', name: 'yangmu', fields: ['groups'] }] },
      'i-web3': { status: 'unchanged', changes: [] },
    }));
    await notes.append(offboard, record('r4', '2025-06-05T08:00:00.000Z', { 'i-web1': { status: 'applied', changes: [{ action: 'lock', kind: 'user', name: 'hanliu' }] } }));
    byEmpId = await userHistory(repo, 'desired-state', 'E9003');
  }, 60_000);

  it('lists every commit that touched the user’s file, oldest first, across the rename, with trailers', () => {
    const { onboard, rename, grant } = fixture;
    expect(byEmpId.empId).toBe('E9003');
    expect(byEmpId.login).toBe('yangmu');
    expect(byEmpId.commits.map((commit) => commit.sha)).toEqual([onboard, rename, grant]);
    expect(byEmpId.commits.map((commit) => commit.file)).toEqual(['desired-state/users/E9OO3.yaml', 'desired-state/users/E9003.yaml', 'desired-state/users/E9003.yaml']);
    expect(byEmpId.commits[0]).toEqual({
      sha: onboard,
      date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/),
      subject: 'Onboard yangmu',
      request: 'onboard',
      requestedBy: '张三 <dingtalk:0231>',
      approvers: ['李四 <dingtalk:0232>', '王五 <dingtalk:0233>'],
      approval: 'dingtalk/PROC-1',
      author: 'Test <test@example.com>',
      file: 'desired-state/users/E9OO3.yaml',
    });
    expect(byEmpId.commits[1]).toEqual({ sha: rename, date: expect.any(String), subject: 'Correct the empId of yangmu', approvers: [], author: 'Test <test@example.com>', file: 'desired-state/users/E9003.yaml' });
    expect(byEmpId.commits[2]).toMatchObject({ request: 'grant', requestedBy: '王五 <dingtalk:0233>', approvers: ['李四 <dingtalk:0232>'], approval: 'dingtalk/PROC-2' });
  });

  it('lists the changes to the user and its private group from every note, oldest first', () => {
    const { onboard, grant } = fixture;
    expect(byEmpId.applications).toEqual([
      {
        revision: onboard,
        at: '2025-06-02T08:00:00.000Z',
        trigger: 'revision',
        instance: 'i-web1',
        status: 'applied',
        changes: [
          { action: 'create', kind: 'group', name: 'yangmu' },
          { action: 'create', kind: 'user', name: 'yangmu' },
        ],
      },
      {
        revision: onboard,
        at: '2025-06-02T08:00:00.000Z',
        trigger: 'revision',
        instance: 'i-web2',
        status: 'failed',
        changes: [{ action: 'create', kind: 'user', name: 'yangmu' }],
        error: 'useradd: cannot lock /etc/passwd\nretry later',
      },
      { revision: grant, at: '2025-06-03T08:00:00.000Z', trigger: 'revision', instance: 'i-web1', status: 'applied', changes: [{ action: 'update', kind: 'user', name: 'yangmu', fields: ['groups'] }] },
      { revision: onboard, at: '2025-06-04T03:00:00.000Z', trigger: 'drift', instance: 'i-web1', status: 'applied', changes: [{ action: 'update', kind: 'user', name: 'yangmu', fields: ['shell'] }] },
    ]);
  });

  it('finds the same history by login', async () => {
    expect(await userHistory(fixture.repo, 'desired-state/', 'yangmu')).toEqual(byEmpId);
  });

  it('finds a user by a login that is no longer at HEAD', async () => {
    const { initial, offboard } = fixture;
    const hanliu = await userHistory(fixture.repo, './desired-state', 'hanliu');
    expect(hanliu.empId).toBe('E9004');
    expect(hanliu.login).toBe('hanliu');
    expect(hanliu.commits.map((commit) => [commit.sha, commit.subject, commit.request])).toEqual([
      [initial, 'Onboard hanliu', undefined],
      [offboard, 'Offboard hanliu', 'offboard'],
    ]);
    expect(hanliu.applications.map((application) => [application.at, application.changes.map((change) => change.action)])).toEqual([
      ['2025-06-01T00:00:00.000Z', ['create']],
      ['2025-06-02T08:00:00.000Z', ['update']],
      ['2025-06-05T08:00:00.000Z', ['lock']],
    ]);
    expect((await userHistory(fixture.repo, 'desired-state', 'E9004')).login).toBe('hanliu');
  });

  it('refuses an unknown user, and a name that cannot be an empId or a login', async () => {
    const unknown = await userHistory(fixture.repo, 'desired-state', 'E999').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(RollcallError);
    expect((unknown as RollcallError).code).toBe('invalid-input');
    expect((unknown as RollcallError).message).toBe(
      'no user E999 in desired-state: it is neither an empId (no desired-state/users/E999.yaml) nor the login of a user, at HEAD or in its history',
    );
    // "devops" is in users files and in a note, but it is a role and a group, not a user.
    await expect(userHistory(fixture.repo, 'desired-state', 'devops')).rejects.toThrow(/^no user devops in desired-state: /);
    const option = await userHistory(fixture.repo, 'desired-state', '--all').catch((error: unknown) => error);
    expect((option as RollcallError).code).toBe('invalid-input');
    expect((option as RollcallError).message).toMatch(/^"--all" is neither an empId nor a login: /);
  });
});
