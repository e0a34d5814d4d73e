import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The environment of rollcall's git in the approval tests: a fixed committer. */
export const env = { ...process.env, GIT_COMMITTER_NAME: 'Rollcall', GIT_COMMITTER_EMAIL: 'rollcall@example.com' };

/** Another writer: a commit of `file` on main made from objects, as a second rollcall process would. */
export function plumbingCommit(repo: string, file: string, content: string, message = `Other writer: ${file}`): string {
  const run = (args: string[], input?: string, extra: Record<string, string> = {}) =>
    execFileSync('git', args, { cwd: repo, encoding: 'utf8', input, env: { ...env, GIT_AUTHOR_NAME: 'Other', GIT_AUTHOR_EMAIL: 'other@example.com', ...extra } }).trim();
  const tip = run(['rev-parse', 'main']);
  const index = { GIT_INDEX_FILE: path.join(repo, '.git', 'other-index') };
  run(['read-tree', tip], undefined, index);
  const blob = run(['hash-object', '-w', '--stdin'], content);
  run(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`], undefined, index);
  const tree = run(['write-tree'], undefined, index);
  const sha = run(['commit-tree', tree, '-p', tip, '-F', '-'], message);
  run(['update-ref', 'refs/heads/main', sha, tip]);
  return sha;
}
