import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { desiredStateRepo } from '../cli/git-fixture.js';

/** Runs git in `cwd` as a test user, the way a person at a terminal would. */
export type GitRunner = (...args: string[]) => string;

export const TEST_IDENTITY = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' };

export function gitIn(cwd: string): GitRunner {
  return (...args) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...TEST_IDENTITY } });
}

export function tempDir(prefix = 'rollcall-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Writes `content` to `file` under `repo` and commits it (and only it). */
export function commitFileIn(repo: string, file: string, content: string, message: string): string {
  const git = gitIn(repo);
  const full = path.join(repo, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
  git('add', '--', file);
  git('commit', '-q', '-m', message, '--', file);
  return git('rev-parse', 'HEAD').trim();
}

/** A bare repository holding the desired state (branch main), and a work tree that pushes to it. */
export function remoteRepo(): { bare: string; url: string; work: string; git: GitRunner } {
  const { repo: work, git } = desiredStateRepo();
  const bare = path.join(tempDir('rollcall-remote-'), 'desired.git');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  git('remote', 'add', 'origin', bare);
  git('push', '-q', 'origin', 'main');
  return { bare, url: `file://${bare}`, work, git };
}
