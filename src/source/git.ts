import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleGit, type SimpleGit, type SimpleGitOptions } from 'simple-git';
import { RollcallError } from '../config/errors.js';

/** How a git client runs its processes. */
export interface GitOptions {
  /**
   * The environment git processes start from, and where the credentials come from
   * (`ROLLCALL_GIT_SSH_KEY`, `ROLLCALL_GIT_USERNAME` + `ROLLCALL_GIT_TOKEN`). Default `process.env`.
   */
  env?: NodeJS.ProcessEnv;
  /** Further variables for these processes only, e.g. `GIT_COMMITTER_NAME` or `GIT_INDEX_FILE`. */
  set?: Readonly<Record<string, string>>;
  /** Bytes written to git's stdin. */
  input?: string | Buffer;
  /** Kill git when it has printed nothing for this long (calls over the network). */
  timeoutMs?: number;
}

/**
 * The only place rollcall makes a simple-git client: every git call goes through here.
 *
 * Every process runs with `GIT_OPTIONAL_LOCKS=0` (like `--no-optional-locks`): people and scripts
 * commit into a repository rollcall reads, and a plain `git status` would otherwise refresh and
 * rewrite their index under them. See {@link gitEnvironment} for the rest of the environment.
 */
export function createGit(dir: string, options: GitOptions = {}): SimpleGit {
  const { settings, env } = clientSettings(dir, options);
  return simpleGit(settings).env(env);
}

/** What one git process printed, and how it ended. */
export interface GitResult {
  exitCode: number;
  /** stdout as bytes (blobs, archives)… */
  stdout: Buffer;
  /** …and as text. */
  text: string;
  stderr: string;
}

/**
 * Runs one git command and returns its output as bytes and text. Resolves when git exits with one
 * of `okExitCodes` (default 0); otherwise throws RollcallError('git') with git's own message, which
 * callers that know what the user should fix catch and restate.
 *
 * simple-git waits 50 ms after a process that printed nothing (in case output is late), so calls
 * on hot paths prefer flags that make git say something (`--verbose`, no `--quiet`).
 */
export async function runGit(
  dir: string,
  args: readonly string[],
  options: GitOptions & { okExitCodes?: readonly number[] } = {},
): Promise<GitResult> {
  let outcome: { exitCode: number; stdOut: Buffer[]; stdErr: Buffer[] } | undefined;
  const { settings, env } = clientSettings(dir, options);
  // simple-git shows every result, failed or not, to the `errors` hook: keep it and judge the exit
  // code here, where a non-zero one can be an answer (`merge-base --is-ancestor`).
  const client = simpleGit({
    ...settings,
    errors: (_error, result) => {
      outcome = result;
      return undefined;
    },
  }).env(env);
  let failure: unknown;
  try {
    await client.raw([...args]);
  } catch (error) {
    failure = error;
  }
  const stderr = outcome ? Buffer.concat(outcome.stdErr).toString('utf8') : '';
  if (outcome === undefined || failure !== undefined || !(options.okExitCodes ?? [0]).includes(outcome.exitCode)) {
    const why = stderr.trim() || (failure instanceof Error ? failure.message : `exit code ${String(outcome?.exitCode)}`);
    throw new RollcallError('git', `git ${args[0] ?? ''} failed in ${dir}: ${why}`, { cause: failure });
  }
  const stdout = Buffer.concat(outcome.stdOut);
  return { exitCode: outcome.exitCode, stdout, text: stdout.toString('utf8'), stderr };
}

/** The environment of rollcall's git processes, and which of rollcall's own risky settings it holds. */
export interface GitEnvironment {
  env: Record<string, string>;
  /** GIT_SSH_COMMAND is set (from ROLLCALL_GIT_SSH_KEY). */
  sshCommand: boolean;
  /** GIT_ASKPASS is set (from ROLLCALL_GIT_USERNAME + ROLLCALL_GIT_TOKEN). */
  askPass: boolean;
}

/**
 * The environment of a git process: `env` without any GIT_* (or editor, pager) variable of its
 * own, so a GIT_DIR or GIT_INDEX_FILE inherited from a hook cannot point rollcall elsewhere; then
 * - `GIT_OPTIONAL_LOCKS=0`, `GIT_TERMINAL_PROMPT=0` (a daemon has no terminal to prompt on) and
 *   `LC_ALL=C` (English messages, which rollcall matches);
 * - `ROLLCALL_GIT_SSH_KEY` → `GIT_SSH_COMMAND` with that key only, accepting a host's key the first
 *   time and never asking for a password;
 * - `ROLLCALL_GIT_USERNAME` + `ROLLCALL_GIT_TOKEN` → `GIT_ASKPASS`, a script that reads them from
 *   its environment: the token is never written into a URL, a config file, a script or a log line;
 * - then `set`.
 */
export function gitEnvironment(env: NodeJS.ProcessEnv, set: Readonly<Record<string, string>> = {}): GitEnvironment {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !isGuardedName(name)) result[name] = value;
  }
  result.GIT_OPTIONAL_LOCKS = '0';
  result.GIT_TERMINAL_PROMPT = '0';
  result.LC_ALL = 'C';
  const sshKey = env.ROLLCALL_GIT_SSH_KEY;
  if (sshKey) {
    result.GIT_SSH_COMMAND = `ssh -i ${shellQuote(path.resolve(sshKey))} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o BatchMode=yes`;
  }
  const askPass = Boolean(env.ROLLCALL_GIT_USERNAME && env.ROLLCALL_GIT_TOKEN);
  if (askPass) result.GIT_ASKPASS = askPassScript();
  Object.assign(result, set);
  return { env: result, sshCommand: Boolean(sshKey), askPass };
}

