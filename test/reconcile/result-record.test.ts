import { describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../src/executors/types.js';
import type { Plan, PlanEntry, UserAttributes } from '../../src/plan/types.js';
import { changeLine, resultRecord } from '../../src/reconcile/result-record.js';

const SHA = 'e'.repeat(40);
const STARTED = Date.parse('2026-03-01T08:00:00.000Z');
const FINISHED = STARTED + 4_250;

const ZHANGSAN: UserAttributes = { uid: 20001, gid: 20001, name: 'Zhang San', home: '/home/zhangsan', shell: '/bin/bash', groups: ['devops'], sshKeys: [], locked: false, expires: null };

const CREATE_GROUP: PlanEntry = { action: 'create', kind: 'group', name: 'devops', after: { gid: 3001 } };
const CREATE_USER: PlanEntry = { action: 'create', kind: 'user', name: 'zhangsan', after: ZHANGSAN };
const UPDATE_USER: PlanEntry = {
  action: 'update',
  kind: 'user',
  name: 'lisi',
  changes: { shell: { before: '/bin/sh', after: '/bin/bash' }, groups: { before: [], after: ['devops'] } },
};
const LOCK_USER: PlanEntry = { action: 'lock', kind: 'user', name: 'wangwu', changes: { locked: { before: false, after: true }, sshKeys: { before: ['k'], after: [] } } };
const DELETE_SUDOERS: PlanEntry = { action: 'delete', kind: 'sudoers', name: 'rollcall-old' };

function plan(instances: Plan['instances']): Plan {
  return { revision: SHA, summary: { create: 0, update: 0, lock: 0, delete: 0 }, instances, errors: [], warnings: [] };
}

function record(input: { plan: Plan; result: ApplyResult | undefined; instances: string[] }) {
  return resultRecord({ attempt: `${SHA.slice(0, 12)}-1`, trigger: 'revision', generation: 1_772_352_000, startedAt: STARTED, finishedAt: FINISHED, ...input });
}

describe('changeLine', () => {
  it('names the action, kind and name; fields only on updates, sorted', () => {
    expect(changeLine(CREATE_GROUP)).toEqual({ action: 'create', kind: 'group', name: 'devops' });
    expect(changeLine(CREATE_USER)).toEqual({ action: 'create', kind: 'user', name: 'zhangsan' });
    expect(changeLine(UPDATE_USER)).toEqual({ action: 'update', kind: 'user', name: 'lisi', fields: ['groups', 'shell'] });
    // A lock changes attributes too, but the line says "lock", not which fields.
    expect(changeLine(LOCK_USER)).toEqual({ action: 'lock', kind: 'user', name: 'wangwu' });
    expect(changeLine(DELETE_SUDOERS)).toEqual({ action: 'delete', kind: 'sudoers', name: 'rollcall-old' });
  });

  it('an update with no changed fields has no fields key', () => {
    expect(changeLine({ action: 'update', kind: 'user', name: 'lisi', changes: {} })).toEqual({ action: 'update', kind: 'user', name: 'lisi' });
  });
});

describe('resultRecord', () => {
  it('carries the attempt, trigger, generation, finish time and duration', () => {
    const made = record({ plan: plan({}), result: { instances: [] }, instances: [] });
    expect(made).toEqual({
      attempt: `${SHA.slice(0, 12)}-1`,
      at: '2026-03-01T08:00:04.250Z',
      trigger: 'revision',
      generation: 1_772_352_000,
      outcome: 'no-changes',
      durationMs: 4_250,
      instances: {},
    });
  });

  it('applied: every instance with entries applied, the others unchanged', () => {
    const made = record({
      plan: plan({ 'i-web1': [CREATE_GROUP, CREATE_USER], 'i-web2': [UPDATE_USER] }),
      result: {
        instances: [
          { instance: 'i-web1', status: 'applied', results: [], exitCode: 0, durationMs: 830 },
          { instance: 'i-web2', status: 'applied', results: [], exitCode: 0, durationMs: 410 },
        ],
      },
      instances: ['i-web1', 'i-web2', 'i-db1'],
    });
    expect(made.outcome).toBe('applied');
    expect(made.instances).toEqual({
      'i-web1': { status: 'applied', changes: [changeLine(CREATE_GROUP), changeLine(CREATE_USER)], exitCode: 0, durationMs: 830 },
      'i-web2': { status: 'applied', changes: [{ action: 'update', kind: 'user', name: 'lisi', fields: ['groups', 'shell'] }], exitCode: 0, durationMs: 410 },
      'i-db1': { status: 'unchanged', changes: [] },
    });
  });

  it('no-changes: nothing planned anywhere', () => {
    const made = record({ plan: plan({}), result: { instances: [] }, instances: ['i-web1', 'i-web2'] });
    expect(made.outcome).toBe('no-changes');
    expect(made.instances).toEqual({ 'i-web1': { status: 'unchanged', changes: [] }, 'i-web2': { status: 'unchanged', changes: [] } });
  });

  it('failed: the error is the failed operation when the executor gave no message', () => {
    const made = record({
      plan: plan({ 'i-web1': [CREATE_GROUP, CREATE_USER] }),
      result: {
        instances: [
          {
            instance: 'i-web1',
            status: 'failed',
            exitCode: 1,
            durationMs: 520,
            results: [
              { op: 'group-create', kind: 'group', name: 'devops', status: 'changed' },
              { op: 'user-create', kind: 'user', name: 'zhangsan', status: 'failed', error: 'useradd: uid 20001 is not unique' },
            ],
          },
        ],
      },
      instances: ['i-web1'],
    });
    expect(made.outcome).toBe('failed');
    expect(made.instances['i-web1']).toEqual({
      status: 'failed',
      changes: [changeLine(CREATE_GROUP), changeLine(CREATE_USER)],
      exitCode: 1,
      durationMs: 520,
      error: 'user-create user zhangsan: useradd: uid 20001 is not unique',
    });
  });

  it('failed: the executor message wins over the operation; neither gives "failed"', () => {
    const made = record({
      plan: plan({ 'i-web1': [CREATE_USER], 'i-web2': [CREATE_USER], 'i-web3': [CREATE_USER] }),
      result: {
        instances: [
          { instance: 'i-web1', status: 'failed', results: [{ op: 'user-create', kind: 'user', name: 'zhangsan', status: 'failed', error: 'x' }], message: 'Cloud Assistant is not running there' },
          { instance: 'i-web2', status: 'failed', results: [] },
          { instance: 'i-web3', status: 'failed', results: [{ op: 'user-create', kind: 'user', name: 'zhangsan', status: 'failed' }] },
        ],
      },
      instances: ['i-web1', 'i-web2', 'i-web3'],
    });
    expect(made.instances['i-web1']?.error).toBe('Cloud Assistant is not running there');
    expect(made.instances['i-web2']?.error).toBe('failed');
    expect(made.instances['i-web3']?.error).toBe('user-create user zhangsan: failed');
    // Without exit code or duration from the executor, the record has neither key.
    expect(made.instances['i-web2']).not.toHaveProperty('exitCode');
    expect(made.instances['i-web2']).not.toHaveProperty('durationMs');
  });

  it('skipped: an instance the executor did not start is failed overall, with its message', () => {
    const made = record({
      plan: plan({ 'i-web1': [CREATE_USER], 'i-web2': [CREATE_USER] }),
      result: {
        instances: [
          { instance: 'i-web1', status: 'applied', results: [], exitCode: 0 },
          { instance: 'i-web2', status: 'skipped', results: [], message: 'not started: the error budget was spent' },
        ],
        stopped: 'stopped after 3 failed instances',
      },
      instances: ['i-web1', 'i-web2'],
    });
    expect(made.outcome).toBe('failed');
    expect(made.instances['i-web2']).toEqual({ status: 'skipped', changes: [changeLine(CREATE_USER)], error: 'not started: the error budget was spent' });
  });

  it('an instance with entries but no result (no apply ran) is skipped, and the outcome failed', () => {
    const made = record({ plan: plan({ 'i-web1': [LOCK_USER, DELETE_SUDOERS] }), result: undefined, instances: ['i-web1', 'i-web2'] });
    expect(made.outcome).toBe('failed');
    expect(made.instances).toEqual({
      'i-web1': { status: 'skipped', changes: [{ action: 'lock', kind: 'user', name: 'wangwu' }, { action: 'delete', kind: 'sudoers', name: 'rollcall-old' }] },
      'i-web2': { status: 'unchanged', changes: [] },
    });
  });

  it('an applied instance carries no error key', () => {
    const made = record({ plan: plan({ 'i-web1': [CREATE_USER] }), result: { instances: [{ instance: 'i-web1', status: 'applied', results: [], message: 'ignored' }] }, instances: ['i-web1'] });
    expect(made.instances['i-web1']).toEqual({ status: 'applied', changes: [changeLine(CREATE_USER)] });
  });
});
