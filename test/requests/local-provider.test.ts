import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { LocalProvider } from '../../src/requests/local-provider.js';
import type { ApprovalEvent, Request } from '../../src/requests/types.js';
import { DesiredRepository } from '../../src/source/desired-repository.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { countingGit } from './git-counter.js';

const env = { ...process.env, GIT_COMMITTER_NAME: 'Rollcall', GIT_COMMITTER_EMAIL: 'rollcall@example.com' };

function approval(id: string): ApprovalEvent {
  return { platform: 'dingtalk', approvalId: id, processCode: 'PROC-ONBOARD', requester: { id: 'hr01', name: 'Han Rui' }, approvers: [{ id: 'mgr01' }], form: { 工号: id }, finishedAt: '2026-11-27T10:00:00Z' };
}
const onboard = (empId: string, login: string): Request => ({ kind: 'onboard', empId, login, role: 'devops', flow: 'dingtalk/PROC-ONBOARD' });

const run = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...env, GIT_AUTHOR_NAME: 'Other', GIT_AUTHOR_EMAIL: 'other@example.com' } });

/** A bare "origin" holding the example desired state, and a way to open rollcall's clones of it. */
function setup() {
  const fixture = desiredStateRepo();
  const base = mkdtempSync(path.join(tmpdir(), 'rollcall-origin-'));
  const origin = path.join(base, 'origin.git');
  run(base, 'clone', '-q', '--bare', fixture.repo, origin);
  const origin$ = (...args: string[]) => run(origin, ...args);
  let clones = 0;
  const provider = async (more: Partial<ConstructorParameters<typeof LocalProvider>[0]> = {}) => {
    clones += 1;
    const repository = await DesiredRepository.open({ repo: `file://${origin}`, branch: 'main', workDir: path.join(base, `clone-${clones}`), env });
    const local = new LocalProvider({ repoDir: repository.root, desiredPath: 'desired-state', branch: 'main', remote: 'origin', env, backoffMs: 5, ...more });
    return { provider: local, root: repository.root, git: (...args: string[]) => run(repository.root, ...args) };
  };
  /** Another writer: a work-tree clone that commits a file and pushes it to origin. */
  const otherWriter = () => {
    const dir = path.join(base, `writer-${(clones += 1)}`);
    run(base, 'clone', '-q', origin, dir);
    return (file: string, content: string) => {
      run(dir, 'pull', '-q', '--ff-only');
      execFileSync('sh', ['-c', `mkdir -p "$(dirname "$1")" && printf '%s' "$2" > "$1"`, 'sh', file, content], { cwd: dir });
      run(dir, 'add', file);
      run(dir, 'commit', '-q', '-m', `Other writer: ${file}`);
      run(dir, 'push', '-q', 'origin', 'HEAD:main');
    };
  };
  /** A beforePush with which another writer pushes users/E3000.yaml (uid 20000) just before rollcall's first push, which is then rejected. */
  const takesUidFirst = () => {
    const write = otherWriter();
    return async (attempt: number) => {
      if (attempt === 1) write('desired-state/users/E3000.yaml', 'empId: E3000\nlogin: other\nuid: 20000\nroles: []\n');
    };
  };
  return { origin$, provider, takesUidFirst };
}

