import { createHmac } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDocument } from 'yaml';
import { RollcallError } from '../../config/errors.js';
import { BREAK_GLASS_TRAILER } from '../../reconcile/break-glass.js';
import { withStateAbsent } from '../../requests/apply-request.js';
import type { ResultRecord } from '../../source/result-notes.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { isUrl } from './serve.js';
import { daemonUrl } from './status.js';

export interface LockOptions {
  who: string;
  reason: string;
  now: boolean;
  repo: string;
  path: string;
  stateDir: string;
  url?: string;
  /** How long to wait for the daemon to apply it; 0: do not wait. */
  waitMs: number;
}

/**
 * `rollcall lock --now <empId|login> --reason "…"`: the break-glass. Commits `state: absent` to the
 * user's file with the reason and who ran it, wakes the running daemon, which applies that lock
 * before anything else, and waits until the note on the commit says where it was applied: the time
 * from this command to the last instance locked is printed.
 */
export async function lockCommand(options: LockOptions, io: CliIo): Promise<number> {
  const started = Date.now();
  if (!options.now) throw new RollcallError('invalid-input', 'rollcall lock only has the break-glass form: rollcall lock --now <empId|login> --reason "…"');
  if (options.reason.trim() === '') throw new RollcallError('invalid-input', '--reason is required: say why the account is locked (it goes into the commit)');
  const [{ DesiredRepository }, { ResultNotes }] = await Promise.all([import('../../source/desired-repository.js'), import('../../source/result-notes.js')]);
  const repository = await DesiredRepository.open({
    repo: isUrl(options.repo) ? options.repo : path.resolve(io.cwd, options.repo),
    path: options.path,
    workDir: path.resolve(io.cwd, options.stateDir, 'repo'),
    env: io.env,
  });
  const head = await repository.head();
  const tree = await repository.exportTree(head.sha, path.join(tmpdir(), 'rollcall-lock'));
  const user = await findUser(tree, options.who, repository.path);
  const document = parseDocument(user.text);
  if (document.get('state') === 'absent') {
    io.stdout.write(`${user.empId} (${user.login}) is already state: absent at ${head.sha.slice(0, 12)}; nothing to commit\n`);
    return EXIT.ok;
  }
  const actor = io.env.ROLLCALL_ACTOR || `${userInfo().username}@${hostname()}`;
  const sha = await repository.commitFile(`${repository.path}/users/${user.file}`, withStateAbsent(user.text), {
    message: `Lock ${user.empId} (${user.login}) now\n\n${options.reason.trim()}`,
    trailers: [
      ['Request', 'lock'],
      ['Requested-by', actor],
      ['Reason', options.reason.trim().replace(/\s+/g, ' ')],
      [BREAK_GLASS_TRAILER, user.login],
    ],
  });
  io.stdout.write(`committed ${sha.slice(0, 12)}: ${user.login} (${user.empId}) state: absent\n`);
  if (options.waitMs === 0) return EXIT.ok;

  const url = await daemonUrl(options, io).catch(() => undefined);
  if (!url) {
    io.stdout.write('no running rollcall serve found (pass --url or --state-dir): the lock is applied when the daemon next reads the repository\n');
    return EXIT.ok;
  }
  await wakeDaemon(url, io.env.ROLLCALL_GIT_HOOK_SECRET, repository.branch);
  const notes = new ResultNotes(repository.root);
  const deadline = started + options.waitMs;
  let record: ResultRecord | undefined;
  while (!record && Date.now() < deadline) {
    await sleep(100);
    if (repository.kind === 'remote') await repository.fetch().catch(() => false);
    record = (await notes.read(sha)).find((entry) => entry.trigger === 'break-glass');
  }
  if (!record) {
    io.stderr.write(`rollcall lock: the daemon at ${url} has not applied ${sha.slice(0, 12)} within ${Math.round(options.waitMs / 1000)} s: see rollcall status\n`);
    return EXIT.failed;
  }
  const elapsed = (Date.parse(record.at) - started) / 1000;
  const entries = Object.entries(record.instances).filter(([, instance]) => instance.changes.length > 0 || instance.status === 'failed');
  const failed = entries.filter(([, instance]) => instance.status !== 'applied');
  for (const [id, instance] of entries) io.stdout.write(`  ${id}  ${instance.status}${instance.error ? `: ${instance.error}` : ''}\n`);
  if (entries.length === 0) io.stdout.write(`${user.login} has no account on any instance: nothing to lock (${elapsed.toFixed(2)} s)\n`);
  else io.stdout.write(`locked ${user.login} on ${entries.length - failed.length} of ${entries.length} instance(s) in ${elapsed.toFixed(2)} s, from this command to the last instance locked\n`);
  return failed.length > 0 ? EXIT.failed : EXIT.ok;
}

/** The user's file by empId (its name) or by login (its `login:`), at the tracked branch's tip. */
async function findUser(tree: string, who: string, folder: string): Promise<{ file: string; empId: string; login: string; text: string }> {
  const dir = path.join(tree, 'users');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((name) => /\.ya?ml$/.test(name)).sort();
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    const document = parseDocument(text);
    const empId = String(document.get('empId') ?? file.replace(/\.ya?ml$/, ''));
    const login = String(document.get('login') ?? '');
    if (empId === who || login === who) return { file, empId, login, text };
  }
  throw new RollcallError('invalid-input', `no user with empId or login "${who}" in ${folder}/users at the tracked branch's tip`);
}

/** Tells the daemon the branch moved, signed like GitHub's hook when a hook secret is set. */
async function wakeDaemon(url: string, secret: string | undefined, branch: string): Promise<void> {
  const body = JSON.stringify({ ref: `refs/heads/${branch}` });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': 'push' };
  if (secret) headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  await fetch(new URL('/hooks/git', url), { method: 'POST', headers, body, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
}
