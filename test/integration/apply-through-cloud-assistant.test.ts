import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcsEmulator, type EcsEmulator } from '../../src/emulators/ecs/ecs-emulator.js';
import { CloudAssistant } from '../../src/executors/cloud-assistant/cloud-assistant.js';
import { createEcsClient, Ecs } from '../../src/executors/cloud-assistant/create-ecs-client.js';
import { readFleetAccess } from '../../src/config/fleet-access.js';
import { loadDesiredState } from '../../src/desired/load-desired-state.js';
import { createExecutor } from '../../src/executors/create-executor.js';
import { plan } from '../../src/plan/build-plan.js';
import { describeCommittedRevision } from '../../src/source/git.js';
import { parseObservedState } from '../../src/plan/observed-state.js';
import { runCli } from '../cli/run-cli.js';
import { sandboxSkipReason } from './agent-harness.js';

const skip = await sandboxSkipReason();
const WEB = ['i-bp1web0000001', 'i-bp1web0000002', 'i-bp1web0000003', 'i-bp1web0000004'];
const DB = ['i-bp1db0000001', 'i-bp1db0000002'];
const DIR = path.resolve('desired-state');

describe.skipIf(skip)('rollcall inventory, plan and apply through Cloud Assistant (the real SDK against the emulator)', () => {
  let ecs: EcsEmulator;
  let env: NodeJS.ProcessEnv;
  const cli = (...argv: string[]) => runCli([...argv, '--dir', DIR], { env });

  beforeAll(async () => {
    ecs = await startEcsEmulator({
      instances: [...WEB.map((id) => ({ id, tags: { app: 'web' } })), ...DB.map((id) => ({ id, tags: { app: 'db' } }))],
      // One API second lasts 50 ms: a Timeout of 10 s is over in half a second.
      secondMs: 50,
      seed: 7,
    });
    for (const id of ecs.instances) await ecs.fleet.exec(id, ['sh', '-c', 'getent group docker >/dev/null || groupadd docker']);
    // One instance has no agent yet: the executor installs it with SendFile.
    await ecs.fleet.exec(DB[1]!, ['rm', '-f', '/var/lib/rollcall/rollcall-agent.sh']);
    env = { ALIBABA_CLOUD_ACCESS_KEY_ID: ecs.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: ecs.accessKeySecret, ROLLCALL_ECS_ENDPOINT: ecs.endpoint, ROLLCALL_TIMEOUT: '1200' };
  });

  afterAll(async () => ecs?.close());

  it('converges six instances in two hostgroups, then finds nothing to do', async () => {
    const apply = await cli('apply', '--auto-approve');
    expect(apply.stderr).toBe('');
    expect(apply.stdout).toMatch(/Apply complete: 6 of 6 instances applied; \d+ changed, 0 unchanged, 0 failed\./);
    expect(apply.code).toBe(0);
    const again = await cli('plan', '--detailed-exitcode');
    expect(again.stdout).toContain('No changes. The fleet matches the desired state.');
    expect(again.code).toBe(0);
    expect((await ecs.fleet.exec(DB[1]!, ['getent', 'passwd', 'wangwu'])).stdout.toString()).toMatch(/^wangwu:x:20003:/);
  });

  it('reads the fleet as a snapshot that plan --observed accepts', async () => {
    const inventory = await cli('inventory', '--json');
    expect(inventory.code).toBe(0);
    const snapshot = parseObservedState('inventory.json', inventory.stdout);
    expect(snapshot.ok && Object.keys(snapshot.observed.instances).sort()).toEqual([...DB, ...WEB].sort());
    expect(snapshot.ok && snapshot.observed.instances[WEB[0]!]?.tags).toEqual({ app: 'web' });
  });

  it('corrects drift made by hand', async () => {
    await ecs.fleet.exec(WEB[2]!, ['usermod', '-s', '/bin/sh', 'zhangsan']);
    const drifted = await cli('plan', '--detailed-exitcode');
    expect(drifted.code).toBe(2);
    expect(drifted.stdout).toContain(`  # ${WEB[2]}\n  ~ user zhangsan\n      shell: /bin/sh -> /bin/bash\n`);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    expect((await cli('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('still converges when half of all calls are throttled', async () => {
    ecs.faults.setThrottle('*', 0.5);
    try {
      await ecs.fleet.exec(WEB[0]!, ['usermod', '-c', 'Somebody', 'lisi']);
      const apply = await cli('apply', '--auto-approve');
      expect(apply.stdout).toContain('Apply complete: 1 of 1 instances applied');
      expect(apply.code).toBe(0);
    } finally {
      ecs.faults.setThrottle('*', 0);
    }
    expect((await cli('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('reports an instance whose Cloud Assistant is offline, and converges the rest', async () => {
    ecs.faults.offline.add(WEB[1]!);
    try {
      for (const id of [WEB[0]!, WEB[1]!]) await ecs.fleet.exec(id, ['usermod', '-s', '/bin/sh', 'sunqi']);
      const apply = await cli('apply', '--auto-approve');
      expect(apply.stderr).toContain(`Error: ${WEB[1]}: could not be read: Cloud Assistant is not running there`);
      expect(apply.stdout.split('\n').slice(-2).join('\n')).toContain('Apply complete: 1 of 1 instances applied');
      expect(apply.code).toBe(1);
    } finally {
      ecs.faults.offline.delete(WEB[1]!);
    }
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
  });

  it('reports a run that hangs as a timeout', async () => {
    await ecs.fleet.exec(DB[0]!, ['usermod', '-s', '/bin/sh', 'wangwu']);
    const observedFirst = await cli('plan', '--detailed-exitcode');
    expect(observedFirst.code).toBe(2);
    ecs.faults.hang.add(DB[0]!);
    try {
      const apply = await runCli(['apply', '--auto-approve', '--dir', DIR, '--timeout', '10'], { env });
      expect(apply.code).toBe(1);
      expect(apply.stderr + apply.stdout).toMatch(/did not finish in time/);
    } finally {
      ecs.faults.hang.delete(DB[0]!);
    }
  });

  it('stops starting batches once the error budget is spent, and says so', async () => {
    // Different drift on each web instance: different operations, so one batch each.
    const drift = [['usermod', '-c', 'Drift', 'zhangsan'], ['usermod', '-s', '/bin/sh', 'zhangsan'], ['usermod', '-L', 'zhangsan'], ['gpasswd', '-d', 'zhangsan', 'devops']];
    for (const [index, id] of WEB.entries()) await ecs.fleet.exec(id, drift[index]!);
    // A lock file held by a live process (pid 1): usermod on the first web instance fails.
    await ecs.fleet.exec(WEB[0]!, ['sh', '-c', 'echo 1 >/etc/passwd.lock']);
    try {
      const apply = await runCli(['apply', '--auto-approve', '--dir', DIR, '--concurrency', '1', '--max-errors', '0'], { env });
      expect(apply.code).toBe(1);
      expect(apply.stdout).toContain(`  ${WEB[0]}: failed`);
      expect(apply.stdout).toContain('stopped after 1 failed instances (more than the error budget of 0): the rest were not started');
      expect(apply.stdout).toContain(`  ${WEB[3]}: skipped: not started: the error budget was spent`);
    } finally {
      await ecs.fleet.exec(WEB[0]!, ['rm', '-f', '/etc/passwd.lock']);
    }
    // A new attempt at the same revision and operations runs again (the failure is not replayed).
    const after = await cli('apply', '--auto-approve');
    expect(after.code, after.stdout + after.stderr).toBe(0);
  });

  it('never runs twice what one ClientToken asked once: a restart reads the same invocation', async () => {
    const assistant = new CloudAssistant(createEcsClient({ regionId: ecs.regionId, endpoint: ecs.endpoint }, env), { regionId: ecs.regionId });
    const request = { instances: [WEB[3]!], parameters: {}, timeoutSeconds: 60, clientToken: 'revision-abc', content: 'echo ran >>/root/runs; wc -l </root/runs' };
    const first = await assistant.run(request);
    // rollcall "crashed" after RunCommand; the next process asks again with the same token.
    const second = await assistant.run(request);
    expect(first[0]?.output.trim()).toBe('1');
    expect(second[0]?.output.trim()).toBe('1');
    expect((await ecs.fleet.exec(WEB[3]!, ['wc', '-l', '/root/runs'])).stdout.toString().trim()).toBe('1 /root/runs');

    // The executor resuming an attempt after a crash reads the same invocation: the change is
    // reported as made, once; a new attempt runs again and finds it done.
    await ecs.fleet.exec(WEB[3]!, ['usermod', '-s', '/bin/sh', 'fengsan']);
    const executor = createExecutor(readFleetAccess({}, env), ecs.regionId, env);
    const desired = await loadDesiredState(DIR);
    if (!desired.ok) throw new Error('the example desired state is invalid');
    const observed = await executor.inventory([{ id: WEB[3]!, tags: { app: 'web' } }]);
    const planned = plan(desired.desired, observed.observed, desired.desired.fleet.policy, new Date());
    expect(observed.failures).toEqual([]);
    expect(Object.keys(planned.instances)).toEqual([WEB[3]]);
    // The generation the CLI's applies used (the commit's time): an older one would be refused.
    const generation = (await describeCommittedRevision(DIR))?.committedAt ?? Math.floor(Date.now() / 1000);
    const statuses = async (attempt: string) => (await executor.apply(planned, { generation, attempt })).instances.flatMap((result) => result.results.map((entry) => `${entry.name} ${entry.status}`));
    expect(await statuses('attempt-1')).toEqual(['fengsan changed']);
    expect(await statuses('attempt-1')).toEqual(['fengsan changed']);
    expect(await statuses('attempt-2')).toEqual(['fengsan unchanged']);
  });

  it('reads an instance with 2,000 accounts completely, page by page', async () => {
    await ecs.fleet.exec(DB[1]!, ['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "bulk$i:x:$((40000 + i)):$((40000 + i))::/home/bulk$i:/bin/bash"; i=$((i + 1)); done >>/etc/passwd']);
    const inventory = await cli('inventory', '--json');
    expect(inventory.code).toBe(0);
    const snapshot = parseObservedState('inventory.json', inventory.stdout);
    const users = snapshot.ok ? snapshot.observed.instances[DB[1]!]!.users : [];
    expect(users.filter((user) => user.login.startsWith('bulk'))).toHaveLength(2000);
    expect(users.find((user) => user.login === 'wangwu')).toMatchObject({ managed: true, uid: 20003 });
  });

  it('refuses a registered command that is not this rollcall\'s agent, unless --agent-inline', async () => {
    const other = await startEcsEmulator({ fleet: ecs.fleet, preloadAgentCommand: false, installAgent: false });
    try {
      const otherEnv = { ...env, ROLLCALL_ECS_ENDPOINT: other.endpoint, ALIBABA_CLOUD_ACCESS_KEY_ID: other.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: other.accessKeySecret };
      const refused = await runCli(['plan', '--dir', DIR], { env: otherEnv });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('no Cloud Assistant command named rollcall-agent in this region: deploy the stack');
      const inline = await runCli(['plan', '--dir', DIR, '--agent-inline'], { env: otherEnv });
      expect(inline.stderr).toBe('');
      expect(inline.code).toBe(0);

      // A command of that name whose content is not this rollcall's stub (an older rollcall's, say).
      const client = createEcsClient({ regionId: other.regionId, endpoint: other.endpoint }, otherEnv);
      await client.createCommand(
        new Ecs.CreateCommandRequest({ regionId: other.regionId, name: 'rollcall-agent', type: 'RunShellScript', commandContent: Buffer.from("echo '{{mode}}'").toString('base64'), enableParameter: true }),
      );
      const stale = await runCli(['plan', '--dir', DIR], { env: otherEnv });
      expect(stale.code).toBe(1);
      expect(stale.stderr).toMatch(/the registered command rollcall-agent \(\S+\) is not the agent this rollcall ships: redeploy the stack/);
    } finally {
      await other.close();
    }
  });
});
