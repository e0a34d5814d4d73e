import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '../../src/config/logger.js';

/** A debug logger whose lines are kept, to assert on what a connection logged. */
export function logLines() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ ROLLCALL_LOG_LEVEL: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

/** How a script outside the package imports `src/<file>` (a quoted absolute path). */
export function srcModule(file: string): string {
  return JSON.stringify(join(resolve('src'), file));
}

/**
 * Runs `source` (TypeScript, ESM with top-level await) in a Node process of its own, through tsx,
 * and answers its exit code and stdout once it exits by itself; killed after 15 s (code null).
 * For proving that a connection leaves no handle that keeps a process alive.
 */
export async function runScript(source: string): Promise<{ code: number | null; stdout: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-script-'));
  try {
    const script = join(dir, 'run.mts'); // .mts: ESM (top-level await) outside the package
    await writeFile(script, source);
    return await new Promise<{ code: number | null; stdout: string }>((done) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        done({ code: exitCode, stdout: out });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
