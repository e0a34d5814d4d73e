import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { approvalBranch, commitApproval } from '../../src/requests/commit-request.js';
import type { ApprovalEvent, Request } from '../../src/requests/types.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { env, plumbingCommit } from './approvals-fixture.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN8QEjW/WLKUJCu73SJqUCM9t/kLvRAqofrJN26bQsz1 new@laptop';

function approval(id: string, form: Record<string, string> = { 工号: 'E2001' }, platform: ApprovalEvent['platform'] = 'dingtalk'): ApprovalEvent {
  return {
    platform,
    approvalId: id,
    processCode: 'PROC-ONBOARD',
    requester: { id: 'hr01', name: 'Han Rui' },
    approvers: [{ id: 'mgr01', name: 'Ma Guo' }, { id: 'sec01' }],
    form,
    finishedAt: '2026-11-27T10:00:00Z',
  };
}
const onboard = (empId: string, login: string): Request => ({ kind: 'onboard', empId, login, name: 'New Bie', role: 'devops', sshKey: KEY, flow: 'dingtalk/PROC-ONBOARD' });

function setup() {
  const fixture = desiredStateRepo();
  const show = (revision: string) => fixture.git('show', revision);
  // Approval commits only: a merge commit repeats its approval's trailers for first-parent readers.
  const count = (grep: string) => Number(fixture.git('rev-list', '--count', '--no-merges', '--fixed-strings', `--grep=${grep}`, 'main').trim());
  const commit = (id: string, request: Request, form?: Record<string, string>, options: Parameters<typeof commitApproval>[4] = {}) =>
    commitApproval(fixture.repo, 'desired-state', approval(id, form), request, { env, ...options });
  return { ...fixture, show, count, commit };
}

function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (name === '.git') continue;
      if (statSync(full).isDirectory()) walk(full);
      else files.set(path.relative(root, full), readFileSync(full, 'utf8'));
    }
  };
  walk(root);
  return files;
}