function clientSettings(dir: string, options: GitOptions): { settings: Partial<SimpleGitOptions>; env: Record<string, string> } {
  const environment = gitEnvironment(options.env ?? process.env, options.set);
  const input = options.input;
  return {
    env: environment.env,
    settings: {
      baseDir: dir,
      maxConcurrentProcesses: 4,
      trimmed: false,
      // simple-git refuses GIT_* variables it is not told about; these are the ones set above.
      allowEnvironment: Object.keys(environment.env).filter(isGuardedName),
      // Only ever rollcall's own values: the ssh command built above and its askpass script.
      unsafe: { allowUnsafeSshCommand: environment.sshCommand, allowUnsafeAskPass: environment.askPass },
      ...(input !== undefined ? { input: () => input } : {}),
      ...(options.timeoutMs !== undefined ? { timeout: { block: options.timeoutMs } } : {}),
    },
  };
}

/** The variables simple-git guards: every GIT_* one, and the few others that name a program to run. */
function isGuardedName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('git_') || ['editor', 'visual', 'pager', 'prefix', 'ssh_askpass'].includes(lower);
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

let askPassPath: string | undefined;

/**
 * git runs GIT_ASKPASS as a program, so it has to be a file; it holds no secret, only reads the
 * username and token from the environment git passes down.
 */
function askPassScript(): string {
  if (askPassPath) return askPassPath;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'rollcall-askpass-')), 'askpass.sh');
  const script = [
    '#!/bin/sh',
    '# rollcall: answers git credential prompts from ROLLCALL_GIT_USERNAME and ROLLCALL_GIT_TOKEN.',
    'case "$1" in',
    `  Username*) printf '%s\\n' "$ROLLCALL_GIT_USERNAME" ;;`,
    `  *) printf '%s\\n' "$ROLLCALL_GIT_TOKEN" ;;`,
    'esac',
    '',
  ].join('\n');
  writeFileSync(file, script, { mode: 0o700 });
  askPassPath = file;
  return file;
}

/** The commit a desired-state folder comes from, when it is committed and unchanged. */
export interface CommittedRevision {
  /** The full sha of HEAD. */
  sha: string;
  /** `Rollcall-Allow-Deletions: N` of that commit, if it has one. */
  allowDeletions?: number;
  /** The commit's committer time, in seconds since 1970: a later commit has a later one. */
  committedAt: number;
}

const ALLOW_DELETIONS = 'Rollcall-Allow-Deletions';

/**
 * The commit `dir` is at, when it is inside a git work tree and nothing under it differs from HEAD
 * (no edits, no untracked files); undefined otherwise, and then callers name the revision by a hash
 * of the files instead. A folder outside any git repository is not an error.
 */
export async function describeCommittedRevision(dir: string): Promise<CommittedRevision | undefined> {
  const git = createGit(dir);
  try {
    if (!(await git.checkIsRepo())) return undefined;
    const status = await git.raw(['status', '--porcelain', '--untracked-files=all', '--', '.']);
    if (status.trim() !== '') return undefined;
    // One git call for the sha, the commit time and the trailer (one per line).
    const [sha = '', time = '', trailer = ''] = (await git.raw(['log', '-1', `--format=%H%n%ct%n%(trailers:key=${ALLOW_DELETIONS},valueonly,separator=%x2C)`, 'HEAD'])).split('\n');
    const committedAt = Number(time);
    const allowDeletions = parseAllowDeletions(trailer.split(','));
    return { sha, committedAt, ...(allowDeletions !== undefined ? { allowDeletions } : {}) };
  } catch (error) {
    if (/does not have any commits|unknown revision|ambiguous argument 'HEAD'/.test(String(error))) return undefined;
    throw new RollcallError('git', `could not read the git revision of ${path.resolve(dir)}`, { cause: error });
  }
}

/** The largest of a commit's `Rollcall-Allow-Deletions` values that are numbers. */
export function parseAllowDeletions(values: readonly string[]): number | undefined {
  const numbers = values
    .map((value) => value.trim())
    .filter((value) => /^\d+$/.test(value))
    .map(Number);
  return numbers.length > 0 ? Math.max(...numbers) : undefined;
}

/**
 * The contents of these blobs, in order, from one `git cat-file --batch` process (one process for
 * a thousand user files, not a thousand). A missing object comes back as undefined.
 */
export async function readBlobs(dir: string, oids: readonly string[], options: GitOptions = {}): Promise<(string | undefined)[]> {
  if (oids.length === 0) return [];
  const output = (await runGit(dir, ['cat-file', '--batch'], { ...options, input: `${oids.join('\n')}\n` })).stdout;
  const contents: (string | undefined)[] = [];
  let offset = 0;
  while (offset < output.length && contents.length < oids.length) {
    const newline = output.indexOf(0x0a, offset);
    if (newline < 0) break;
    const header = output.subarray(offset, newline).toString('utf8').split(' ');
    if (header[1] === 'missing') {
      contents.push(undefined);
      offset = newline + 1;
      continue;
    }
    const size = Number(header[2]);
    const start = newline + 1;
    contents.push(output.subarray(start, start + size).toString('utf8'));
    // Each object's content ends with one newline of its own.
    offset = start + size + 1;
  }
  return contents;
}
