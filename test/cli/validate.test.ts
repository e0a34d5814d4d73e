import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

function brokenCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rollcall-validate-'));
  cpSync(path.resolve('desired-state'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'users/E1001.yaml'), 'empId: E1001\nlogin: zhangsan\nuid: 20001\nroles: [devops, dev0ps]\nshell: /bin/false\n');
  writeFileSync(path.join(dir, 'roles/analyst.yaml'), 'hostgroups: [db]\ngroups: [{ name: analyst, gid: 60001 }]\n');
  writeFileSync(path.join(dir, 'users/E1010.yaml'), 'empId: E1010\nlogin: liner\nuid: 3003\nroles: [analyst]\n');
  return dir;
}

describe('rollcall validate', () => {
  it('accepts the example desired state with a one-line summary', async () => {
    const run = await runCli(['validate', '--dir', 'desired-state']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^desired-state is valid: 12 users, 5 roles, 2 hostgroups, 4 approval flows \(revision .+\)\n$/);
    expect(run.stderr).toBe('');
  });

  it('prints every problem at once as file:line:col: message, sorted, and exits 1', async () => {
    const dir = brokenCopy();
    const run = await runCli(['validate', '--dir', '.'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      'roles/analyst.yaml:2:32: groups[0].gid: 60001 is outside 1000-60000: rollcall only creates regular groups',
      'users/E1001.yaml:4:17: roles[1]: role "dev0ps" does not exist (no roles/dev0ps.yaml) (did you mean "devops"?)',
      expect.stringMatching(/^users\/E1001.yaml:5:8: shell: "\/bin\/false" is not a login shell rollcall knows \(\/bin\/bash, /),
      'users/E1010.yaml:3:6: uid: 3003 is outside policy.uidRange [20000, 29999]',
      'users/E1010.yaml:3:6: uid: 3003 is the gid of group "dba" (roles/dba.yaml); a user\'s private group takes gid = uid, so pick another',
      '5 problems found.',
    ]);
  });

  it('with --json prints one document with the problems', async () => {
    const run = await runCli(['validate', '--dir', brokenCopy(), '--json']);
    expect(run.code).toBe(1);
    const document = JSON.parse(run.stdout) as { valid: boolean; problems: { file: string; line: number; col: number; message: string }[] };
    expect(document.valid).toBe(false);
    expect(document.problems).toHaveLength(5);
    expect(document.problems[1]).toMatchObject({ line: 4, col: 17 });
  });

  it('takes the folder from ROLLCALL_DIR when --dir is absent', async () => {
    const run = await runCli(['validate'], { env: { ROLLCALL_DIR: brokenCopy() } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('5 problems found.');
  });

  it('says what to do when the folder does not exist', async () => {
    const run = await runCli(['validate', '--dir', 'no-such-folder']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no-such-folder: is not a folder: point --dir at the desired-state folder');
  });

  it('rejects unknown options and commands with a usage error', async () => {
    expect((await runCli(['validate', '--bogus'])).code).toBe(64);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it('runs as `npx rollcall` from a checkout, with no build step', () => {
    const output = execFileSync('npx', ['--no-install', 'rollcall', 'validate', '--dir', 'desired-state'], { encoding: 'utf8' });
    expect(output).toContain('desired-state is valid');
  });
});
