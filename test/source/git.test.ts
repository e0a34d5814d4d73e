import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeCommittedRevision } from '../../src/source/git.js';
import { desiredStateRepo } from '../cli/git-fixture.js';

describe('describeCommittedRevision', () => {
  it('is the HEAD sha of a clean tree', async () => {
    const { dir, git } = desiredStateRepo();
    expect(await describeCommittedRevision(dir)).toEqual({ sha: git('rev-parse', 'HEAD').trim(), committedAt: Number(git('log', '-1', '--format=%ct').trim()) });
  });

  it('is undefined when a file under the folder is changed or untracked', async () => {
    const edited = desiredStateRepo();
    writeFileSync(path.join(edited.dir, 'fleet.yaml'), '# edited\n', { flag: 'a' });
    expect(await describeCommittedRevision(edited.dir)).toBeUndefined();
    const untracked = desiredStateRepo();
    writeFileSync(path.join(untracked.dir, 'users', 'E2000.yaml'), 'empId: E2000\n');
    expect(await describeCommittedRevision(untracked.dir)).toBeUndefined();
  });

  it('ignores changes outside the folder', async () => {
    const { repo, dir, git } = desiredStateRepo();
    writeFileSync(path.join(repo, 'README.md'), 'notes\n');
    expect((await describeCommittedRevision(dir))?.sha).toBe(git('rev-parse', 'HEAD').trim());
  });

  it('is undefined outside a repository and in one without commits', async () => {
    const plain = mkdtempSync(path.join(tmpdir(), 'rollcall-plain-'));
    expect(await describeCommittedRevision(plain)).toBeUndefined();
    const unborn = mkdtempSync(path.join(tmpdir(), 'rollcall-unborn-'));
    execFileSync('git', ['init', '-q'], { cwd: unborn });
    expect(await describeCommittedRevision(unborn)).toBeUndefined();
  });

  it('reads Rollcall-Allow-Deletions, the largest when there are several', async () => {
    const { dir, git } = desiredStateRepo();
    git('commit', '-q', '--allow-empty', '-m', 'Offboard a team\n\nApproval: PROC-1\nRollcall-Allow-Deletions: 12\nRollcall-Allow-Deletions: 30');
    expect((await describeCommittedRevision(dir))?.allowDeletions).toBe(30);
  });
});