describe('commitApproval', () => {
  it('onboards: users/<empId>.yaml with the lowest free uid, on the approval branch, fast-forwarded into main', async () => {
    const { commit, git, show } = setup();
    const result = await commit('PI-1', onboard('E2001', 'newbie'), { 工号: 'E2001', 账号: 'newbie' });
    expect(result).toMatchObject({ status: 'committed', branch: 'rollcall/dingtalk-PI-1', merge: 'fast-forward', uid: 20000 });
    if (result.status !== 'committed') return;
    expect(result.tip).toBe(result.sha);
    expect(git('rev-parse', 'main', 'rollcall/dingtalk-PI-1').trim().split('\n')).toEqual([result.sha, result.sha]);
    expect(show('main:desired-state/users/E2001.yaml')).toBe(`empId: E2001\nlogin: newbie\nuid: 20000\nname: New Bie\nroles: [devops]\nsshKeys:\n  - "${KEY}"\n`);
    expect(git('diff', '--name-only', 'main~1', 'main').trim()).toBe('desired-state/users/E2001.yaml');
  });

  it('writes the message, trailers, author and committer exactly', async () => {
    const { commit, git } = setup();
    const result = await commit('PI-2', onboard('E2001', 'newbie'), { 工号: 'E2001', 账号: 'newbie', 备注: 'line one\nline two' });
    const sha = result.status === 'committed' ? result.sha : '';
    expect(git('log', '-1', '--format=%B', sha)).toBe(
      [
        'Onboard E2001 (newbie)',
        '',
        '工号: E2001',
        '账号: newbie',
        '备注: line one line two',
        '',
        'Approval: dingtalk/PI-2',
        'Requested-by: Han Rui <dingtalk:hr01>',
        'Approved-by: Ma Guo <dingtalk:mgr01>',
        'Approved-by: sec01 <dingtalk:sec01>',
        'Request: onboard',
        'Flow: dingtalk/PROC-ONBOARD',
        '',
        '',
      ].join('\n'),
    );
    expect(git('log', '-1', '--format=%(trailers:key=Approved-by,valueonly,separator=|)', sha).trim()).toBe('Ma Guo <dingtalk:mgr01>|sec01 <dingtalk:sec01>');
    expect(git('log', '-1', '--format=%an <%ae>|%cn <%ce>|%aI', sha).trim()).toBe('Han Rui <hr01@dingtalk>|Rollcall <rollcall@example.com>|2026-11-27T10:00:00+00:00');
  });

  it('offboards, grants and revokes by editing the existing record', async () => {
    const { commit, show, git } = setup();
    const before = (empId: string) => show(`main:desired-state/users/${empId}.yaml`);
    const e1002 = before('E1002');
    const e1001 = before('E1001');
    const e1004 = before('E1004');
    expect(await commit('OFF-1', { kind: 'offboard', empId: 'E1002', flow: 'dingtalk/PROC-OFFBOARD' })).toMatchObject({ status: 'committed' });
    expect(await commit('GRANT-1', { kind: 'grant', empId: 'E1001', role: 'analyst', until: '2027-06-30', flow: 'lark/GRANT' })).toMatchObject({ status: 'committed' });
    expect(await commit('REVOKE-1', { kind: 'revoke', empId: 'E1004', role: 'analyst', flow: 'lark/REVOKE' })).toMatchObject({ status: 'committed' });
    expect(before('E1002')).toBe(`${e1002}state: absent\n`);
    expect(before('E1001')).toBe(e1001.replace('roles: [devops]', 'roles: [devops, { role: analyst, until: 2027-06-30 }]'));
    expect(parse(before('E1004')).roles).toEqual([]);
    expect(parse(before('E1004')).login).toBe(parse(e1004).login);
    expect(git('log', '--format=%s', '-3', 'main').trim().split('\n')).toEqual(['Revoke E1004 (zhaoliu)', 'Grant E1001 (zhangsan)', 'Offboard E1002 (lisi)']);
    expect(git('log', '--format=%(trailers:key=Request,valueonly)', '-3', 'main').trim().split(/\n+/)).toEqual(['revoke', 'grant', 'offboard']);
  });

  it('refuses an existing empId and an unknown user without committing', async () => {
    const { commit, git } = setup();
    const tip = git('rev-parse', 'main');
    expect(await commit('PI-3', onboard('E1001', 'another'))).toEqual({
      status: 'refused',
      reason: 'E1001 already has a record (users/E1001.yaml): changes to existing users go through grant, revoke or offboard',
    });
    expect(await commit('PI-4', { kind: 'offboard', empId: 'E9999', flow: 'dingtalk/PROC-OFFBOARD' })).toEqual({
      status: 'refused',
      reason: 'there is no user E9999 (users/E9999.yaml) to offboard: check the employee id',
    });
    expect(git('rev-parse', 'main')).toBe(tip);
    expect(git('branch', '--list', 'rollcall/*').trim()).toBe('');
  });

  it('commits one approval once: a second delivery, a concurrent one, or one after the branch is deleted returns the first commit', async () => {
    const { commit, count, git } = setup();
    const [first, concurrent] = await Promise.all([commit('PI-5', onboard('E2001', 'newbie')), commit('PI-5', onboard('E2001', 'newbie'))]);
    expect(first).toMatchObject({ status: 'committed' });
    const sha = first.status === 'committed' ? first.sha : '';
    expect(concurrent).toEqual({ status: 'existing', sha, branch: 'rollcall/dingtalk-PI-5' });
    expect(await commit('PI-5', onboard('E2001', 'newbie'))).toEqual({ status: 'existing', sha, branch: 'rollcall/dingtalk-PI-5' });
    git('branch', '-D', 'rollcall/dingtalk-PI-5');
    expect(await commit('PI-5', onboard('E2001', 'newbie'))).toEqual({ status: 'existing', sha, branch: 'rollcall/dingtalk-PI-5' });
    expect(count('Approval: dingtalk/PI-5')).toBe(1);
    // Another platform's approval with the same id is another approval.
    expect(approvalBranch({ platform: 'lark', approvalId: 'PI-5' })).toBe('rollcall/lark-PI-5');
  });

  it('lands 50 concurrent onboardings: 50 commits, unique uids', async () => {
    const { commit, count, git, show } = setup();
    const ids = Array.from({ length: 50 }, (_, index) => String(index + 1).padStart(3, '0'));
    const results = await Promise.all(ids.map((id) => commit(`BURST-${id}`, onboard(`N${id}`, `user${id}`))));
    expect(results.every((result) => result.status === 'committed')).toBe(true);
    expect(count('Approval: dingtalk/BURST-')).toBe(50);
    const files = git('ls-tree', '--name-only', 'main', 'desired-state/users/').trim().split('\n');
    expect(files).toHaveLength(62);
    const uids = files.map((file) => (parse(show(`main:${file}`)) as { uid: number }).uid);
    expect(new Set(uids).size).toBe(62);
    expect(results.map((result) => (result.status === 'committed' ? result.uid : 0)).sort()).toEqual([20000, ...Array.from({ length: 49 }, (_, index) => 20013 + index)]);
  }, 60_000);

  it('lands concurrent onboardings from two writers that do not share a queue (as two processes): compare-and-swap keeps uids unique', async () => {
    const { count, git, show, repo } = setup();
    // A second path to the same repository gets its own in-process queue, like another process would.
    const alias = `${repo}-alias`;
    symlinkSync(repo, alias);
    const ids = Array.from({ length: 20 }, (_, index) => String(index + 1).padStart(3, '0'));
    const results = await Promise.all(
      ids.map((id, index) => commitApproval(index % 2 === 0 ? repo : alias, 'desired-state', approval(`TWO-${id}`), onboard(`T${id}`, `two${id}`), { env })),
    );
    expect(results.map((result) => result.status)).toEqual(ids.map(() => 'committed'));
    expect(count('Approval: dingtalk/TWO-')).toBe(20);
    const files = git('ls-tree', '--name-only', 'main', 'desired-state/users/').trim().split('\n');
    expect(files).toHaveLength(32);
    expect(new Set(files.map((file) => (parse(show(`main:${file}`)) as { uid: number }).uid)).size).toBe(32);
  }, 60_000);

  it('recomputes the uid when another writer takes it between read and update (the compare-and-swap fails)', async () => {
    const { commit, show, git } = setup();
    let raced = false;
    const result = await commit('PI-6', onboard('E2001', 'newbie'), undefined, {
      beforeUpdate: async () => {
        if (raced) return;
        raced = true;
        plumbingCommit(git('rev-parse', '--show-toplevel').trim(), 'desired-state/users/E3000.yaml', 'empId: E3000\nlogin: other\nuid: 20000\nroles: []\n');
      },
    });
    expect(result).toMatchObject({ status: 'committed', merge: 'fast-forward', uid: 20013 });
    expect(git('log', '--format=%s', '-2', 'main').trim().split('\n')).toEqual(['Onboard E2001 (newbie)', 'Other writer: desired-state/users/E3000.yaml']);
    expect((parse(show('main:desired-state/users/E2001.yaml')) as { uid: number }).uid).toBe(20013);
  });

  it('merges the approval commit when another writer moved main without touching what it computed', async () => {
    const { commit, git, show } = setup();
    let other = '';
    const result = await commit('PI-7', onboard('E2001', 'newbie'), undefined, {
      beforeUpdate: async () => {
        if (other === '') other = plumbingCommit(git('rev-parse', '--show-toplevel').trim(), 'desired-state/roles/extra.yaml', 'hostgroups: [web]\n');
      },
    });
    expect(result).toMatchObject({ status: 'committed', merge: 'merge-commit', uid: 20000 });
    if (result.status !== 'committed') return;
    expect(git('rev-parse', 'main').trim()).toBe(result.tip);
    expect(git('log', '-1', '--format=%P', result.tip).trim()).toBe(`${other} ${result.sha}`);
    expect(git('log', '-1', '--format=%s', result.tip).trim()).toBe('Merge rollcall/dingtalk-PI-7: Onboard E2001 (newbie)');
    expect(git('log', '-1', '--format=%(trailers:key=Approval,valueonly)', result.tip).trim()).toBe('dingtalk/PI-7');
    expect(show('main:desired-state/roles/extra.yaml')).toBe('hostgroups: [web]\n');
    expect(show('main:desired-state/users/E2001.yaml')).toBe(show(`${result.sha}:desired-state/users/E2001.yaml`));
  });

  it('brings a checkout of the tracked branch along for the changed file only, keeping unrelated edits', async () => {
    const { commit, git, repo } = setup();
    writeFileSync(path.join(repo, 'desired-state', 'users', 'E1003.yaml'), `${readFileSync(path.join(repo, 'desired-state', 'users', 'E1003.yaml'), 'utf8')}# my note\n`);
    writeFileSync(path.join(repo, 'scratch.txt'), 'untracked\n');
    const onboarded = await commit('PI-8', onboard('E2001', 'newbie'));
    const offboarded = await commit('PI-9', { kind: 'offboard', empId: 'E1001', flow: 'dingtalk/PROC-OFFBOARD' });
    expect([onboarded.status, offboarded.status]).toEqual(['committed', 'committed']);
    expect(git('status', '--porcelain', '--untracked-files=all')).toBe(' M desired-state/users/E1003.yaml\n?? scratch.txt\n');
    expect(readFileSync(path.join(repo, 'desired-state', 'users', 'E2001.yaml'), 'utf8')).toBe(git('show', 'main:desired-state/users/E2001.yaml'));
    expect(readFileSync(path.join(repo, 'desired-state', 'users', 'E1001.yaml'), 'utf8')).toMatch(/^state: absent$/m);
    expect(readFileSync(path.join(repo, 'desired-state', 'users', 'E1003.yaml'), 'utf8')).toMatch(/# my note\n$/);
    expect(readdirSync(path.join(repo, '.git')).filter((name) => name.startsWith('rollcall-index'))).toEqual([]);
  });

  it('leaves a person\'s uncommitted edit of the changed file as it is, with a warning', async () => {
    const { commit, git, repo } = setup();
    const file = path.join(repo, 'desired-state', 'users', 'E1001.yaml');
    const edited = `${readFileSync(file, 'utf8')}shell: /bin/sh\n`;
    writeFileSync(file, edited);
    const warnings: unknown[] = [];
    const result = await commit('PI-12', { kind: 'offboard', empId: 'E1001', flow: 'dingtalk/PROC-OFFBOARD' }, undefined, { logger: { warn: (...args: unknown[]) => void warnings.push(args) } as never });
    expect(result).toMatchObject({ status: 'committed' });
    expect(readFileSync(file, 'utf8')).toBe(edited);
    expect(git('show', 'main:desired-state/users/E1001.yaml')).toMatch(/^state: absent$/m);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain('desired-state/users/E1001.yaml');
    // Its index entry is the new commit's: git diff shows the person's edit against it.
    expect(git('status', '--porcelain')).toBe(' M desired-state/users/E1001.yaml\n');
    expect(git('diff').trim()).toMatch(/^-state: absent\n\+shell: \/bin\/sh$/m);
    // A new file the person created at the onboarded path is theirs too.
    const created = path.join(repo, 'desired-state', 'users', 'E2001.yaml');
    writeFileSync(created, 'mine\n');
    await commit('PI-13', onboard('E2001', 'newbie'), undefined, { logger: { warn: (...args: unknown[]) => void warnings.push(args) } as never });
    expect(readFileSync(created, 'utf8')).toBe('mine\n');
    expect(warnings).toHaveLength(2);
    // A staged edit (the work tree matching it) is the person's as well.
    const staged = path.join(repo, 'desired-state', 'users', 'E1004.yaml');
    writeFileSync(staged, `${readFileSync(staged, 'utf8')}shell: /bin/sh\n`);
    git('add', 'desired-state/users/E1004.yaml');
    await commit('PI-18', { kind: 'offboard', empId: 'E1004', flow: 'dingtalk/PROC-OFFBOARD' }, undefined, { logger: { warn: (...args: unknown[]) => void warnings.push(args) } as never });
    expect(readFileSync(staged, 'utf8')).not.toMatch(/state: absent/);
    expect(git('diff', '--cached', '--name-only').trim()).toBe('desired-state/users/E1004.yaml');
    expect(warnings).toHaveLength(3);
  });

  it('commits into a bare repository', async () => {
    const { git, repo } = setup();
    const bare = `${repo}-bare.git`;
    execFileSync('git', ['clone', '-q', '--bare', repo, bare]);
    const result = await commitApproval(bare, 'desired-state', approval('PI-14'), onboard('E2001', 'newbie'), { env });
    expect(result).toMatchObject({ status: 'committed', merge: 'fast-forward' });
    expect(git('status', '--porcelain')).toBe('');
  });

  it('leaves a checkout of another branch clean: git status says nothing', async () => {
    const { commit, git, repo } = setup();
    git('switch', '-q', '-c', 'work');
    const files = snapshot(repo);
    await commit('PI-10', onboard('E2002', 'newbie2'), undefined, { branch: 'main' });
    await commit('PI-11', { kind: 'grant', empId: 'E1001', role: 'analyst', flow: 'lark/GRANT' }, undefined, { branch: 'main' });
    expect(git('status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(snapshot(repo)).toEqual(files);
    expect(git('rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('work');
    expect(git('log', '--format=%s', '-2', 'main').trim().split('\n')).toEqual(['Grant E1001 (zhangsan)', 'Onboard E2002 (newbie2)']);
  });

  it('with branchOnly, creates only the approval branch on the base and leaves the tracked branch alone', async () => {
    const { commit, git } = setup();
    const tip = git('rev-parse', 'main').trim();
    git('update-ref', 'refs/remotes/origin/main', tip);
    const result = await commit('PI-15', onboard('E2001', 'newbie'), undefined, { branchOnly: { base: 'refs/remotes/origin/main' } });
    expect(result).toMatchObject({ status: 'committed', branch: 'rollcall/dingtalk-PI-15', merge: 'none', tip });
    expect(git('rev-parse', 'main').trim()).toBe(tip);
    expect(git('log', '-1', '--format=%P', 'rollcall/dingtalk-PI-15').trim()).toBe(tip);
    expect(git('status', '--porcelain')).toBe('');
    expect(await commit('PI-15', onboard('E2001', 'newbie'), undefined, { branchOnly: { base: 'refs/remotes/origin/main' } })).toMatchObject({ status: 'existing', sha: result.status === 'committed' ? result.sha : '' });
  });

  it('with branchOnly, finds an approval in the base\'s history by its trailer, and writes the commit the tracked path would (author, committer, message)', async () => {
    const { commit, git } = setup();
    const merged = await commit('PI-40', onboard('E2040', 'merged40'));
    if (merged.status !== 'committed') throw new Error(`expected a commit, got ${merged.status}`);
    // As after a merged pull request whose branch was deleted: only the trailer on the base tells.
    git('branch', '-D', 'rollcall/dingtalk-PI-40');
    git('update-ref', 'refs/remotes/origin/main', merged.tip);
    const base = { branchOnly: { base: 'refs/remotes/origin/main' } };
    expect(await commit('PI-40', onboard('E2040', 'merged40'), undefined, base)).toEqual({ status: 'existing', sha: merged.sha, branch: 'rollcall/dingtalk-PI-40' });

    const result = await commit('PI-41', onboard('E2041', 'newbie41'), undefined, base);
    expect(result).toMatchObject({ status: 'committed', merge: 'none', tip: merged.tip });
    if (result.status !== 'committed') return;
    const format = '%an <%ae>%n%cn <%ce>%n%B';
    expect(git('log', '-1', `--format=${format}`, 'rollcall/dingtalk-PI-41')).toBe(git('log', '-1', `--format=${format}`, merged.sha).replaceAll('PI-40', 'PI-41').replaceAll('E2040', 'E2041').replaceAll('merged40', 'newbie41'));
    expect(git('show', 'rollcall/dingtalk-PI-41:desired-state/users/E2041.yaml')).toMatch(new RegExp(`^uid: ${result.uid}$`, 'm'));
    expect(result.uid).not.toBe(merged.uid);
  });

  it('writes the onboarded person\'s platform id, and refuses one another record carries', async () => {
    const { commit, show } = setup();
    expect(await commit('PI-16', { ...onboard('E2001', 'newbie'), platformId: 'ding_new' })).toMatchObject({ status: 'committed' });
    expect(show('main:desired-state/users/E2001.yaml')).toMatch(/^ids: \{ dingtalk: "ding_new" \}$/m);
    // users/E1011.yaml of the example carries dingtalk: fengsan01.
    expect(await commit('PI-17', { ...onboard('E2002', 'newbie2'), platformId: 'fengsan01' })).toEqual({
      status: 'refused',
      reason: 'the dingtalk user fengsan01 already has a record (E1011): changes to existing users go through grant, revoke or offboard',
    });
  });

  it('refuses an approval id that cannot name a branch', async () => {
    const { commit } = setup();
    await expect(commit('../main', onboard('E2001', 'newbie'))).rejects.toMatchObject({ code: 'invalid-input' });
  });
});
