import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EcsEmulator } from '../../src/emulators/ecs/ecs-emulator.js';
import type { Daemon } from '../../src/reconcile/daemon.js';
import { ResultNotes } from '../../src/source/result-notes.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { runCli } from '../cli/run-cli.js';
import { sandboxSkipReason } from './agent-harness.js';
import { DB, gitIn, passwdLine, startExampleFleet, startTestDaemon, waitFor, WEB } from './daemon-harness.js';

const skip = await sandboxSkipReason();
const ALL = [...WEB, ...DB];

describe.skipIf(skip)('rollcall serve: real git, the ECS emulator, sandbox instances', () => {
  let emulator: EcsEmulator;
  let daemon: Daemon;
  let repo: string;
  let notes: ResultNotes;
  const head = () => gitIn(repo, 'rev-parse', 'HEAD').trim();
  const commit = (message: string) => {
    gitIn(repo, 'add', '-A');
    gitIn(repo, 'commit', '-q', '-m', message);
    return head();
  };
  const applied = (sha: string) => waitFor(`${sha.slice(0, 12)} applied`, () => daemon.status().lastAppliedRevision === sha);

  beforeAll(async () => {
    repo = desiredStateRepo().repo;
    notes = new ResultNotes(repo);
    emulator = await startExampleFleet();
    daemon = await startTestDaemon({ repo, emulator, driftIntervalMs: 1_500 });
    // The emulator announces new instances to this daemon.
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    await emulator?.close();
  });

  it('applies the branch tip on start and records it as a git note', async () => {
    const sha = head();
    await applied(sha);
    for (const id of ALL) expect(await passwdLine(emulator, id, 'zhangsan')).toMatch(/^zhangsan:x:20001:20001:Zhang San:/);
    const records = await notes.read(sha);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ trigger: 'revision', outcome: 'applied' });
    expect(Object.keys(records[0]!.instances).sort()).toEqual([...ALL].sort());
    expect(records[0]!.instances[WEB[0]!]!.changes).toContainEqual({ action: 'create', kind: 'user', name: 'zhangsan' });
    const status = await (await fetch(`${daemon.url}/status`)).json();
    expect(status).toMatchObject({ state: 'Ready', reason: 'ReconciliationSucceeded', lastAppliedRevision: sha, lastAttemptedRevision: sha });
    expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/rollcall_reconciles_total\{trigger="revision",result="applied"\} 1/);
    expect(metrics).toMatch(/rollcall_cloud_api_calls_total\{action="InvokeCommand"\} [1-9]/);
  });

  it('says so when the work tree has uncommitted edits, and does not apply them', async () => {
    const file = path.join(repo, 'desired-state/users/E1004.yaml');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, `${before}shell: /bin/sh\n`);
    await waitFor('uncommitted edits reported', () => daemon.status().uncommittedEdits?.includes('desired-state/users/E1004.yaml'));
    const status = await runCli(['status', '--url', daemon.url]);
    expect(status.stdout).toContain('uncommitted edits (not applied until committed): desired-state/users/E1004.yaml');
    // A drift check comes and goes (every 1.5 s here): it enforces the commit, not the edit.
    daemon.reconciler.checkDrift();
    await daemon.reconciler.idle();
    expect(await passwdLine(emulator, DB[0]!, 'zhaoliu')).toMatch(/:\/bin\/bash$/);
    writeFileSync(file, before);
    await waitFor('the edit reverted', () => daemon.status().uncommittedEdits === undefined);
  });

  it('converges a committed change within seconds, and history shows it', async () => {
    appendFileSync(path.join(repo, 'desired-state/users/E1001.yaml'), 'shell: /bin/sh\n');
    const sha = commit('Give zhangsan /bin/sh');
    await applied(sha);
    expect(await passwdLine(emulator, WEB[1]!, 'zhangsan')).toMatch(/:\/bin\/sh$/);
    const history = await runCli(['history', 'E1001', '--repo', repo, '--json']);
    expect(history.code).toBe(0);
    const parsed = JSON.parse(history.stdout) as { commits: { sha: string }[]; applications: { revision: string; instance: string; changes: { fields?: string[] }[] }[] };
    expect(parsed.commits.map((entry) => entry.sha)).toContain(sha);
    expect(parsed.applications.filter((entry) => entry.revision === sha).map((entry) => entry.instance).sort()).toEqual([...ALL].sort());
    expect(gitIn(repo, 'log', '-1', '--notes=rollcall', '--', 'desired-state/users/E1001.yaml')).toContain('update user zhangsan (shell)');
  });

  it('never applies an invalid commit; the previous revision stays in force, drift included', async () => {
    const good = head();
    const file = path.join(repo, 'desired-state/users/E1002.yaml');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, before.replace(/^uid: .*$/m, 'uid: twenty'));
    const bad = commit('A typo');
    await waitFor('the invalid revision reported', () => daemon.status().lastAttemptedRevision === bad && daemon.status().state === 'Stalled');
    const status = daemon.status();
    expect(status.reason).toBe('ValidationFailed');
    expect(status.message).toMatch(/desired-state\/users\/E1002\.yaml:\d+:\d+: /);
    expect(status.lastAppliedRevision).toBe(good);
    expect(await notes.read(bad)).toEqual([]);
    // Drift is still corrected to the last good revision.
    await emulator.fleet.exec(DB[0]!, ['usermod', '-s', '/bin/bash', 'zhangsan']);
    await waitFor('drift corrected', async () => (await passwdLine(emulator, DB[0]!, 'zhangsan'))?.endsWith('/bin/sh'), 15_000);
    writeFileSync(file, before);
    await applied(commit('Fix the typo'));
  });

  it('applies two quick commits, both, in order', async () => {
    writeFileSync(path.join(repo, 'desired-state/users/E2001.yaml'), 'empId: E2001\nlogin: quick\nuid: 22001\nroles: [analyst]\n');
    const first = commit('Onboard quick');
    writeFileSync(path.join(repo, 'desired-state/users/E2001.yaml'), 'empId: E2001\nlogin: quick\nuid: 22001\nname: Quick Two\nroles: [analyst]\n');
    const second = commit('Name quick');
    await applied(second);
    const [a] = await notes.read(first);
    const [b] = await notes.read(second);
    expect(a?.trigger).toBe('revision');
    expect(Object.values(a!.instances).flatMap((instance) => instance.changes)).toContainEqual({ action: 'create', kind: 'user', name: 'quick' });
    expect(Object.values(b!.instances).flatMap((instance) => instance.changes)).toContainEqual({ action: 'update', kind: 'user', name: 'quick', fields: ['name'] });
    expect(Date.parse(a!.at)).toBeLessThanOrEqual(Date.parse(b!.at));
  });

  it('lock --now applies the lock first and prints how long it took', async () => {
    const lock = await runCli(['lock', '--now', 'lisi', '--reason', 'laptop stolen', '--repo', repo, '--url', daemon.url, '--wait', '60s']);
    expect(lock.stderr).toBe('');
    expect(lock.stdout).toMatch(/locked lisi on (\d+) of \1 instance\(s\) in \d+\.\d\d s/);
    expect(lock.code).toBe(0);
    const sha = head();
    expect(gitIn(repo, 'log', '-1', '--format=%B')).toMatch(/Rollcall-Break-Glass: lisi/);
    const records = await notes.read(sha);
    expect(records[0]?.trigger).toBe('break-glass');
    const shadow = await emulator.fleet.exec(WEB[0]!, ['getent', 'shadow', 'lisi']);
    expect(shadow.stdout.toString()).toMatch(/^lisi:!/);
  });

  it('only reports drift when policy.drift is detect', async () => {
    const fleet = path.join(repo, 'desired-state/fleet.yaml');
    writeFileSync(fleet, readFileSync(fleet, 'utf8').replace('drift: correct', 'drift: detect'));
    await applied(commit('Detect drift only'));
    await emulator.fleet.exec(WEB[0]!, ['usermod', '-s', '/bin/bash', 'zhangsan']);
    await waitFor('drift reported', () => daemon.status().reason === 'DriftDetected', 15_000);
    expect(daemon.status().message).toContain('update user zhangsan');
    expect(await passwdLine(emulator, WEB[0]!, 'zhangsan')).toMatch(/:\/bin\/bash$/);
  });
});

