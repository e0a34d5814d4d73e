import { describe, expect, it } from 'vitest';
import { appliedEvent, driftEvent, parsePerson, revisionRef } from '../../src/notify/result-events.js';
import type { ResultRecord } from '../../src/source/result-notes.js';

const SHA = 'a'.repeat(40);

describe('result events', () => {
  it('names the approval of a commit that carries one', () => {
    expect(revisionRef({ sha: SHA, subject: 'Onboard E2001 (qianjiu)', trailers: { Approval: ['dingtalk/PI-1'], Request: ['onboard'] } })).toEqual({ sha: SHA, subject: 'Onboard E2001 (qianjiu)', approval: 'dingtalk/PI-1' });
    expect(revisionRef({ sha: SHA, subject: 'By hand', trailers: {} })).toEqual({ sha: SHA, subject: 'By hand' });
  });

  it('names who asked, from the Requested-by trailer an approval commit writes, so that the results can mention them', () => {
    const ref = revisionRef({ sha: SHA, subject: 'Onboard E2001 (qianjiu)', trailers: { Approval: ['lark/INST-9'], 'Requested-by': ['Wang Fang <lark:ou_7d8a6e6d>'] } });
    expect(ref.requester).toEqual({ id: 'ou_7d8a6e6d', name: 'Wang Fang', platform: 'lark' });
    expect(parsePerson('manager0421 <dingtalk:manager0421>')).toEqual({ id: 'manager0421', platform: 'dingtalk' });
    // Commits made by hand may say anything: nobody to mention.
    for (const trailer of ['ops team', 'Someone <someone@example.com>', 'X <slack:U1>', '<dingtalk:>', undefined]) expect(parsePerson(trailer)).toBeUndefined();
  });

  it('lists the logins by what happened to them, only where it happened, and each instance once with its failure', () => {
    const record: ResultRecord = {
      attempt: 'aaaaaaaaaaaa-1',
      at: '2026-11-28T02:00:00.000Z',
      trigger: 'revision',
      generation: 1,
      outcome: 'failed',
      durationMs: 4200,
      instances: {
        'i-web2': { status: 'failed', changes: [{ action: 'create', kind: 'user', name: 'zhaoqian' }], error: 'useradd: group docker does not exist' },
        'i-web1': {
          status: 'applied',
          changes: [
            { action: 'create', kind: 'user', name: 'zhaoqian' },
            { action: 'create', kind: 'group', name: 'devops' },
            { action: 'update', kind: 'user', name: 'lisi', fields: ['shell'] },
            { action: 'lock', kind: 'user', name: 'wangwu' },
          ],
        },
        'i-db1': { status: 'unchanged', changes: [] },
      },
    };
    expect(appliedEvent(record, { sha: SHA, subject: 'x' }, { status: 'http://rollcall/status' })).toEqual({
      kind: 'applied',
      revision: { sha: SHA, subject: 'x' },
      trigger: 'revision',
      durationMs: 4200,
      accounts: { created: ['zhaoqian'], updated: ['lisi'], locked: ['wangwu'], deleted: [] },
      instances: [
        { id: 'i-db1', ok: true },
        { id: 'i-web1', ok: true },
        { id: 'i-web2', ok: false, failedOperation: 'create user zhaoqian', error: 'useradd: group docker does not exist' },
      ],
      links: { status: 'http://rollcall/status' },
    });
  });

  it('lists drift per instance, sorted', () => {
    expect(driftEvent({ 'i-b': [{ action: 'update', kind: 'user', name: 'lisi', fields: ['shell'] }], 'i-a': [] }, { sha: SHA, subject: 'x' }, false)).toEqual({
      kind: 'drift',
      corrected: false,
      revision: { sha: SHA, subject: 'x' },
      instances: [
        { id: 'i-a', changes: [] },
        { id: 'i-b', changes: [{ action: 'update', kind: 'user', name: 'lisi', fields: ['shell'] }] },
      ],
      links: {},
    });
  });
});
