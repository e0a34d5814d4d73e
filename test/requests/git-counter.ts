import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A `git` on PATH that logs each command's name before running the real git: the processes
 * rollcall spawns, counted from outside (runGit finds git through the PATH of the env it is given).
 */
export function countingGit(base: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; commands: () => string[]; reset: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'rollcall-git-count-'));
  const log = path.join(dir, 'commands.log');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(path.join(dir, 'git'), `#!/bin/sh\nprintf '%s\\n' "$1" >> "$ROLLCALL_TEST_GIT_LOG"\nexec ${real} "$@"\n`, { mode: 0o755 });
  writeFileSync(log, '');
  return {
    env: { ...base, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}`, ROLLCALL_TEST_GIT_LOG: log },
    commands: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    reset: () => writeFileSync(log, ''),
  };
}