describe('LocalProvider with a remote', () => {
  it('pushes the approval branch and the tracked branch; local refs equal the remote\'s; once per approval', async () => {
    const { origin$, provider } = setup();
    const first = await provider();
    const result = await first.provider.submit(approval('PI-1'), onboard('E2001', 'newbie'));
    expect(result).toMatchObject({ status: 'committed', branch: 'rollcall/dingtalk-PI-1', uid: 20000 });
    if (result.status !== 'committed') return;
    expect(origin$('rev-parse', 'main', 'rollcall/dingtalk-PI-1').trim().split('\n')).toEqual([result.tip, result.sha]);
    expect(first.git('rev-parse', 'refs/heads/main', 'refs/remotes/origin/main', 'refs/heads/rollcall/dingtalk-PI-1').trim().split('\n')).toEqual([result.tip, result.tip, result.sha]);
    expect(origin$('show', 'main:desired-state/users/E2001.yaml')).toMatch(/^uid: 20000$/m);

    // Redelivered to the same process, and to another rollcall with its own clone.
    expect(await first.provider.submit(approval('PI-1'), onboard('E2001', 'newbie'))).toEqual({ status: 'existing', sha: result.sha, branch: 'rollcall/dingtalk-PI-1' });
    const second = await provider();
    expect(await second.provider.submit(approval('PI-1'), onboard('E2001', 'newbie'))).toEqual({ status: 'existing', sha: result.sha, branch: 'rollcall/dingtalk-PI-1' });
    // With the remote's approval branch deleted, the trailer on main still says it is done.
    origin$('branch', '-D', 'rollcall/dingtalk-PI-1');
    const third = await provider();
    expect(await third.provider.submit(approval('PI-1'), onboard('E2001', 'newbie'))).toEqual({ status: 'existing', sha: result.sha, branch: 'rollcall/dingtalk-PI-1' });
    expect(origin$('rev-list', '--count', 'main', '--grep=Approval: dingtalk/PI-1').trim()).toBe('1');
  });

  it('drops a local approval branch the remote lacks (a push that never happened) and commits the approval afresh', async () => {
    const { origin$, provider } = setup();
    const first = await provider();
    // As if an earlier process committed PI-5 and died before its push: the branch is local only.
    first.git('branch', 'rollcall/dingtalk-PI-5', 'origin/main');
    const stale = first.git('rev-parse', 'rollcall/dingtalk-PI-5').trim();
    const result = await first.provider.submit(approval('PI-5'), onboard('E2005', 'newbie5'));
    expect(result).toMatchObject({ status: 'committed', branch: 'rollcall/dingtalk-PI-5', uid: 20000 });
    if (result.status !== 'committed') return;
    expect(result.sha).not.toBe(stale);
    expect(origin$('rev-parse', 'rollcall/dingtalk-PI-5').trim()).toBe(result.sha);
    expect(first.git('rev-parse', 'refs/heads/rollcall/dingtalk-PI-5').trim()).toBe(result.sha);
  });

  it('after a rejected push, fetches, recomputes the uid on the new tip and pushes again; nothing of the first attempt stays', async () => {
    const { origin$, provider, takesUidFirst } = setup();
    const { provider: local, git } = await provider({ beforePush: takesUidFirst() });
    const result = await local.submit(approval('PI-2'), onboard('E2001', 'newbie'));
    // The example's users hold 20001-20012; the other writer took 20000.
    expect(result).toMatchObject({ status: 'committed', uid: 20013, merge: 'fast-forward' });
    if (result.status !== 'committed') return;
    expect(origin$('log', '--format=%s', '-2', 'main').trim().split('\n')).toEqual(['Onboard E2001 (newbie)', 'Other writer: desired-state/users/E3000.yaml']);
    expect(git('rev-parse', 'refs/heads/main').trim()).toBe(origin$('rev-parse', 'main').trim());
    expect(git('for-each-ref', '--format=%(refname)', 'refs/heads/rollcall/').trim()).toBe('refs/heads/rollcall/dingtalk-PI-2');
    expect(git('rev-parse', 'refs/heads/rollcall/dingtalk-PI-2').trim()).toBe(origin$('rev-parse', 'rollcall/dingtalk-PI-2').trim());
  });

  it('lands concurrent approvals from two rollcalls with their own clones, with unique uids, and one commit for an approval both receive', async () => {
    const { origin$, provider } = setup();
    const [a, b] = [await provider(), await provider()];
    const results = await Promise.all([
      ...[1, 2, 3, 4].map((n) => a.provider.submit(approval(`A-${n}`), onboard(`A${n}`, `usera${n}`))),
      ...[1, 2, 3, 4].map((n) => b.provider.submit(approval(`B-${n}`), onboard(`B${n}`, `userb${n}`))),
      a.provider.submit(approval('BOTH'), onboard('C1', 'both')),
      b.provider.submit(approval('BOTH'), onboard('C1', 'both')),
    ]);
    expect(results.filter((result) => result.status === 'committed')).toHaveLength(9);
    expect(results.filter((result) => result.status === 'existing')).toHaveLength(1);
    const uids = ['A1', 'A2', 'A3', 'A4', 'B1', 'B2', 'B3', 'B4', 'C1'].map((empId) => (parse(origin$('show', `main:desired-state/users/${empId}.yaml`)) as { uid: number }).uid);
    expect(new Set(uids).size).toBe(9);
    expect(origin$('rev-list', '--count', '--no-merges', 'main', '--grep=Approval: dingtalk/BOTH').trim()).toBe('1');
  }, 60_000);

  it('undoes its local commit when the remote refuses the push for good, and says so', async () => {
    const { origin$, provider } = setup();
    const { provider: local, git } = await provider();
    const hook = path.join(origin$('rev-parse', '--absolute-git-dir').trim(), 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho protected branch >&2\nexit 1\n', { mode: 0o755 });
    const before = origin$('rev-parse', 'main').trim();
    await expect(local.submit(approval('PI-3'), onboard('E2001', 'newbie'))).rejects.toMatchObject({ code: 'git', message: expect.stringMatching(/could not push approval dingtalk\/PI-3 to main of origin: .*pre-receive hook declined/) });
    expect(git('rev-parse', 'refs/heads/main').trim()).toBe(before);
    expect(git('for-each-ref', 'refs/heads/rollcall/').trim()).toBe('');
  });
});

describe('LocalProvider with a remote, in rounds', () => {
  it('pushes a burst of approvals in one atomic push per round, not one per approval; duplicates once', async () => {
    const { origin$, provider } = setup();
    const counter = countingGit(env);
    const { provider: local, git } = await provider({ env: counter.env });
    counter.reset();
    const ids = Array.from({ length: 30 }, (_, index) => String(index).padStart(2, '0'));
    const calls = [...ids, ...ids.slice(0, 10)];
    const results = await Promise.all(calls.map((id) => local.submit(approval(`G-${id}`), onboard(`G${id}`, `group${id}`))));
    expect(results.filter((result) => result.status === 'committed')).toHaveLength(30);
    expect(results.slice(30)).toEqual(results.slice(0, 10).map((result) => ({ status: 'existing', sha: result.status === 'committed' ? result.sha : '', branch: result.status === 'committed' ? result.branch : '' })));
    expect(counter.commands().filter((command) => command === 'push')).toHaveLength(1);
    expect(counter.commands().filter((command) => command === 'fetch')).toHaveLength(1);
    expect(counter.commands().length).toBeLessThanOrEqual(15);
    // The remote has each approval once, on its branch and on main; local refs equal the remote's.
    const tip = origin$('rev-parse', 'main').trim();
    expect(results.every((result) => result.status !== 'committed' || result.tip === tip)).toBe(true);
    expect(Number(origin$('rev-list', '--count', '--no-merges', 'main', '--grep=Approval: dingtalk/G-').trim())).toBe(30);
    expect(origin$('for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/rollcall/')).toBe(git('for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/rollcall/'));
    expect(git('rev-parse', 'refs/heads/main', 'refs/remotes/origin/main').trim().split('\n')).toEqual([tip, tip]);
    const uids = ids.map((id) => (parse(origin$('show', `main:desired-state/users/G${id}.yaml`)) as { uid: number }).uid);
    expect(new Set(uids).size).toBe(30);
  }, 30_000);

  it('after a rejected push, redoes the whole round on the new tip: every approval lands, uids recomputed, nothing of the first attempt stays', async () => {
    const { origin$, provider, takesUidFirst } = setup();
    const { provider: local, git } = await provider({ beforePush: takesUidFirst() });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => local.submit(approval(`RJ-${n}`), onboard(`RJ${n}`, `reject${n}`))));
    expect(results.map((result) => (result.status === 'committed' ? result.uid : result.status))).toEqual([20013, 20014, 20015, 20016, 20017]);
    expect(origin$('log', '--format=%s', '-6', 'main').trim().split('\n')).toEqual([
      'Onboard RJ5 (reject5)',
      'Onboard RJ4 (reject4)',
      'Onboard RJ3 (reject3)',
      'Onboard RJ2 (reject2)',
      'Onboard RJ1 (reject1)',
      'Other writer: desired-state/users/E3000.yaml',
    ]);
    expect(git('rev-parse', 'refs/heads/main').trim()).toBe(origin$('rev-parse', 'main').trim());
    expect(git('for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/rollcall/')).toBe(origin$('for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/rollcall/'));
  }, 30_000);

  it('answers existing for the approvals of a round that another rollcall pushed first, and commits the rest', async () => {
    const { origin$, provider } = setup();
    const [a, b] = [await provider(), await provider()];
    const first = await a.provider.submit(approval('SHARED-1'), onboard('S1', 'shared1'));
    const results = await Promise.all([
      b.provider.submit(approval('SHARED-1'), onboard('S1', 'shared1')),
      b.provider.submit(approval('OWN-1'), onboard('O1', 'own1')),
    ]);
    expect(results[0]).toEqual({ status: 'existing', sha: first.status === 'committed' ? first.sha : '', branch: 'rollcall/dingtalk-SHARED-1' });
    expect(results[1]).toMatchObject({ status: 'committed', uid: 20013 });
    expect(origin$('rev-list', '--count', '--no-merges', 'main', '--grep=Approval: dingtalk/SHARED-1').trim()).toBe('1');
  }, 30_000);
});

describe('LocalProvider without a remote', () => {
  it('commits and merges into the repository itself', async () => {
    const fixture = desiredStateRepo();
    const local = new LocalProvider({ repoDir: fixture.repo, desiredPath: 'desired-state', env });
    expect(local.name).toBe('local');
    const result = await local.submit(approval('PI-4'), onboard('E2001', 'newbie'));
    expect(result).toMatchObject({ status: 'committed', merge: 'fast-forward' });
    expect(fixture.git('log', '-1', '--format=%s', 'main').trim()).toBe('Onboard E2001 (newbie)');
    expect(fixture.git('status', '--porcelain')).toBe('');
  });
});
