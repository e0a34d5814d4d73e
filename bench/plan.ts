/**
 * How fast is the planner? Plans 10,000 users in 200 roles against 2,000 instances (about 50
 * accounts each, 10% drift), and compares the time with JSON.parse of the same snapshot, measured
 * in the same process: the machines are shared and noisy, so the ratio is the figure that counts.
 *
 *   npm run bench            (node --import tsx --expose-gc bench/plan.ts)
 *
 * Goal (issue 2): plan ≤ 2× the parse time, peak memory ≤ 1 GiB.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DesiredState, Role, User } from '../src/desired/types.js';
import { keyFingerprint } from '../src/desired/ssh-key.js';
import { plan } from '../src/plan/build-plan.js';
import { sudoersFile } from '../src/plan/desired-on-instance.js';
import { parseObservedState, type ObservedInstance, type ObservedUser } from '../src/plan/observed-state.js';
import { seededRandom } from '../test/reliability/seeded-random.js';

const USERS = 10_000;
const ROLES = 200;
const INSTANCES = 2_000;
const HOSTGROUPS = 200;
const DRIFT = 0.1;
const RUNS = 7;
const TODAY = new Date('2026-11-27T04:00:00Z');

/** Seeded (mulberry32, as the reliability tests use): the same fleet on every run. */
function random(seed: number): () => number {
  const seeded = seededRandom(seed);
  return () => seeded.next();
}

function buildDesired(rand: () => number): DesiredState {
  const hostgroups: DesiredState['fleet']['hostgroups'] = {};
  for (let h = 0; h < HOSTGROUPS; h++) hostgroups[`hg${h}`] = { tags: { svc: `hg${h}` } };
  const roles = new Map<string, Role>();
  for (let r = 0; r < ROLES; r++) {
    const name = `role${r}`;
    roles.set(name, {
      name,
      hostgroups: r % 10 === 0 ? [`hg${r}`, `hg${(r + 1) % HOSTGROUPS}`] : [`hg${r}`],
      groups: [{ name: `team${r}`, gid: 3000 + r }, ...(r % 4 === 0 ? [{ name: 'docker' }] : [])],
      sudo: r % 2 === 0 ? [`ALL=(root) NOPASSWD: /usr/bin/systemctl restart svc${r}`] : [],
    });
  }
  const users: User[] = [];
  for (let u = 0; u < USERS; u++) {
    const grants = [{ role: `role${u % ROLES}` }];
    if (rand() < 0.1) grants.push({ role: `role${Math.floor(rand() * ROLES)}` });
    const login = `user${u}`;
    users.push({
      empId: `E${100000 + u}`,
      login,
      uid: 20000 + u,
      name: `User ${u}`,
      roles: grants.filter((grant, index) => grants.findIndex((g) => g.role === grant.role) === index),
      sshKeys: [`ssh-ed25519 ${sshBlob()} ${login}@laptop`],
      shell: '/bin/bash',
      state: 'present',
      adopt: false,
    });
  }
  return {
    fleet: {
      region: 'cn-hangzhou',
      hostgroups,
      policy: { uidRange: [20000, 39999], offboard: 'lock', maxDeletions: 100_000, drift: 'correct', interval: '10m', timezone: 'Asia/Shanghai', privilegedGroups: ['docker'], remindBefore: 7 },
    },
    roles,
    users,
    approvals: { flows: [], channels: {} },
    revision: 'bench',
  };
}

/** A well-formed ed25519 public key blob: type string then a random 32-byte key. */
function sshBlob(): string {
  const type = Buffer.from('ssh-ed25519');
  const key = randomBytes(32);
  const blob = Buffer.alloc(4 + type.length + 4 + key.length);
  blob.writeUInt32BE(type.length, 0);
  type.copy(blob, 4);
  blob.writeUInt32BE(key.length, 4 + type.length);
  key.copy(blob, 8 + type.length);
  return blob.toString('base64');
}