describe.skipIf(skip)('rollcall serve: a new instance converges at once', () => {
  let emulator: EcsEmulator;
  let daemon: Daemon;

  afterAll(async () => {
    await daemon?.stop();
    await emulator?.close();
  });

  it('when Cloud Assistant announces it (FirstHeartbeat), without a commit or a drift tick', async () => {
    const { repo } = desiredStateRepo();
    // A new instance has no docker group: leave it out of the role, so the instance is not held back.
    const role = path.join(repo, 'desired-state/roles/devops.yaml');
    writeFileSync(role, readFileSync(role, 'utf8').replace(/^.*name: docker.*\n/m, ''));
    gitIn(repo, 'commit', '-qam', 'devops without docker');
    const port = await freePort();
    emulator = await startExampleFleet({ eventsUrl: `http://127.0.0.1:${port}/ingress/eventbridge` });
    // A drift interval far away: only the event can make the new instance converge.
    daemon = await startTestDaemon({ repo, emulator, port, driftIntervalMs: 3_600_000 });
    const sha = gitIn(repo, 'rev-parse', 'HEAD').trim();
    await waitFor('first revision applied', () => daemon.status().lastAppliedRevision === sha);
    const id = await emulator.addInstance({ tags: { app: 'web' } });
    await waitFor('the new instance converged', async () => (await passwdLine(emulator, id, 'zhangsan')) !== undefined, 20_000);
    // The note is written right after the apply.
    const records = await waitFor('the new-instance note', async () => {
      const read = await new ResultNotes(repo).read(sha);
      return read.length === 2 && read;
    });
    expect(records.at(-1)).toMatchObject({ trigger: 'new-instance', outcome: 'applied' });
    expect(Object.keys(records.at(-1)!.instances)).toEqual([id]);
  });
});

