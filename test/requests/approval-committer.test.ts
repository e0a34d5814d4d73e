import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { commitApproval, type CommitApprovalResult } from '../../src/requests/commit-request.js';
import type { ApprovalEvent, Request } from '../../src/requests/types.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { env, plumbingCommit } from './approvals-fixture.js';
import { countingGit } from './git-counter.js';


function approval(id: string, requester: ApprovalEvent['requester'] = { id: 'hr01', name: 'Han Rui' }): ApprovalEvent {
  return { platform: 'dingtalk', approvalId: id, processCode: 'PROC-ONBOARD', requester, approvers: [{ id: 'mgr01', name: 'Ma Guo' }], form: { 工号: id }, finishedAt: '2026-11-27T10:00:00Z' };
}
const onboard = (empId: string, login: string): Request => ({ kind: 'onboard', empId, login, name: 'New Bie', role: 'devops', flow: 'dingtalk/PROC-ONBOARD' });

/** A shuffle that is the same every run. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let index = result.length - 1; index > 0; index -= 1) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}

function setup() {
  const fixture = desiredStateRepo();
  /** `<sha> <Approval trailer>` of every non-merge commit of main, and its first-parent shas. */
  const history = () => {
    const approvals = new Map<string, string[]>();
    for (const line of fixture.git('log', '--no-merges', '--format=%H %(trailers:key=Approval,valueonly,separator=%x2C)', 'main').trim().split('\n')) {
      const [sha = '', key = ''] = line.split(' ');
      if (key) approvals.set(key, [...(approvals.get(key) ?? []), sha]);
    }
    return { approvals, firstParent: fixture.git('rev-list', '--first-parent', 'main').trim().split('\n') };
  };
  /** Every user record of main, read with one `cat-file --batch`. */
  const users = () => {
    const files = fixture.git('ls-tree', '--name-only', 'main', 'desired-state/users/').trim().split('\n');
    const output = execFileSync('git', ['cat-file', '--batch'], { cwd: fixture.repo, input: files.map((file) => `main:${file}\n`).join('') });
    const records = new Map<string, { uid: number; login: string }>();
    let offset = 0;
    for (const file of files) {
      const newline = output.indexOf(0x0a, offset);
      const size = Number(output.subarray(offset, newline).toString('utf8').split(' ')[2]);
      records.set(path.basename(file, '.yaml'), parse(output.subarray(newline + 1, newline + 1 + size).toString('utf8')) as { uid: number; login: string });
      offset = newline + 1 + size + 1;
    }
    return records;
  };
  const uids = () => [...users().values()].map((record) => record.uid);
  const branches = () => new Map(fixture.git('for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads/rollcall/').trim().split('\n').map((line) => line.split(' ') as [string, string]));
  return { ...fixture, history, uids, users, branches };
}