/** What the agents would report: the desired accounts, 10% of them drifted, plus system accounts. */
function buildSnapshot(desired: DesiredState, rand: () => number): string {
  const byHostgroup = new Map<string, { user: User; groups: Set<string> }[]>();
  for (const user of desired.users) {
    for (const grant of user.roles) {
      const role = desired.roles.get(grant.role)!;
      for (const hostgroup of role.hostgroups) {
        let list = byHostgroup.get(hostgroup);
        if (!list) byHostgroup.set(hostgroup, (list = []));
        let entry = list.find((e) => e.user === user);
        if (!entry) list.push((entry = { user, groups: new Set() }));
        for (const group of role.groups) entry.groups.add(group.name);
      }
    }
  }
  const system: ObservedUser[] = ['root', 'bin', 'daemon', 'adm', 'sshd', 'chrony', 'ecs-assist-user', 'admin'].map((login, index) => ({
    login,
    uid: index === 7 ? 1000 : index,
    managed: false,
  }));
  const instances: Record<string, ObservedInstance> = {};
  for (let i = 0; i < INSTANCES; i++) {
    const hostgroup = `hg${i % HOSTGROUPS}`;
    const users: ObservedUser[] = [...system];
    const groupGids = new Map<string, number>();
    for (const { user, groups } of byHostgroup.get(hostgroup) ?? []) {
      const roll = rand();
      if (roll < DRIFT / 4) continue; // missing: will be created
      const observed: ObservedUser = {
        login: user.login,
        uid: user.uid,
        gid: user.uid,
        name: user.name,
        home: `/home/${user.login}`,
        shell: roll < DRIFT / 2 ? '/bin/sh' : user.shell,
        groups: [...groups].sort(),
        sshKeys: user.sshKeys.map(keyFingerprint),
        locked: false,
        expires: null,
        managed: true,
      };
      if (roll >= DRIFT / 2 && roll < (3 * DRIFT) / 4) observed.groups = observed.groups!.slice(1);
      if (roll >= (3 * DRIFT) / 4 && roll < DRIFT) observed.sshKeys = [`sha256:${'0'.repeat(64)}`];
      users.push(observed);
      for (const name of groups) {
        const role = [...desired.roles.values()].find((r) => r.groups.some((g) => g.name === name));
        groupGids.set(name, role?.groups.find((g) => g.name === name)?.gid ?? 999);
      }
    }
    // Leavers still on the instance: to be locked.
    const leavers = Math.floor(rand() * 3);
    for (let l = 0; l < leavers; l++) {
      const uid = 40000 + i * 3 + l;
      users.push({ login: `gone${uid}`, uid, gid: uid, name: 'Left', home: `/home/gone${uid}`, shell: '/bin/bash', groups: [], sshKeys: [], locked: false, expires: null, managed: true });
    }
    const sudoers: Record<string, string> = {};
    for (const role of desired.roles.values()) {
      if (!role.hostgroups.includes(hostgroup)) continue;
      const file = sudoersFile(role);
      if (file) sudoers[file.name] = file.content;
    }
    instances[`i-bench${String(i).padStart(6, '0')}`] = {
      tags: { svc: hostgroup, env: 'prod' },
      users,
      groups: [...groupGids].map(([name, gid]) => ({ name, gid, members: [], managed: gid !== 999 })),
      sudoers,
    };
  }
  return JSON.stringify({ instances });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

const rand = random(42);
const desired = buildDesired(rand);
const snapshot = buildSnapshot(desired, rand);
const parsed = parseObservedState('bench', snapshot);
if (!parsed.ok) throw new Error(`the generated snapshot is invalid: ${parsed.problems[0]?.message}`);
const observed = parsed.observed;

const parseTimes: number[] = [];
const planTimes: number[] = [];
let result = plan(desired, observed, desired.fleet.policy, TODAY); // warm-up
for (let run = 0; run < RUNS; run++) {
  gc();
  let start = performance.now();
  JSON.parse(snapshot);
  parseTimes.push(performance.now() - start);
  gc();
  start = performance.now();
  result = plan(desired, observed, desired.fleet.policy, TODAY);
  planTimes.push(performance.now() - start);
}

const accounts = Object.values(observed.instances).reduce((sum, instance) => sum + instance.users.length, 0);
const parseMs = median(parseTimes);
const planMs = median(planTimes);
const peakMiB = process.resourceUsage().maxRSS / 1024;
console.log(`fleet: ${USERS} users, ${ROLES} roles, ${INSTANCES} instances, ${accounts} observed accounts (${(accounts / INSTANCES).toFixed(1)} per instance), snapshot ${(snapshot.length / 2 ** 20).toFixed(1)} MiB`);
console.log(`plan: ${result.summary.create} create, ${result.summary.update} update, ${result.summary.lock} lock, ${result.summary.delete} delete, ${result.errors.length} errors`);
console.log(`JSON.parse of the snapshot: ${parseMs.toFixed(1)} ms (median of ${RUNS})`);
console.log(`plan():                     ${planMs.toFixed(1)} ms (median of ${RUNS})`);
console.log(`ratio plan / parse:         ${(planMs / parseMs).toFixed(2)}x   (goal ≤ 2x)`);
console.log(`peak RSS:                   ${peakMiB.toFixed(0)} MiB   (goal ≤ 1024 MiB)`);
