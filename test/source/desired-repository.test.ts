import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DesiredRepository } from '../../src/source/desired-repository.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { commitFileIn, gitIn, remoteRepo, tempDir } from './repo-fixture.js';

const NO_WORKDIR = '/nonexistent/rollcall-workdir';

function openLocal(repo: string, options: { branch?: string; path?: string; env?: NodeJS.ProcessEnv } = {}): Promise<DesiredRepository> {
  return DesiredRepository.open({ repo, workDir: NO_WORKDIR, ...options });
}

/** Every file under `dir`, relative to it, with its content. */
function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[path.relative(dir, path.join(entry.parentPath, entry.name))] = readFileSync(path.join(entry.parentPath, entry.name), 'utf8');
  }
  return files;
}

describe('DesiredRepository.open (local)', () => {
  it('opens a work tree on the branch HEAD is on, from its root or any folder inside it', async () => {
    const { repo, dir } = desiredStateRepo();
    const opened = await openLocal(dir);
    expect({ kind: opened.kind, root: opened.root, branch: opened.branch, path: opened.path }).toEqual({ kind: 'local', root: repo, branch: 'main', path: 'desired-state' });
    expect((await openLocal(repo, { path: './desired-state/' })).path).toBe('desired-state');
  });

  it('says what to fix when the path is missing or not a repository', async () => {
    await expect(openLocal('/nonexistent/rollcall')).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/does not exist or is not a folder: give --repo/) });
    await expect(openLocal(tempDir())).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/is not in a git repository: give --repo the path of a clone/) });
  });

  it('refuses a branch that does not exist, naming the ones that do', async () => {
    const { repo, git } = desiredStateRepo();
    git('branch', 'staging');
    await expect(openLocal(repo, { branch: 'prod' })).rejects.toMatchObject({
      code: 'invalid-input',
      message: `branch prod does not exist in ${repo} (it has main, staging): pass --branch with one of its branches`,
    });
    await expect(openLocal(repo, { branch: '--upload-pack=evil' })).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/not a valid branch name/) });
    await expect(openLocal(repo, { path: '../elsewhere' })).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/--path "..\/elsewhere" is not a path inside the repository/) });
  });

  it('asks for --branch when HEAD is detached', async () => {
    const { repo, git } = desiredStateRepo();
    git('checkout', '-q', '--detach');
    await expect(openLocal(repo)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/detached\): pass --branch/) });
    expect((await openLocal(repo, { branch: 'main' })).branch).toBe('main');
  });
});

describe('head and revision', () => {
  it('reads sha, time, subject, author and every trailer as written', async () => {
    const { repo, git } = desiredStateRepo();
    git('commit', '-q', '--allow-empty', '-m', 'Grant E1001 dba (张三)\n\nBecause the migration.\n\nApproval: PROC-1\nRequested-by: E1001\nApproved-by: E1002\nApproved-by:  E1003 \nRollcall-Allow-Deletions: 3\nRollcall-Allow-Deletions: 12');
    const head = await (await openLocal(repo)).head();
    expect(head).toEqual({
      sha: git('rev-parse', 'HEAD').trim(),
      committedAt: Number(git('log', '-1', '--format=%ct').trim()),
      subject: 'Grant E1001 dba (张三)',
      author: 'Test <test@example.com>',
      trailers: { Approval: ['PROC-1'], 'Requested-by': ['E1001'], 'Approved-by': ['E1002', 'E1003'], 'Rollcall-Allow-Deletions': ['3', '12'] },
      allowDeletions: 12,
    });
  });

  it('reads an older commit by sha, and says so when there is no such commit', async () => {
    const { repo, git } = desiredStateRepo();
    const first = git('rev-parse', 'HEAD').trim();
    commitFileIn(repo, 'desired-state/fleet.yaml', '# later\n', 'Later');
    const opened = await openLocal(repo);
    expect(await opened.revision(first)).toMatchObject({ sha: first, subject: 'Initial desired state', trailers: {} });
    expect((await opened.revision(first)).allowDeletions).toBeUndefined();
    await expect(opened.revision('0123456789abcdef0123456789abcdef01234567')).rejects.toMatchObject({
      code: 'invalid-input',
      message: `0123456789abcdef0123456789abcdef01234567 is not a commit in ${repo}: check the revision`,
    });
  });
});