describe.skipIf(skip)('rollcall serve: a remote repository', () => {
  let emulator: EcsEmulator;
  let daemon: Daemon;

  afterAll(async () => {
    await daemon?.stop();
    await emulator?.close();
  });

  it('clones it, reconciles a push at once when the push hook calls, and pushes the notes back', async () => {
    const { repo: origin } = desiredStateRepo();
    const bare = `${origin}.git`;
    gitIn(origin, 'clone', '-q', '--bare', origin, bare);
    emulator = await startExampleFleet();
    // Polling an hour apart: only the hook can make it fetch in time.
    daemon = await startTestDaemon({ repo: `file://${bare}`, emulator, pollIntervalMs: 3_600_000 });
    const first = gitIn(bare, 'rev-parse', 'main').trim();
    await waitFor('the first revision applied', () => daemon.status().lastAppliedRevision === first);

    const work = `${origin}-work`;
    gitIn(origin, 'clone', '-q', bare, work);
    appendFileSync(path.join(work, 'desired-state/users/E1001.yaml'), 'shell: /bin/sh\n');
    gitIn(work, 'commit', '-qam', 'Give zhangsan /bin/sh');
    gitIn(work, 'push', '-q', 'origin', 'main');
    const pushed = gitIn(work, 'rev-parse', 'HEAD').trim();
    const hook = await fetch(`${daemon.url}/hooks/git`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook' },
      body: JSON.stringify({ ref: 'refs/heads/main', after: pushed }),
    });
    expect(hook.status).toBe(202);
    await waitFor('the pushed commit applied', () => daemon.status().lastAppliedRevision === pushed, 20_000);
    expect(await passwdLine(emulator, DB[0]!, 'zhangsan')).toMatch(/:\/bin\/sh$/);
    await waitFor('the note pushed to the remote', () => gitIn(bare, 'notes', '--ref=rollcall', 'list').includes(pushed));
  });
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
