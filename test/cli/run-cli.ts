import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { createLogger } from '../../src/config/logger.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `rollcall <argv>` in-process with captured output. */
export async function runCli(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const env = options.env ?? {};
  const stderrStream = sink((text) => (stderr += text));
  const code = await main(argv, {
    stdout: sink((text) => (stdout += text)),
    stderr: stderrStream,
    env,
    cwd: options.cwd ?? process.cwd(),
    log: createLogger(env, { write: (line: string) => (stderr += line) }),
  });
  return { code, stdout, stderr };
}