describe('commitApproval in rounds (group commit)', () => {
  it('lands a burst of 300 calls (30% duplicates, random order): one commit per approval, unique uids, each once on the first-parent history, a clean checkout', async () => {
    const { repo, git, history, uids, users, branches } = setup();
    const counter = countingGit(env);
    const distinct = Array.from({ length: 210 }, (_, index) => String(index + 1).padStart(3, '0'));
    const calls = shuffled([...distinct, ...shuffled(distinct, 7).slice(0, 90)], 42);
    const results = await Promise.all(calls.map((id) => commitApproval(repo, 'desired-state', approval(`BURST-${id}`), onboard(`N${id}`, `user${id}`), { env: counter.env })));

    const byApproval = new Map<string, CommitApprovalResult[]>();
    calls.forEach((id, index) => byApproval.set(id, [...(byApproval.get(id) ?? []), results[index]!]));
    const { approvals, firstParent } = history();
    const [records, refs] = [users(), branches()];
    for (const id of distinct) {
      const outcomes = byApproval.get(id)!;
      const committed = outcomes.filter((result) => result.status === 'committed');
      expect(committed, id).toHaveLength(1);
      const sha = committed[0]!.status === 'committed' ? committed[0]!.sha : '';
      expect(outcomes.filter((result) => result.status === 'existing')).toEqual(outcomes.slice(1).map(() => ({ status: 'existing', sha, branch: `rollcall/dingtalk-BURST-${id}` })));
      expect(approvals.get(`dingtalk/BURST-${id}`)).toEqual([sha]);
      expect(firstParent).toContain(sha);
      expect(refs.get(`rollcall/dingtalk-BURST-${id}`)).toBe(sha);
      expect(records.get(`N${id}`)?.login).toBe(`user${id}`);
    }
    expect(results.filter((result) => result.status === 'committed')).toHaveLength(210);
    expect(results.filter((result) => result.status === 'existing')).toHaveLength(90);
    const all = uids();
    expect(all).toHaveLength(222);
    expect(new Set(all).size).toBe(222);
    expect(git('status', '--porcelain', '--untracked-files=all')).toBe('');
    // A handful of rounds of a few processes each, not a process (or twelve) per approval.
    expect(counter.commands().length).toBeLessThanOrEqual(15);
    expect(counter.commands().filter((command) => command === 'fast-import').length).toBeLessThanOrEqual(3);
  }, 60_000);

  it('spawns as many git processes for a round of 100 approvals as for a round of 1', async () => {
    const { repo } = setup();
    const counter = countingGit(env);
    const submit = (ids: readonly string[]) => Promise.all(ids.map((id) => commitApproval(repo, 'desired-state', approval(`P-${id}`), onboard(`P${id}`, `p${id}`), { env: counter.env })));
    await submit(['warm']); // the first round reads the repository's layout, history and users once
    counter.reset();
    expect((await submit(['one'])).map((result) => result.status)).toEqual(['committed']);
    const single = counter.commands();
    counter.reset();
    const hundred = Array.from({ length: 100 }, (_, index) => `h${index}`);
    expect((await submit(hundred)).every((result) => result.status === 'committed')).toBe(true);
    const batch = counter.commands();
    expect(batch).toEqual(single);
    expect(batch.length).toBeLessThanOrEqual(6);
    expect(batch).toContain('fast-import');
  }, 30_000);

  it('refuses what does not apply within a round and commits the rest, each against what the earlier ones left', async () => {
    const { repo, git, uids } = setup();
    const submit = (id: string, request: Request) => commitApproval(repo, 'desired-state', approval(id), request, { env });
    const results = await Promise.all([
      submit('R-1', onboard('E1001', 'again')),
      submit('R-2', onboard('E2001', 'newbie')),
      submit('R-3', { kind: 'offboard', empId: 'E9999', flow: 'dingtalk/PROC-OFFBOARD' }),
      submit('R-4', onboard('E2002', 'newbie')),
      submit('R-5', { kind: 'grant', empId: 'E2001', role: 'analyst', flow: 'dingtalk/PROC-GRANT' }),
      submit('R-6', onboard('E2001', 'newbie2')),
      submit('R-7', onboard('E2003', 'third')),
      submit('R-8', { kind: 'offboard', empId: 'E1002', flow: 'dingtalk/PROC-OFFBOARD' }),
      submit('R-9', { kind: 'offboard', empId: 'E1002', flow: 'dingtalk/PROC-OFFBOARD' }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['refused', 'committed', 'refused', 'refused', 'committed', 'refused', 'committed', 'committed', 'refused']);
    expect(results[3]).toEqual({ status: 'refused', reason: 'the login newbie already belongs to E2001: choose another login' });
    expect(results[5]).toMatchObject({ reason: expect.stringMatching(/^E2001 already has a record/) });
    expect(results[8]).toMatchObject({ reason: expect.stringMatching(/already offboarded/) });
    expect(results[1]).toMatchObject({ uid: 20000 });
    expect(results[6]).toMatchObject({ uid: 20013 });
    expect(git('log', '--format=%s', '-4', 'main').trim().split('\n')).toEqual(['Offboard E1002 (lisi)', 'Onboard E2003 (third)', 'Grant E2001 (newbie)', 'Onboard E2001 (newbie)']);
    expect(git('show', 'main:desired-state/users/E2001.yaml')).toMatch(/^roles: \[devops, analyst\]$/m);
    expect(new Set(uids()).size).toBe(14);
    // Each commit changes its own file only, on the one before it.
    expect(git('diff', '--name-only', 'main~2', 'main~1').trim()).toBe('desired-state/users/E2003.yaml');
  });

  it('redoes the round from the new tip when a second writer moves the branch mid-round: everything lands, uids recomputed', async () => {
    const { repo, git, history, uids } = setup();
    let other = '';
    const beforeUpdate = async (attempt: number) => {
      if (attempt === 1) other = plumbingCommit(repo, 'desired-state/users/E3000.yaml', 'empId: E3000\nlogin: other\nuid: 20000\nroles: []\n');
    };
    const ids = Array.from({ length: 20 }, (_, index) => String(index));
    const results = await Promise.all(ids.map((id) => commitApproval(repo, 'desired-state', approval(`RACE-${id}`), onboard(`R${id}`, `race${id}`), { env, beforeUpdate })));
    expect(results.every((result) => result.status === 'committed' && result.merge === 'fast-forward')).toBe(true);
    expect(results.map((result) => (result.status === 'committed' ? result.uid : 0))).toEqual(ids.map((_, index) => 20013 + index));
    const { approvals, firstParent } = history();
    expect(ids.every((id) => approvals.get(`dingtalk/RACE-${id}`)?.length === 1)).toBe(true);
    expect(firstParent).toContain(other);
    expect(git('rev-parse', 'main~20').trim()).toBe(other);
    expect(new Set(uids()).size).toBe(33);
  }, 30_000);

  it('merges a round\'s commits into the new tip when the second writer changed nothing they computed', async () => {
    const { repo, git } = setup();
    let other = '';
    const beforeUpdate = async (attempt: number) => {
      if (attempt === 1) other = plumbingCommit(repo, 'desired-state/roles/extra.yaml', 'hostgroups: [web]\n');
    };
    const results = await Promise.all(['a', 'b', 'c'].map((id) => commitApproval(repo, 'desired-state', approval(`M-${id}`), onboard(`M${id}`, `merge${id}`), { env, beforeUpdate })));
    expect(results.map((result) => (result.status === 'committed' ? result.merge : result.status))).toEqual(['merge-commit', 'merge-commit', 'merge-commit']);
    const tip = git('rev-parse', 'main').trim();
    const last = results[2]!.status === 'committed' ? results[2]!.sha : '';
    expect(results.every((result) => result.status === 'committed' && result.tip === tip)).toBe(true);
    expect(git('log', '-1', '--format=%P', tip).trim()).toBe(`${other} ${last}`);
    expect(git('log', '-1', '--format=%B', tip)).toMatch(/^Merge 3 approvals\n\nrollcall\/dingtalk-M-a: Onboard Ma \(mergea\)\n/);
    expect(git('log', '-1', '--format=%(trailers:key=Approval,valueonly,separator=%x2C)', tip).trim()).toBe('dingtalk/M-a,dingtalk/M-b,dingtalk/M-c');
    expect(git('show', 'main:desired-state/roles/extra.yaml')).toBe('hostgroups: [web]\n');
    expect(git('ls-tree', '--name-only', 'main', 'desired-state/users/').trim().split('\n')).toEqual(expect.arrayContaining(['desired-state/users/Ma.yaml', 'desired-state/users/Mb.yaml', 'desired-state/users/Mc.yaml']));
  });

  it('keeps exactly-once across rounds and writers: a trailer another writer committed, a branch moved back, users another writer added', async () => {
    const { repo, git } = setup();
    const submit = (id: string, request: Request) => commitApproval(repo, 'desired-state', approval(id), request, { env });
    const first = await submit('X-1', onboard('E2001', 'newbie'));
    expect(first).toMatchObject({ status: 'committed', uid: 20000 });
    // Another writer commits an approval (its trailer, no branch) and a user with the next uid.
    const external = plumbingCommit(repo, 'desired-state/users/E3000.yaml', 'empId: E3000\nlogin: other\nuid: 20013\nroles: []\n', 'Onboard E3000 (other)\n\nApproval: dingtalk/X-2\n');
    expect(await submit('X-2', onboard('E3000', 'other'))).toEqual({ status: 'existing', sha: external, branch: 'rollcall/dingtalk-X-2' });
    expect(await submit('X-3', onboard('E2002', 'second'))).toMatchObject({ status: 'committed', uid: 20014 });
    // The branch moved back past X-3's commit and its branch deleted: X-3 is not done any more.
    const x3 = git('rev-parse', 'main').trim();
    git('update-ref', 'refs/heads/main', external);
    git('branch', '-D', 'rollcall/dingtalk-X-3');
    const again = await submit('X-3', onboard('E2002', 'second'));
    expect(again).toMatchObject({ status: 'committed', uid: 20014 });
    expect(git('rev-parse', 'main').trim()).toBe(again.status === 'committed' ? again.sha : '');
    expect(git('rev-parse', 'main~1').trim()).toBe(external);
    expect(x3).not.toBe('');
    // Its trailer alone (the branch deleted) still says X-1 is done.
    git('branch', '-D', 'rollcall/dingtalk-X-1');
    expect(await submit('X-1', onboard('E2001', 'newbie'))).toMatchObject({ status: 'existing', sha: first.status === 'committed' ? first.sha : '' });
  });

  it('writes the author and committer git itself would write (names trimmed the same way, the committer date from GIT_COMMITTER_DATE)', async () => {
    const { repo, git } = setup();
    const requester = { id: 'hr<02>', name: ' "Han Rui." ' };
    const result = await commitApproval(repo, 'desired-state', approval('ID-1', requester), onboard('E2001', 'newbie'), { env: { ...env, GIT_COMMITTER_DATE: '2026-11-28T09:30:00+08:00' } });
    const sha = result.status === 'committed' ? result.sha : '';
    const [tree = '', parent = ''] = git('log', '-1', '--format=%T %P', sha).trim().split(' ');
    const message = git('log', '-1', '--format=%B', sha).replace(/\n$/, '');
    // The same commit by commit-tree, from the environment the single-commit path sets.
    const made = execFileSync('git', ['commit-tree', tree, '-p', parent, '-F', '-'], {
      cwd: repo,
      encoding: 'utf8',
      input: message,
      env: { ...env, GIT_AUTHOR_NAME: 'Han Rui.', GIT_AUTHOR_EMAIL: 'hr_02_@dingtalk', GIT_AUTHOR_DATE: '@1795773600 +0000', GIT_COMMITTER_DATE: '2026-11-28T09:30:00+08:00' },
    }).trim();
    expect(git('log', '-1', '--format=%an|%ae|%aI|%cn|%ce|%cI', sha).trim()).toBe('Han Rui|hr_02_@dingtalk|2026-11-27T10:00:00+00:00|Rollcall|rollcall@example.com|2026-11-28T09:30:00+08:00');
    expect(made).toBe(sha);
  });

  it('answers existing for an approval whose branch another process created mid-round, and lands the rest', async () => {
    const { repo, git } = setup();
    let theirs = '';
    const beforeUpdate = async (attempt: number) => {
      if (attempt !== 1) return;
      theirs = plumbingCommit(repo, 'desired-state/users/C2.yaml', 'empId: C2\nlogin: theirs\nuid: 20000\nroles: []\n', 'Onboard C2 (theirs)\n\nApproval: dingtalk/C-2\n');
      git('update-ref', 'refs/heads/rollcall/dingtalk-C-2', theirs);
    };
    const results = await Promise.all(['1', '2', '3'].map((id) => commitApproval(repo, 'desired-state', approval(`C-${id}`), onboard(`C${id}`, `c${id}`), { env, beforeUpdate })));
    expect(results[1]).toEqual({ status: 'existing', sha: theirs, branch: 'rollcall/dingtalk-C-2' });
    expect(results[0]).toMatchObject({ status: 'committed', uid: 20013 });
    expect(results[2]).toMatchObject({ status: 'committed', uid: 20014 });
    expect(git('log', '--format=%s', '-3', 'main').trim().split('\n')).toEqual(['Onboard C3 (c3)', 'Onboard C1 (c1)', 'Onboard C2 (theirs)']);
  });

  it('keeps calls for different tracked branches in rounds of their own', async () => {
    const { repo, git } = setup();
    git('branch', 'staging');
    const results = await Promise.all([
      commitApproval(repo, 'desired-state', approval('B-1'), onboard('B1', 'b1'), { env, branch: 'main' }),
      commitApproval(repo, 'desired-state', approval('B-2'), onboard('B2', 'b2'), { env, branch: 'staging' }),
      commitApproval(repo, 'desired-state', approval('B-3'), onboard('B3', 'b3'), { env, branch: 'main' }),
    ]);
    expect(results.map((result) => (result.status === 'committed' ? result.uid : 0))).toEqual([20000, 20000, 20013]);
    expect(git('log', '--format=%s', '-2', 'main').trim().split('\n')).toEqual(['Onboard B3 (b3)', 'Onboard B1 (b1)']);
    expect(git('log', '--format=%s', '-1', 'staging').trim()).toBe('Onboard B2 (b2)');
    expect(git('status', '--porcelain')).toBe('');
  });

  it('brings every changed file of a round into the checkout, and leaves the one a person edited, warning that approval\'s logger only', async () => {
    const { repo, git } = setup();
    const edited = path.join(repo, 'desired-state', 'users', 'E1003.yaml');
    writeFileSync(edited, `${readFileSync(edited, 'utf8')}# my note\n`);
    const warnings = new Map<string, unknown[]>();
    const logger = (id: string) => ({ warn: (...args: unknown[]) => void warnings.set(id, [...(warnings.get(id) ?? []), args]) }) as never;
    const submit = (id: string, request: Request) => commitApproval(repo, 'desired-state', approval(id), request, { env, logger: logger(id) });
    const results = await Promise.all([
      submit('W-1', onboard('E2001', 'newbie')),
      submit('W-2', { kind: 'offboard', empId: 'E1003', flow: 'dingtalk/PROC-OFFBOARD' }),
      submit('W-3', { kind: 'offboard', empId: 'E1001', flow: 'dingtalk/PROC-OFFBOARD' }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['committed', 'committed', 'committed']);
    expect([...warnings.keys()]).toEqual(['W-2']);
    expect(git('status', '--porcelain', '--untracked-files=all')).toBe(' M desired-state/users/E1003.yaml\n');
    expect(readFileSync(edited, 'utf8')).toMatch(/# my note\n$/);
    expect(git('diff').trim()).toMatch(/^-state: absent\n\+# my note$/m);
    expect(readFileSync(path.join(repo, 'desired-state', 'users', 'E2001.yaml'), 'utf8')).toBe(git('show', 'main:desired-state/users/E2001.yaml'));
    expect(readFileSync(path.join(repo, 'desired-state', 'users', 'E1001.yaml'), 'utf8')).toMatch(/^state: absent$/m);
  });
});
