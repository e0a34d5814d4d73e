import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A real git repository holding a copy of desired-state/, committed once. */
export function desiredStateRepo(): { repo: string; dir: string; git: (...args: string[]) => string } {
  const repo = mkdtempSync(path.join(tmpdir(), 'rollcall-repo-'));
  const dir = path.join(repo, 'desired-state');
  cpSync(path.resolve('desired-state'), dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' },
    });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'Initial desired state');
  return { repo, dir, git };
}
