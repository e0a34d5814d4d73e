/**
 * How fast is the agent? On sandbox instances (needs root), with the same 500 users (a key and two
 * groups each):
 *
 *   1. the agent creating them, through the registered stub, chunked as for Cloud Assistant,
 *      against the floor: a plain sh loop of the same groupadd/useradd/install commands, run in the
 *      same kind of instance (goal ≤ 1.5×);
 *   2. a second apply of the same operations, which changes nothing (goal ≤ 1 s);
 *   3. inventory of the instance, all pages (goal ≤ 0.5 s);
 *   4. with --ansible: Debian's ansible-core running its user + authorized_key modules for the same
 *      users with a local connection inside a sandbox instance (goal: rollcall ≥ 10× faster). It
 *      installs ansible-core and ansible (for ansible.posix) with apt first if they are missing, and
 *      says so.
 *
 *   node --import tsx bench/agent.ts [--users N] [--runs N] [--ansible]
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { AGENT_INSTALL_PATH, AGENT_SCRIPT, agentParameters, agentStub } from '../src/agent/agent-script.js';
import { chunkOperations, operationsFor } from '../src/agent/encode-operations.js';
import { mergeInventoryPages, parseApplyOutput, parseInventoryPage } from '../src/agent/parse-agent-output.js';
import type { DesiredState, Role, User } from '../src/desired/types.js';
import { SandboxFleet } from '../src/emulators/ecs/sandbox/sandbox-fleet.js';
import { plan } from '../src/plan/build-plan.js';
import type { PlanEntry, UserAttributes } from '../src/plan/types.js';
import { randomEd25519Key } from '../test/fixtures/random-ssh-key.js';

const { values } = parseArgs({ options: { users: { type: 'string', default: '500' }, runs: { type: 'string', default: '2' }, ansible: { type: 'boolean', default: false } } });
const USERS = Number(values.users);
const RUNS = Number(values.runs);
const TODAY = new Date('2026-11-27T04:00:00Z');

function desiredState(): DesiredState {
  const roles = new Map<string, Role>(
    Array.from({ length: 10 }, (_, r) => [`team${r}`, { name: `team${r}`, hostgroups: ['bench'], groups: [{ name: `team${r}`, gid: 3000 + r }, { name: 'staffers', gid: 2999 }], sudo: [] }]),
  );
  const users: User[] = Array.from({ length: USERS }, (_, i) => ({
    empId: `E${i}`, login: `bench${i}`, uid: 20000 + i, name: `Bench User ${i}`, roles: [{ role: `team${i % 10}` }],
    sshKeys: [randomEd25519Key(`bench${i}@laptop`)], shell: '/bin/bash', state: 'present', adopt: false,
  }));
  return {
    fleet: { region: 'cn-hangzhou', hostgroups: { bench: { tags: { app: 'bench' } } }, policy: { uidRange: [20000, 29999], offboard: 'lock', maxDeletions: 10, drift: 'correct', interval: '10m', timezone: 'UTC', privilegedGroups: [], remindBefore: 7 } },
    roles, users, approvals: { flows: [], channels: {} }, revision: 'bench',
  };
}

/** The plan for an empty instance: the groups, then the users. */
function entriesFor(desired: DesiredState): PlanEntry[] {
  const empty = { instances: { 'i-bench': { tags: { app: 'bench' }, users: [], groups: [], sudoers: {} } } };
  return plan(desired, empty, desired.fleet.policy, TODAY).instances['i-bench']!;
}

