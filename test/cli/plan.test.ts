import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planCommand } from '../../src/cli/commands/plan.js';
import { createLogger } from '../../src/config/logger.js';
import type { Plan } from '../../src/plan/types.js';
import { desiredStateRepo } from './git-fixture.js';
import { runCli } from './run-cli.js';

const SNAPSHOT = path.resolve('test/fixtures/observed.json');

/** A snapshot in which `count` rollcall-managed users that no longer exist are still on web1. */
function snapshotWithLeavers(count: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rollcall-snapshot-'));
  const users = Array.from({ length: count }, (_, i) => ({
    login: `leaver${i}`, uid: 29000 + i, gid: 29000 + i, name: '', home: `/home/leaver${i}`, shell: '/bin/bash',
    groups: [], sshKeys: [], locked: false, expires: null, managed: true,
  }));
  const file = path.join(dir, 'observed.json');
  writeFileSync(file, JSON.stringify({ instances: { 'i-web1': { tags: { app: 'web' }, users, groups: [{ name: 'docker', gid: 998, managed: false }], sudoers: {} } } }));
  return file;
}

describe('rollcall plan', () => {
  it('prints the plan against a snapshot and exits 0', async () => {
    const run = await runCli(['plan', '--dir', 'desired-state', '--observed', SNAPSHOT]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  # i-bp1web0000001\n');
    expect(run.stdout).toContain('  ~ user lisi\n      groups: [devops, docker] -> [devops, docker, oncall]\n');
    expect(run.stdout).toMatch(/Plan: \d+ to create, \d+ to update, \d+ to lock, \d+ to delete\.\n$/);
    expect(run.stdout).not.toContain('\x1b[');
  });

  it('with --json prints exactly one JSON document, and logs nothing to stdout', async () => {
    const run = await runCli(['plan', '--dir', 'desired-state', '--observed', SNAPSHOT, '--json']);
    const plan = JSON.parse(run.stdout) as Plan;
    expect(plan.summary.create).toBeGreaterThan(0);
    expect(Object.keys(plan.instances)).toEqual(['i-bp1db0000001', 'i-bp1web0000001', 'i-bp1web0000002']);
    expect(plan.errors).toEqual([]);
  });

  it('--detailed-exitcode: 2 with changes, 0 without', async () => {
    const withChanges = await runCli(['plan', '--dir', 'desired-state', '--observed', SNAPSHOT, '--detailed-exitcode']);
    expect(withChanges.code).toBe(2);
    const empty = path.join(mkdtempSync(path.join(tmpdir(), 'rollcall-empty-')), 'observed.json');
    writeFileSync(empty, JSON.stringify({ instances: { 'i-elsewhere': { tags: { app: 'other' } } } }));
    const none = await runCli(['plan', '--dir', 'desired-state', '--observed', empty, '--detailed-exitcode']);
    expect(none.stdout).toContain('No changes. The fleet matches the desired state.');
    expect(none.stdout).toContain('Warning: i-elsewhere: is in no hostgroup');
    expect(none.code).toBe(0);
  });

  it('exits 1 when the plan has errors (the deletion guard), and says how to lift it', async () => {
    const run = await runCli(['plan', '--dir', 'desired-state', '--observed', snapshotWithLeavers(11)]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Error: the plan would lock or delete 11 logins (leaver0, leaver1, leaver10, leaver2');
    expect(run.stdout).toContain('policy.maxDeletions (10)');
    expect(run.stdout).toContain('Rollcall-Allow-Deletions: 11');
  });

  it('names the revision by its commit in a clean git tree, and honours Rollcall-Allow-Deletions there', async () => {
    const { dir, git } = desiredStateRepo();
    const observed = snapshotWithLeavers(11);
    const refused = await runCli(['plan', '--dir', dir, '--observed', observed, '--json']);
    const head = git('rev-parse', 'HEAD').trim();
    expect((JSON.parse(refused.stdout) as Plan).revision).toBe(head);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('');

    git('commit', '-q', '--allow-empty', '-m', 'Offboard the contractors\n\nRollcall-Allow-Deletions: 11');
    const allowed = await runCli(['plan', '--dir', dir, '--observed', observed, '--json']);
    expect(allowed.code).toBe(0);
    expect((JSON.parse(allowed.stdout) as Plan).summary.lock).toBe(11);
  });

  it('names an uncommitted tree by the hash of its files, which changes with them', async () => {
    const { dir } = desiredStateRepo();
    writeFileSync(path.join(dir, 'users/E1010.yaml'), 'empId: E1010\nlogin: liner\nuid: 20010\nroles: [analyst]\nname: Li Ner\n');
    const first = JSON.parse((await runCli(['plan', '--dir', dir, '--observed', SNAPSHOT, '--json'])).stdout) as Plan;
    expect(first.revision).toMatch(/^sha256:[0-9a-f]{64}$/);
    const again = JSON.parse((await runCli(['plan', '--dir', dir, '--observed', SNAPSHOT, '--json'])).stdout) as Plan;
    expect(again.revision).toBe(first.revision);
    writeFileSync(path.join(dir, 'users/E1010.yaml'), 'empId: E1010\nlogin: liner\nuid: 20010\nroles: [analyst]\nname: Li Er\n');
    const changed = JSON.parse((await runCli(['plan', '--dir', dir, '--observed', SNAPSHOT, '--json'])).stdout) as Plan;
    expect(changed.revision).not.toBe(first.revision);
  });

  it('is the same plan, byte for byte, for the same inputs and day', async () => {
    const io = () => {
      let out = '';
      return {
        io: { stdout: { write: (text: string) => ((out += text), true) } as never, stderr: { write: () => true } as never, env: {}, cwd: process.cwd(), log: createLogger({}, { write: () => true }) },
        out: () => out,
      };
    };
    const now = new Date('2026-11-27T04:00:00Z');
    const a = io();
    const b = io();
    await planCommand({ dir: 'desired-state', observed: SNAPSHOT, json: true, detailedExitcode: false, now }, a.io);
    await planCommand({ dir: 'desired-state', observed: SNAPSHOT, json: true, detailedExitcode: false, now }, b.io);
    expect(a.out()).toBe(b.out());
  });

  it('reports a broken snapshot with its position', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rollcall-bad-snapshot-'));
    writeFileSync(path.join(dir, 'observed.json'), '{ "instances": {\n  "i-1": { "users": [ { "login": "x", "uid": "1", "managed": false } ] } } }\n');
    const run = await runCli(['plan', '--dir', path.resolve('desired-state'), '--observed', 'observed.json'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^observed\.json:2:\d+: instances\.i-1\.users\[0\]\.uid: /);
    rmSync(dir, { recursive: true });
  });

  it('without --observed reads the fleet, and says what is missing to reach it', async () => {
    const without = await runCli(['plan', '--dir', 'desired-state', '--endpoint', '127.0.0.1:9']);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('no Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    const badRegion = await runCli(['plan', '--dir', 'desired-state', '--region', 'Hangzhou!']);
    expect(badRegion.stderr).toContain('--region / ROLLCALL_REGION: must be a region id like cn-hangzhou');
  });

  it('says so when the snapshot is missing', async () => {
    const missing = await runCli(['plan', '--dir', 'desired-state', '--observed', 'nope.json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read the snapshot nope.json: no such file');
  });

  it('logs JSON lines to stderr only, so --json output stays one document', async () => {
    const run = await runCli(['plan', '--dir', 'desired-state', '--observed', SNAPSHOT, '--json'], { env: { ROLLCALL_LOG_LEVEL: 'debug' } });
    expect(JSON.parse(run.stdout)).toHaveProperty('revision');
    const logged = run.stderr.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; summary?: unknown });
    expect(logged.map((line) => line.msg)).toContain('planned');
  });

  it('takes the snapshot from ROLLCALL_OBSERVED', async () => {
    const run = await runCli(['plan', '--dir', 'desired-state', '--json'], { env: { ROLLCALL_OBSERVED: SNAPSHOT } });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty('summary');
  });
});

describe('rollcall schema', () => {
  it('matches the schemas committed under desired-state/.schema', async () => {
    const run = await runCli(['schema']);
    const schemas = JSON.parse(run.stdout) as Record<string, object>;
    expect(Object.keys(schemas).sort()).toEqual(['approvals.schema.json', 'fleet.schema.json', 'observed.schema.json', 'role.schema.json', 'user.schema.json']);
    for (const [name, schema] of Object.entries(schemas)) {
      const committed = JSON.parse(readFileSync(path.join('desired-state/.schema', name), 'utf8')) as object;
      expect(committed, `${name} is stale: run npm run schema`).toEqual(schema);
    }
  });

  it('writes one file per schema with --out', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'rollcall-schema-'));
    const run = await runCli(['schema', '--out', out]);
    expect(run.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['approvals.schema.json', 'fleet.schema.json', 'observed.schema.json', 'role.schema.json', 'user.schema.json']);
  });
});
