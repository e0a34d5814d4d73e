import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGit, describeCommittedRevision, gitEnvironment, runGit } from '../../src/source/git.js';
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

describe('createGit', () => {
  it('takes no optional locks: git status leaves a stale index as it is', async () => {
    const { repo, dir } = desiredStateRepo();
    const fleet = path.join(dir, 'fleet.yaml');
    // A past mtime makes the index's stat data stale: a plain `git status` would refresh and rewrite it.
    utimesSync(fleet, new Date('2001-01-01'), new Date('2001-01-01'));
    const index = path.join(repo, '.git', 'index');
    const before = { bytes: readFileSync(index), mtime: statSync(index).mtimeMs };
    expect(await createGit(repo).raw(['status', '--porcelain'])).toBe('');
    expect(readFileSync(index).equals(before.bytes)).toBe(true);
    expect(statSync(index).mtimeMs).toBe(before.mtime);
    expect(existsSync(`${index}.lock`)).toBe(false);
  });
});

describe('runGit', () => {
  it('returns output as bytes and text, feeds stdin, and accepts the exit codes it is told to', async () => {
    const { repo } = desiredStateRepo();
    const blob = await runGit(repo, ['hash-object', '--stdin'], { input: 'héllo\n' });
    expect(blob.text.trim()).toMatch(/^[0-9a-f]{40}$/);
    const diff = await runGit(repo, ['diff', '--quiet', 'HEAD', 'HEAD'], { okExitCodes: [0, 1] });
    expect(diff.exitCode).toBe(0);
  });

  it('throws a git error carrying what git said', async () => {
    const { repo } = desiredStateRepo();
    await expect(runGit(repo, ['rev-parse', '--verify', 'no-such-branch'])).rejects.toMatchObject({ code: 'git', message: expect.stringContaining('git rev-parse failed') });
    await expect(runGit(repo, ['cat-file', '-t', 'no-such-object'])).rejects.toThrow(/Not a valid object name/);
  });
});

describe('gitEnvironment', () => {
  it('sets no optional locks and no prompts, and drops GIT_* variables it did not set', () => {
    const { env } = gitEnvironment({ PATH: '/bin', GIT_DIR: '/elsewhere', GIT_INDEX_FILE: '/x', EDITOR: 'vi' });
    expect(env).toEqual({ PATH: '/bin', GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' });
  });

  it('turns ROLLCALL_GIT_SSH_KEY into an ssh command that uses only that key', () => {
    const result = gitEnvironment({ ROLLCALL_GIT_SSH_KEY: "/keys/it's" });
    expect(result.sshCommand).toBe(true);
    expect(result.env.GIT_SSH_COMMAND).toBe(`ssh -i '/keys/it'\\''s' -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o BatchMode=yes`);
  });

  it('answers credential prompts from ROLLCALL_GIT_USERNAME and ROLLCALL_GIT_TOKEN without writing the token down', () => {
    const env = { ROLLCALL_GIT_USERNAME: 'deploy', ROLLCALL_GIT_TOKEN: 's3cret-token' };
    const result = gitEnvironment(env);
    const askPass = result.env.GIT_ASKPASS ?? '';
    expect(result.askPass).toBe(true);
    expect(readFileSync(askPass, 'utf8')).not.toContain('s3cret-token');
    const ask = (prompt: string) => execFileSync(askPass, [prompt], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(ask("Username for 'https://git.example.com': ")).toBe('deploy\n');
    expect(ask("Password for 'https://deploy@git.example.com': ")).toBe('s3cret-token\n');
    expect(gitEnvironment({ ROLLCALL_GIT_TOKEN: 'only-a-token' }).env.GIT_ASKPASS).toBeUndefined();
  });
});