describe('pendingRevisions', () => {
  it('lists first-parent commits that change the path, oldest first, and always ends with head', async () => {
    const { repo, git } = desiredStateRepo();
    const since = git('rev-parse', 'HEAD').trim();
    const inPath = commitFileIn(repo, 'desired-state/users/E2000.yaml', 'empId: E2000\n', 'Add E2000');
    commitFileIn(repo, 'README.md', 'notes\n', 'Outside the path');
    git('switch', '-q', '-c', 'feature');
    const onFeature = commitFileIn(repo, 'desired-state/users/E2001.yaml', 'empId: E2001\n', 'Add E2001 on a branch');
    git('switch', '-q', 'main');
    git('merge', '-q', '--no-ff', 'feature', '-m', 'Merge feature');
    const merge = git('rev-parse', 'HEAD').trim();
    const head = commitFileIn(repo, 'docs/notes.md', 'more\n', 'Outside again');
    const opened = await openLocal(repo);
    const pending = await opened.pendingRevisions(since, head);
    expect(pending.map((revision) => revision.sha)).toEqual([inPath, merge, head]);
    expect(pending.map((revision) => revision.sha)).not.toContain(onFeature);
    expect((await opened.pendingRevisions(since, merge)).map((revision) => revision.subject)).toEqual(['Add E2000', 'Merge feature']);
  });

  it('is just head when since is undefined, unknown or rewritten away, and nothing when since is head', async () => {
    const { repo, git } = desiredStateRepo();
    const old = commitFileIn(repo, 'desired-state/fleet.yaml', '# old\n', 'Old');
    git('reset', '-q', '--hard', 'HEAD~1');
    const head = commitFileIn(repo, 'desired-state/fleet.yaml', '# new\n', 'New');
    const opened = await openLocal(repo);
    const only = [head];
    expect((await opened.pendingRevisions(undefined, head)).map((revision) => revision.sha)).toEqual(only);
    expect((await opened.pendingRevisions('0123456789abcdef0123456789abcdef01234567', head)).map((revision) => revision.sha)).toEqual(only);
    expect((await opened.pendingRevisions(old, head)).map((revision) => revision.sha)).toEqual(only);
    expect(await opened.pendingRevisions(head, head)).toEqual([]);
  });
});

describe('exportTree', () => {
  it('writes the committed files of that commit, not the work tree, and reuses a finished export', async () => {
    const { repo, dir, git } = desiredStateRepo();
    const first = git('rev-parse', 'HEAD').trim();
    const committed = readTree(dir);
    const second = commitFileIn(repo, 'desired-state/users/E2000.yaml', 'empId: E2000\n', 'Add E2000');
    writeFileSync(path.join(dir, 'fleet.yaml'), '# uncommitted edit\n');
    writeFileSync(path.join(dir, 'users', 'E3000.yaml'), 'empId: E3000\n');
    const dest = tempDir();
    const opened = await openLocal(repo);

    const exported = await opened.exportTree(second, dest);
    expect(exported).toBe(path.join(dest, second, 'desired-state'));
    expect(readTree(exported)).toEqual({ ...committed, 'users/E2000.yaml': 'empId: E2000\n' });
    expect(readTree(await opened.exportTree(first, dest))).toEqual(committed);
    expect(readdirSync(dest).sort()).toEqual([first, second].sort());

    writeFileSync(path.join(exported, 'marker'), 'kept\n');
    expect(await opened.exportTree(second.slice(0, 12), dest)).toBe(exported);
    expect(readFileSync(path.join(exported, 'marker'), 'utf8')).toBe('kept\n');
  });

  it('exports another folder of an exported commit beside the first', async () => {
    const { repo, git } = desiredStateRepo();
    commitFileIn(repo, 'other/fleet.yaml', '# other\n', 'Another folder');
    const sha = git('rev-parse', 'HEAD').trim();
    const dest = tempDir();
    const first = await (await openLocal(repo)).exportTree(sha, dest);
    const second = await (await openLocal(repo, { path: 'other' })).exportTree(sha, dest);
    expect(second).toBe(path.join(dest, sha, 'other'));
    expect(readTree(second)).toEqual({ 'fleet.yaml': '# other\n' });
    expect(existsSync(path.join(first, 'fleet.yaml'))).toBe(true);
    expect(readdirSync(dest)).toEqual([sha]);
  });

  it('leaves symbolic links out and keeps the executable bit', async () => {
    const { repo, dir, git } = desiredStateRepo();
    symlinkSync('/etc/passwd', path.join(dir, 'users', 'E9999.yaml'));
    writeFileSync(path.join(dir, 'hook.sh'), '#!/bin/sh\n', { mode: 0o755 });
    git('add', '-A');
    git('commit', '-q', '-m', 'Link and script');
    const exported = await (await openLocal(repo)).exportTree('HEAD', tempDir());
    expect(existsSync(path.join(exported, 'users', 'E9999.yaml'))).toBe(false);
    expect(execFileSync('stat', ['-c', '%a', path.join(exported, 'hook.sh')], { encoding: 'utf8' }).trim()).toBe('755');
  });

  it('refuses a commit without the desired-state folder', async () => {
    const { repo, git } = desiredStateRepo();
    const opened = await openLocal(repo, { path: 'elsewhere' });
    const sha = git('rev-parse', 'HEAD').trim();
    await expect(opened.exportTree(sha, tempDir())).rejects.toMatchObject({
      code: 'invalid-input',
      message: `elsewhere does not exist in commit ${sha} of ${repo}: check --path, the desired-state folder inside the repository`,
    });
  });
});

