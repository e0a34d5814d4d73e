import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { importCommits } from '../../src/requests/fast-import.js';
import { runGit } from '../../src/source/git.js';
import { desiredStateRepo } from '../cli/git-fixture.js';

const who = { name: 'Han Rui', email: 'hr01@dingtalk', date: '1795773600 +0000' };
const rollcall = { name: 'Rollcall', email: 'rollcall@example.com', date: '1795777200 +0800' };

describe('importCommits', () => {
  it('writes a chain of commits and a merge with one fast-import, moves no ref, and returns their shas', async () => {
    const { repo, git } = desiredStateRepo();
    const tip = git('rev-parse', 'main').trim();
    const refsBefore = git('for-each-ref');
    const odd = 'desired-state/users/"quoted" name\twith tab.yaml';
    const shas = await importCommits((args, more) => runGit(repo, args, more), [
      { author: who, committer: rollcall, message: 'First: 工号\n', parents: [tip], files: [{ path: odd, text: '名前: ü\n' }] },
      { author: who, committer: rollcall, message: 'Second\n\nApproval: dingtalk/X\n', parents: [0], files: [{ path: 'desired-state/users/E9.yaml', text: 'empId: E9\n' }] },
      { author: rollcall, committer: rollcall, message: 'Merge\n', parents: [tip, 1], files: [{ path: 'desired-state/users/E9.yaml', text: 'empId: E9\n' }] },
    ]);
    expect(shas).toHaveLength(3);
    expect(git('for-each-ref')).toBe(refsBefore);
    expect(git('log', '-1', '--format=%P', shas[1]!).trim()).toBe(shas[0]);
    expect(git('log', '-1', '--format=%P', shas[2]!).trim()).toBe(`${tip} ${shas[1]}`);
    expect(git('log', '-1', '--format=%B', shas[0]!)).toBe('First: 工号\n\n');
    expect(git('log', '-1', '--format=%an <%ae> %at|%cn %ct %cI', shas[0]!).trim()).toBe('Han Rui <hr01@dingtalk> 1795773600|Rollcall 1795777200 2026-11-27T19:00:00+08:00');
    expect(execFileSync('git', ['cat-file', 'blob', `${shas[0]}:${odd}`], { cwd: repo, encoding: 'utf8' })).toBe('名前: ü\n');
    expect(git('diff', '--name-only', tip, shas[2]!).trim()).toBe('desired-state/users/E9.yaml');
    expect(git('rev-parse', `${shas[2]}^{tree}`).trim()).not.toBe(git('rev-parse', `${shas[1]}^{tree}`).trim());
  });

  it('refuses a parent that is not an earlier commit of the import', async () => {
    const { repo } = desiredStateRepo();
    await expect(importCommits((args, more) => runGit(repo, args, more), [{ author: who, committer: who, message: 'x\n', parents: [0], files: [] }])).rejects.toThrow(RangeError);
  });
});
