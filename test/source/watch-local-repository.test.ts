import { execFile } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DesiredRepository } from '../../src/source/desired-repository.js';
import { watchLocalRepository, type RepositoryWatcher } from '../../src/source/watch-local-repository.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { TEST_IDENTITY } from './repo-fixture.js';

const execFileAsync = promisify(execFile);

/** git in a child process, the way a person or a script commits while rollcall watches. */
async function gitChild(cwd: string, ...args: string[]): Promise<string> {
  return (await execFileAsync('git', args, { cwd, env: { ...process.env, ...TEST_IDENTITY } })).stdout;
}

async function waitFor(condition: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const open: RepositoryWatcher[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((watcher) => watcher.close()));
});

async function watched(options: { edits?: boolean } = {}) {
  const { repo, dir } = desiredStateRepo();
  const repository = await DesiredRepository.open({ repo, workDir: '/nonexistent' });
  const commits: number[] = [];
  const edits: string[][] = [];
  const watcher = await watchLocalRepository(
    repository,
    { onCommit: () => commits.push(Date.now()), ...(options.edits ? { onUncommittedEdits: (paths: string[]) => edits.push(paths) } : {}) },
    { debounceMs: 50, editsDebounceMs: 100 },
  );
  open.push(watcher);
  return { repo, dir, repository, watcher, commits, edits };
}

describe('watchLocalRepository', () => {
  it('fires within a second of a git commit in another process', async () => {
    const { repo, dir, commits } = await watched();
    writeFileSync(path.join(dir, 'users', 'E2000.yaml'), 'empId: E2000\n');
    await gitChild(repo, 'add', '-A');
    const committedAt = Date.now();
    await gitChild(repo, 'commit', '-q', '-m', 'Add E2000');
    await waitFor(() => commits.length === 1);
    expect((commits[0] ?? Infinity) - committedAt).toBeLessThan(1000);
  });

  it('fires for an amend and a reset, and not for a checkout of another branch', async () => {
    const { repo, commits } = await watched();
    await gitChild(repo, 'commit', '-q', '--allow-empty', '-m', 'One');
    await waitFor(() => commits.length === 1);
    await gitChild(repo, 'commit', '-q', '--amend', '--allow-empty', '-m', 'One, amended');
    await waitFor(() => commits.length === 2);
    await gitChild(repo, 'reset', '-q', '--hard', 'HEAD~1');
    await waitFor(() => commits.length === 3);
    await gitChild(repo, 'switch', '-q', '-c', 'elsewhere');
    await sleep(200);
    expect(commits).toHaveLength(3);
  });

  it('fires after git pack-refs --all, for a commit and for a tip that moved in packed-refs alone', async () => {
    const { repo, commits, repository } = await watched();
    await gitChild(repo, 'pack-refs', '--all');
    await gitChild(repo, 'commit', '-q', '--allow-empty', '-m', 'After packing');
    await waitFor(() => commits.length === 1);

    await gitChild(repo, 'pack-refs', '--all');
    // Let the watcher see the loose ref go (chokidar holds an unlink back 100 ms, in case it is re-added).
    await sleep(400);
    const old = (await repository.head()).sha;
    const next = (await gitChild(repo, 'commit-tree', `${old}^{tree}`, '-p', old, '-m', 'Moved in packed-refs')).trim();
    // What a gc or a fetch does: the branch lives only in packed-refs, rewritten by rename.
    const packed = path.join(repo, '.git', 'packed-refs');
    writeFileSync(`${packed}.lock`, readFileSync(packed, 'utf8').replace(old, next));
    renameSync(`${packed}.lock`, packed);
    await waitFor(() => commits.length === 2);
    expect((await repository.head()).sha).toBe(next);
  });

  it('reports uncommitted edits under the path, and when they are gone', async () => {
    const { dir, edits } = await watched({ edits: true });
    const file = path.join(dir, 'users', 'E2000.yaml');
    writeFileSync(file, 'empId: E2000\n');
    await waitFor(() => edits.length === 1);
    expect(edits[0]).toEqual(['desired-state/users/E2000.yaml']);
    rmSync(file);
    await waitFor(() => edits.length === 2);
    expect(edits[1]).toEqual([]);
  });

  it('reports edits that are already there when it starts', async () => {
    const { repo, dir } = desiredStateRepo();
    writeFileSync(path.join(dir, 'fleet.yaml'), '# edited\n', { flag: 'a' });
    const edits: string[][] = [];
    open.push(await watchLocalRepository(await DesiredRepository.open({ repo, workDir: '/nonexistent' }), { onCommit: () => undefined, onUncommittedEdits: (paths) => edits.push(paths) }));
    expect(edits).toEqual([['desired-state/fleet.yaml']]);
  });

  it('calls nothing after close', async () => {
    const { repo, dir, watcher, commits, edits } = await watched({ edits: true });
    await watcher.close();
    writeFileSync(path.join(dir, 'users', 'E2000.yaml'), 'empId: E2000\n');
    await gitChild(repo, 'commit', '-q', '--allow-empty', '-m', 'Unseen');
    await sleep(300);
    expect(commits).toEqual([]);
    expect(edits).toEqual([]);
  });
});