describe('uncommittedChanges', () => {
  it('lists edited and untracked files under the path only', async () => {
    const { repo, dir } = desiredStateRepo();
    const opened = await openLocal(repo);
    expect(await opened.uncommittedChanges()).toEqual([]);
    writeFileSync(path.join(dir, 'fleet.yaml'), '# edited\n', { flag: 'a' });
    writeFileSync(path.join(dir, 'users', 'E2000.yaml'), 'empId: E2000\n');
    writeFileSync(path.join(repo, 'README.md'), 'outside\n');
    expect(await opened.uncommittedChanges()).toEqual(['desired-state/fleet.yaml', 'desired-state/users/E2000.yaml']);
  });
});

describe('commitFile (local work tree)', () => {
  it('commits only that file, as Rollcall, with trailers, and leaves other work alone', async () => {
    const { repo, dir, git } = desiredStateRepo();
    writeFileSync(path.join(dir, 'fleet.yaml'), '# staged by someone\n', { flag: 'a' });
    git('add', 'desired-state/fleet.yaml');
    writeFileSync(path.join(repo, 'README.md'), 'unstaged\n');
    const opened = await openLocal(repo);
    const sha = await opened.commitFile('desired-state/users/E2000.yaml', 'empId: E2000\n', {
      message: 'Add E2000',
      trailers: [
        ['Approval', 'PROC-9'],
        ['Approved-by', 'E1002'],
      ],
    });
    expect(sha).toBe(git('rev-parse', 'HEAD').trim());
    expect(git('show', '--name-only', '--format=', sha).trim()).toBe('desired-state/users/E2000.yaml');
    expect(git('log', '-1', '--format=%an <%ae>|%cn <%ce>|%B', sha)).toBe('Rollcall <rollcall@localhost>|Rollcall <rollcall@localhost>|Add E2000\n\nApproval: PROC-9\nApproved-by: E1002\n\n');
    expect(git('diff', '--cached', '--name-only').trim()).toBe('desired-state/fleet.yaml');
    expect(git('status', '--porcelain', '--', 'README.md').trim()).toBe('?? README.md');
    expect((await opened.revision(sha)).trailers).toEqual({ Approval: ['PROC-9'], 'Approved-by': ['E1002'] });
    expect(await opened.uncommittedChanges()).toEqual(['desired-state/fleet.yaml']);
  });

  it('names the author given and the committer from GIT_COMMITTER_*; commits nothing when the file already holds the content', async () => {
    const { repo, git } = desiredStateRepo();
    const opened = await openLocal(repo, { env: { ...process.env, GIT_COMMITTER_NAME: 'Bot', GIT_COMMITTER_EMAIL: 'bot@example.com' } });
    const sha = await opened.commitFile('desired-state/users/E2000.yaml', 'empId: E2000\n', { message: 'Add E2000', author: { name: 'Li Lei', email: 'lilei@example.com' } });
    expect(git('log', '-1', '--format=%an <%ae>|%cn <%ce>', sha).trim()).toBe('Li Lei <lilei@example.com>|Bot <bot@example.com>');
    expect(await opened.commitFile('desired-state/users/E2000.yaml', 'empId: E2000\n', { message: 'Again' })).toBe(sha);
    expect(git('rev-parse', 'HEAD').trim()).toBe(sha);
  });

  it('refuses a file with uncommitted edits, HEAD on another branch, and paths outside the repository', async () => {
    const { repo, dir, git } = desiredStateRepo();
    const opened = await openLocal(repo);
    writeFileSync(path.join(dir, 'users', 'E1001.yaml'), '# edited\n', { flag: 'a' });
    await expect(opened.commitFile('desired-state/users/E1001.yaml', 'empId: E1001\n', { message: 'Lock' })).rejects.toMatchObject({
      code: 'invalid-input',
      message: `desired-state/users/E1001.yaml has uncommitted changes in ${repo}: commit or stash them, then try again`,
    });
    git('switch', '-q', '-c', 'elsewhere');
    await expect(opened.commitFile('desired-state/users/E2000.yaml', 'x\n', { message: 'Add' })).rejects.toMatchObject({
      code: 'invalid-input',
      message: `HEAD of ${repo} is on elsewhere, not on the tracked branch main: check out main (git switch main), then try again`,
    });
    await expect(opened.commitFile('../outside.yaml', 'x\n', { message: 'Add' })).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(opened.commitFile('desired-state/a.yaml', 'x\n', { message: 'Add', trailers: [['Bad key', 'x']] })).rejects.toMatchObject({ code: 'invalid-input' });
  });
});

