import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import { RequestContextReader } from '../../src/reconcile/request-context.js';
import { desiredStateRepo } from '../cli/git-fixture.js';
import { commitFileIn } from '../source/repo-fixture.js';

const repos: string[] = [];
afterEach(() => {
  for (const repo of repos.splice(0)) rmSync(repo, { recursive: true, force: true });
});

function reader() {
  const fixture = desiredStateRepo();
  repos.push(fixture.repo);
  const tip = () => Promise.resolve(fixture.git('rev-parse', 'main').trim());
  return { ...fixture, reader: new RequestContextReader({ root: fixture.repo, path: 'desired-state', tip, env: process.env }) };
}

describe('RequestContextReader', () => {
  it('reads the flows, the role names and every user record at the tip', async () => {
    const { reader: context, git } = reader();
    const read = await context.read();
    expect(read.tip).toBe(git('rev-parse', 'main').trim());
    expect(read.approvals.flows.map((flow) => flow.request)).toEqual(['onboard', 'offboard', 'grant', 'revoke']);
    expect(read.roleNames.has('devops')).toBe(true);
    const e1001 = read.users.find((user) => user.empId === 'E1001');
    expect(e1001?.login).toMatch(/^[a-z_]/);
    expect(read.users.length).toBeGreaterThan(5);
  });

  it('follows the tip: a committed record, platform ids and an offboarding show at once', async () => {
    const { reader: context, repo } = reader();
    const before = await context.read();
    commitFileIn(repo, 'desired-state/users/E9001.yaml', 'empId: E9001\nlogin: newhire\nuid: 29001\nroles: []\nids: { dingtalk: manager4432 }\nstate: absent\n', 'Onboard E9001');
    const after = await context.read();
    expect(after.tip).not.toBe(before.tip);
    expect(after.users).toHaveLength(before.users.length + 1);
    expect(after.users.find((user) => user.empId === 'E9001')).toEqual({ empId: 'E9001', login: 'newhire', platformIds: { dingtalk: 'manager4432' }, state: 'absent' });
    // The same tip again is the same answer, without reading anything.
    expect(await context.read()).toBe(after);
  });

  it('shares reads: many callers at once cost two reads at most, and each sees what was committed before it asked', async () => {
    const fixture = desiredStateRepo();
    repos.push(fixture.repo);
    let tips = 0;
    const context = new RequestContextReader({
      root: fixture.repo,
      path: 'desired-state',
      tip: async () => {
        tips++;
        return fixture.git('rev-parse', 'main').trim();
      },
      env: process.env,
    });
    const first = context.read();
    commitFileIn(fixture.repo, 'desired-state/users/E9101.yaml', 'empId: E9101\nlogin: latecomer\nuid: 29101\nroles: []\n', 'Onboard E9101');
    const many = await Promise.all(Array.from({ length: 20 }, () => context.read()));
    await first;
    expect(tips).toBe(2);
    for (const read of many) expect(read.users.some((user) => user.empId === 'E9101')).toBe(true);
  });

  it('refuses an approvals.yaml that is not valid, with file:line:col, and reads again once it is fixed', async () => {
    const { reader: context, repo } = reader();
    commitFileIn(repo, 'desired-state/approvals.yaml', 'flows:\n  - platform: wechat\n    request: onboard\n', 'Break approvals.yaml');
    const error = await context.read().then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(RollcallError);
    expect((error as RollcallError).message).toContain('approvals wait until it is fixed');
    expect((error as RollcallError).message).toMatch(/desired-state\/approvals\.yaml:2:\d+: .*dingtalk or lark/);
    commitFileIn(repo, 'desired-state/approvals.yaml', 'flows: []\n', 'Fix approvals.yaml');
    expect((await context.read()).approvals.flows).toEqual([]);
  });
});
