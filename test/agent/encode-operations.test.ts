import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { agentStub, CLOUD_ASSISTANT_MAX_BYTES, invocationSize } from '../../src/agent/agent-script.js';
import { chunkOperations, encodeOperations, operationsFor, shadowExpiryDay } from '../../src/agent/encode-operations.js';
import type { PlanEntry, UserAttributes } from '../../src/plan/types.js';
import { randomEd25519Key } from '../fixtures/random-ssh-key.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN8QEjW/WLKUJCu73SJqUCM9t/kLvRAqofrJN26bQsz1 zhangsan@laptop';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const decode = (ops: string) => gunzipSync(Buffer.from(ops, 'base64')).toString('utf8');

function created(login: string, uid: number, extra: Partial<UserAttributes> = {}): PlanEntry {
  return {
    action: 'create',
    kind: 'user',
    name: login,
    after: { uid, gid: uid, name: 'Zhang San', home: `/home/${login}`, shell: '/bin/bash', groups: ['devops', 'docker'], sshKeys: [KEY], locked: false, expires: null, ...extra },
  };
}

describe('operationsFor', () => {
  it('orders groups, users, sudoers, then offboarding, then removals', () => {
    const lines = operationsFor([
      { action: 'delete', kind: 'group', name: 'old' },
      { action: 'delete', kind: 'sudoers', name: 'rollcall-old' },
      { action: 'lock', kind: 'user', name: 'gone', changes: {} },
      { action: 'create', kind: 'sudoers', name: 'rollcall-dev', after: { content: '%dev ALL=(ALL) ALL\n' } },
      created('zhangsan', 20001),
      { action: 'create', kind: 'group', name: 'dev', after: { gid: 3001 } },
      { action: 'update', kind: 'group', name: 'ops', changes: { gid: { before: 3002, after: 3003 } } },
      { action: 'delete', kind: 'user', name: 'left' },
    ]);
    expect(lines.map((line) => line.split('\t').slice(0, 2).join(' '))).toEqual([
      'group dev', 'group ops', 'user zhangsan', 'sudoers rollcall-dev', 'lock gone', 'delete left', 'group-delete old', 'sudoers-delete rollcall-old',
    ]);
    expect(lines[1]).toBe('group\tops\t3003');
    expect(lines[3]).toBe(`sudoers\trollcall-dev\t${b64('%dev ALL=(ALL) ALL\n')}`);
  });

  it('sets every attribute of a new user, free text as base64', () => {
    const [line] = operationsFor([created('zhangsan', 20001, { expires: '2027-03-01', name: 'Zhang San: "x" $(y)' })]);
    expect(line!.split('\t')).toEqual([
      'user', 'zhangsan', '=20001', '=20001', `=${b64('Zhang San: "x" $(y)')}`, '=/home/zhangsan', '=/bin/bash', '=devops,docker', `=${b64(`${KEY}\n`)}`, '=0',
      `=${shadowExpiryDay('2027-03-01')}`, 'create',
    ]);
  });

  it('sets only what changed on an update, and everything on an adopt', () => {
    const [update, adopt] = operationsFor([
      { action: 'update', kind: 'user', name: 'lisi', changes: { groups: { before: ['devops'], after: [] }, locked: { before: true, after: false } } },
      { action: 'update', kind: 'user', name: 'weisi', changes: { uid: { before: 1001, after: 20012 } }, adopt: true, after: (created('weisi', 20012) as { after: UserAttributes }).after },
    ]);
    expect(update).toBe('user\tlisi\t-\t-\t-\t-\t-\t=\t-\t=0\t-\tupdate');
    expect(adopt!.split('\t')[2]).toBe('=20012');
    expect(adopt!.split('\t').at(-1)).toBe('adopt');
  });

  it('refuses a field with a tab or newline rather than send a line the agent would misread', () => {
    expect(() => operationsFor([{ action: 'lock', kind: 'user', name: 'a\tb', changes: {} }])).toThrow(/tab, newline or NUL/);
  });
});

describe('shadowExpiryDay', () => {
  it('is the day after the last day of access, in days since 1970-01-01; -1 for none', () => {
    expect(shadowExpiryDay('1970-01-01')).toBe(1);
    expect(shadowExpiryDay('2027-03-01')).toBe(Date.UTC(2027, 2, 2) / 86_400_000);
    expect(shadowExpiryDay(null)).toBe(-1);
  });
});

describe('encodeOperations and chunkOperations', () => {
  it('encodes a header with the generation, then the lines, as base64 of gzip', () => {
    expect(decode(encodeOperations(['lock\tx'], 42))).toBe('rollcall-ops\t1\t42\nlock\tx\n');
    expect(encodeOperations([], 1)).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('keeps every invocation of the stub inside the smaller Cloud Assistant limit, with a useful chunk each', () => {
    // Real keys are random bytes: they do not compress, so each user costs its whole key.
    const lines = operationsFor(Array.from({ length: 500 }, (_, i) => created(`user${i}`, 20000 + i, { sshKeys: [randomEd25519Key(`user${i}@laptop`)] })));
    const chunks = chunkOperations(lines, 7);
    for (const ops of chunks) expect(invocationSize(agentStub(), { mode: 'apply', ops, page: '' })).toBeLessThanOrEqual(CLOUD_ASSISTANT_MAX_BYTES);
    const decoded = chunks.map((ops) => decode(ops).trimEnd().split('\n'));
    expect(decoded.every((chunk) => chunk[0] === 'rollcall-ops\t1\t7')).toBe(true);
    expect(decoded.flatMap((chunk) => chunk.slice(1))).toEqual(lines);
    // A useful chunk: at least 60 new users with a key each per invocation under 16 KB.
    expect(decoded[0]!.length - 1).toBeGreaterThanOrEqual(60);
  });

  it('leaves most of the limit to operations: the stub is small', () => {
    expect(invocationSize(agentStub(), { mode: 'apply', ops: '', page: '' })).toBeLessThan(1024);
  });

  it('says when one operation alone is too large', () => {
    const huge = operationsFor([created('big', 20001, { sshKeys: Array.from({ length: 400 }, () => KEY.replace('zhangsan', Math.random().toString(36))) })]);
    expect(() => chunkOperations(huge, 1, agentStub(), 4096)).toThrow(/too large for a Cloud Assistant invocation/);
  });
});