/** The floor: the same commands, one after another, in a plain sh loop, with nothing checked. */
function floorScript(entries: readonly PlanEntry[]): string {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const lines: string[] = ['set -e'];
  for (const entry of entries) {
    if (entry.kind === 'group' && entry.action === 'create') lines.push(`groupadd -g ${entry.after.gid} ${entry.name}`);
    if (entry.kind !== 'user' || entry.action !== 'create') continue;
    const a: UserAttributes = entry.after;
    const home = quote(a.home);
    lines.push(
      `groupadd -g ${a.gid} ${entry.name}`,
      `useradd -u ${a.uid} -g ${a.gid} -G ${a.groups.join(',')} -c ${quote(a.name)} -d ${home} -s ${a.shell} -p '*' -M ${entry.name}`,
      `install -d -o ${a.uid} -g ${a.gid} -m 750 ${home}`,
      `install -d -o ${a.uid} -g ${a.gid} -m 700 ${home}/.ssh`,
      `printf '%s\\n' ${a.sshKeys.map(quote).join(' ')} >/tmp/k && install -o ${a.uid} -g ${a.gid} -m 600 /tmp/k ${home}/.ssh/authorized_keys`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const fleet = await SandboxFleet.create();
const desired = desiredState();
const entries = entriesFor(desired);
const chunks = chunkOperations(operationsFor(entries), 1);
const results = { agent: [] as number[], floor: [] as number[], reapply: [] as number[], inventory: [] as number[] };

async function runAgent(id: string, ops: string) {
  const result = await fleet.runScript(id, agentStub(), { parameters: agentParameters('apply', { ops }), timeoutMs: 600_000 });
  const output = parseApplyOutput(result.stdout.toString());
  if (result.exitCode !== 0) throw new Error(`apply failed on ${id}: ${JSON.stringify(output.results.find((r) => r.status === 'failed') ?? output.errors)}`);
  return output;
}

try {
  for (let run = 0; run < RUNS; run++) {
    const agentId = `i-agent${run}`;
    const floorId = `i-floor${run}`;
    await fleet.createInstance({ id: agentId, tags: { app: 'bench' } });
    await fleet.createInstance({ id: floorId, tags: { app: 'bench' } });
    await fleet.exec(agentId, ['sh', '-c', `mkdir -p /var/lib/rollcall && cat >${AGENT_INSTALL_PATH}`], { input: AGENT_SCRIPT });

    // Alternate which goes first, so that neither always gets the quieter machine.
    const doAgent = async () => results.agent.push((await timed(async () => { for (const ops of chunks) await runAgent(agentId, ops); })).ms);
    const doFloor = async () => {
      // Too long for one argv element (128 KiB): the floor runs from a file in the instance.
      await fleet.exec(floorId, ['sh', '-c', 'cat >/root/floor.sh'], { input: floorScript(entries) });
      const { ms, value } = await timed(() => fleet.exec(floorId, ['sh', '/root/floor.sh'], { timeoutMs: 600_000 }));
      if (value.exitCode !== 0) throw new Error(`the floor script failed: ${value.stderr.toString()}`);
      results.floor.push(ms);
    };
    if (run % 2 === 0) { await doAgent(); await doFloor(); } else { await doFloor(); await doAgent(); }

    const reapply = await timed(async () => { const outputs = []; for (const ops of chunks) outputs.push(await runAgent(agentId, ops)); return outputs; });
    const changed = reapply.value.flatMap((output) => output.results).filter((result) => result.status !== 'unchanged');
    if (changed.length > 0) throw new Error(`the second apply changed ${changed.length} things`);
    results.reapply.push(reapply.ms);

    const inventory = await timed(async () => {
      const pages = [];
      let page = '';
      do {
        const result = await fleet.runScript(agentId, agentStub(), { parameters: agentParameters('inventory', { page }) });
        const parsed = parseInventoryPage(agentId, result.stdout.toString());
        pages.push(parsed);
        page = parsed.nextPage ?? '';
      } while (page);
      return mergeInventoryPages(pages);
    });
    if (inventory.value.users.filter((user) => user.managed).length !== USERS) throw new Error('the inventory missed users');
    results.inventory.push(inventory.ms);
    await fleet.destroyInstance(agentId);
    await fleet.destroyInstance(floorId);
  }

  const agent = median(results.agent);
  const floor = median(results.floor);
  console.log(`${USERS} users with a key and 2 groups each; ${chunks.length} invocations of the stub; ${RUNS} runs, medians`);
  console.log(`agent, create:           ${(agent / 1000).toFixed(2)} s`);
  console.log(`floor (plain sh loop):   ${(floor / 1000).toFixed(2)} s`);
  console.log(`ratio agent / floor:     ${(agent / floor).toFixed(2)}x   (goal ≤ 1.5x)`);
  console.log(`second apply, no change: ${(median(results.reapply) / 1000).toFixed(2)} s   (goal ≤ 1 s)`);
  console.log(`inventory, all pages:    ${(median(results.inventory) / 1000).toFixed(2)} s   (goal ≤ 0.5 s)`);

  if (values.ansible) {
    try {
      execFileSync('ansible-playbook', ['--version'], { stdio: 'ignore' });
    } catch {
      // ansible-core has the user module; Debian's ansible package brings ansible.posix (authorized_key).
      console.log('installing ansible-core and ansible with apt (Debian packages) for the comparison');
      execFileSync('apt-get', ['install', '-y', '-q', 'ansible-core', 'ansible'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    }
    const id = 'i-ansible';
    await fleet.createInstance({ id, tags: { app: 'bench' } });
    const users = desired.users.map((user) => ({ name: user.login, uid: user.uid, comment: user.name, groups: desired.roles.get(user.roles[0]!.role)!.groups.map((g) => g.name), key: user.sshKeys[0] }));
    const groups = [...new Set([...desired.roles.values()].flatMap((role) => role.groups.map((g) => JSON.stringify(g))))].map((g) => JSON.parse(g) as { name: string; gid: number });
    const playbook = [
      { hosts: 'localhost', connection: 'local', gather_facts: false, vars: { bench_users: users, bench_groups: groups }, tasks: [
        { name: 'groups', 'ansible.builtin.group': { name: '{{ item.name }}', gid: '{{ item.gid }}' }, loop: '{{ bench_groups }}' },
        { name: 'users', 'ansible.builtin.user': { name: '{{ item.name }}', uid: '{{ item.uid }}', comment: '{{ item.comment }}', groups: '{{ item.groups }}', shell: '/bin/bash', create_home: true, password: '*' }, loop: '{{ bench_users }}' },
        { name: 'keys', 'ansible.posix.authorized_key': { user: '{{ item.name }}', key: '{{ item.key }}', exclusive: true }, loop: '{{ bench_users }}' },
      ] },
    ];
    await fleet.exec(id, ['sh', '-c', 'cat >/root/bench.yml'], { input: JSON.stringify(playbook) });
    const { ms, value } = await timed(() => fleet.exec(id, ['ansible-playbook', '-i', 'localhost,', '/root/bench.yml'], { timeoutMs: 3_600_000 }));
    if (value.exitCode !== 0) {
      console.log(`ansible failed: ${value.stdout.toString().slice(-2000)}`);
    } else {
      console.log(`ansible-core, create:    ${(ms / 1000).toFixed(2)} s`);
      console.log(`ratio ansible / agent:   ${(ms / agent).toFixed(1)}x   (goal ≥ 10x)`);
    }
  }
} finally {
  await fleet.destroyAll();
}