describe('a local bare repository', () => {
  it('is read like a work tree, has no uncommitted changes, and commitFile moves the branch', async () => {
    const { bare, git } = remoteRepo();
    const opened = await openLocal(bare);
    expect({ kind: opened.kind, root: opened.root, branch: opened.branch }).toEqual({ kind: 'local', root: bare, branch: 'main' });
    expect(await opened.uncommittedChanges()).toEqual([]);
    expect(await opened.fetch()).toBe(false);
    const sha = await opened.commitFile('desired-state/users/E2000.yaml', 'empId: E2000\n', { message: 'Add E2000' });
    expect((await opened.head()).sha).toBe(sha);
    expect((await opened.revision(sha)).author).toBe('Rollcall <rollcall@localhost>');
    git('pull', '-q', 'origin', 'main');
    expect(git('log', '-1', '--format=%H').trim()).toBe(sha);
  });
});

describe('DesiredRepository (remote)', () => {
  it('clones the default branch, fetches what others push, and reuses the clone', async () => {
    const { url, work, git } = remoteRepo();
    const workDir = path.join(tempDir(), 'state', 'repo');
    const opened = await DesiredRepository.open({ repo: url, workDir });
    expect({ kind: opened.kind, root: opened.root, branch: opened.branch }).toEqual({ kind: 'remote', root: workDir, branch: 'main' });
    expect((await opened.head()).sha).toBe(git('rev-parse', 'HEAD').trim());
    expect(await opened.uncommittedChanges()).toEqual([]);
    expect(await opened.fetch()).toBe(false);

    const pushed = commitFileIn(work, 'desired-state/users/E2000.yaml', 'empId: E2000\n', 'Add E2000');
    git('notes', '--ref=rollcall', 'add', '-m', 'applied', pushed);
    git('push', '-q', 'origin', 'main', 'refs/notes/rollcall');
    expect(await opened.fetch()).toBe(true);
    expect((await opened.head()).sha).toBe(pushed);
    expect(gitIn(workDir)('notes', '--ref=rollcall', 'show', pushed)).toBe('applied\n');
    expect(await opened.fetch()).toBe(false);

    const again = await DesiredRepository.open({ repo: url, workDir });
    expect((await again.head()).sha).toBe(pushed);
    await expect(DesiredRepository.open({ repo: `${url}-other`, workDir })).rejects.toMatchObject({
      code: 'invalid-input',
      message: `${workDir} is a clone of ${url}, not of ${url}-other: remove it, or give rollcall another state directory`,
    });
  });

  it('says what is wrong when the URL cannot be read or the branch is missing, and leaves no clone behind', async () => {
    const { url } = remoteRepo();
    const parent = tempDir();
    await expect(DesiredRepository.open({ repo: 'file:///nonexistent/desired.git', workDir: path.join(parent, 'a') })).rejects.toMatchObject({
      code: 'git',
      message: expect.stringMatching(/^could not read file:\/\/\/nonexistent\/desired.git: .*; check the URL and the credentials/),
    });
    await expect(DesiredRepository.open({ repo: url, branch: 'prod', workDir: path.join(parent, 'b') })).rejects.toMatchObject({
      code: 'invalid-input',
      message: `branch prod does not exist in ${url}: push it, or pass --branch with an existing branch`,
    });
    expect(readdirSync(parent)).toEqual([]);
    await expect(DesiredRepository.open({ repo: 'https://user:token@git.example.com/desired.git', workDir: path.join(parent, 'c') })).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringMatching(/carries credentials: remove them from the URL and set ROLLCALL_GIT_USERNAME and ROLLCALL_GIT_TOKEN/),
    });
    await expect(DesiredRepository.open({ repo: url, workDir: path.join(parent, 'd'), env: { ROLLCALL_GIT_TOKEN: 'x' } })).rejects.toMatchObject({ code: 'invalid-input' });
  });

  it('gives https credentials to git through askpass, not the URL, and never repeats the token', async () => {
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers.authorization ?? '');
      response.writeHead(request.headers.authorization ? 403 : 401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/desired.git`;
      const workDir = path.join(tempDir(), 'repo');
      const env = { ...process.env, ROLLCALL_GIT_USERNAME: 'deploy', ROLLCALL_GIT_TOKEN: 's3cret-token' };
      const error = await DesiredRepository.open({ repo: url, workDir, env }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'git' });
      expect(String((error as Error).message)).not.toContain('s3cret-token');
      expect(seen).toContain(`Basic ${Buffer.from('deploy:s3cret-token').toString('base64')}`);
      expect(existsSync(workDir)).toBe(false);
    } finally {
      server.close();
    }
  });

  it('commitFile commits in the clone and pushes', async () => {
    const { url, bare } = remoteRepo();
    const opened = await DesiredRepository.open({ repo: url, workDir: path.join(tempDir(), 'repo') });
    const sha = await opened.commitFile('desired-state/users/E2000.yaml', 'empId: E2000\n', { message: 'Add E2000', trailers: [['Approval', 'PROC-1']] });
    const remote = gitIn(bare);
    expect(remote('rev-parse', 'main').trim()).toBe(sha);
    expect((await opened.head()).sha).toBe(sha);
    expect(remote('show', `${sha}:desired-state/users/E2000.yaml`)).toBe('empId: E2000\n');
    expect(remote('log', '-1', '--format=%an <%ae>|%B', sha)).toBe('Rollcall <rollcall@localhost>|Add E2000\n\nApproval: PROC-1\n\n');
  });

  it('commitFile, after someone else pushed first, fetches, rebases and pushes again', async () => {
    const { url, bare, work, git } = remoteRepo();
    const opened = await DesiredRepository.open({ repo: url, workDir: path.join(tempDir(), 'repo') });
    const theirs = commitFileIn(work, 'desired-state/users/E2001.yaml', 'empId: E2001\n', 'Add E2001');
    git('push', '-q', 'origin', 'main');
    const ours = await opened.commitFile('desired-state/users/E2002.yaml', 'empId: E2002\n', { message: 'Add E2002' });
    const remote = gitIn(bare);
    expect(remote('rev-parse', 'main').trim()).toBe(ours);
    expect(remote('rev-parse', `${ours}^`).trim()).toBe(theirs);
    expect(remote('show', '--name-only', '--format=', ours).trim()).toBe('desired-state/users/E2002.yaml');
    expect((await opened.head()).sha).toBe(ours);
  });

  it('commitFile refuses to rebase over someone else changing the same file', async () => {
    const { url, work, git } = remoteRepo();
    const opened = await DesiredRepository.open({ repo: url, workDir: path.join(tempDir(), 'repo') });
    commitFileIn(work, 'desired-state/users/E1001.yaml', 'empId: E1001\n# theirs\n', 'Their edit');
    git('push', '-q', 'origin', 'main');
    await expect(opened.commitFile('desired-state/users/E1001.yaml', 'empId: E1001\n# ours\n', { message: 'Our edit' })).rejects.toMatchObject({
      code: 'git',
      message: expect.stringMatching(/^desired-state\/users\/E1001.yaml was changed on main of .* while rollcall was committing it: read it again and retry$/),
    });
  });
});

describe('isAncestor', () => {
  it('follows history', async () => {
    const { repo, git } = desiredStateRepo();
    const first = git('rev-parse', 'HEAD').trim();
    const second = commitFileIn(repo, 'desired-state/fleet.yaml', '# next\n', 'Next');
    const opened = await openLocal(repo);
    expect(await opened.isAncestor(first, second)).toBe(true);
    expect(await opened.isAncestor(second, first)).toBe(false);
    expect(await opened.isAncestor(second, second)).toBe(true);
    await expect(opened.isAncestor('nosuch', second)).rejects.toMatchObject({ code: 'invalid-input', message: `nosuch is not a commit in ${repo}: check the revision` });
  });
});


