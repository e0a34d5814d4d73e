import type {
  AppliedEvent,
  ApprovalRef,
  DigestEvent,
  DriftEvent,
  NotifyEvent,
  PlanEvent,
  ReminderEvent,
  RequestReceivedEvent,
  RequestRefusedEvent,
  StalledEvent,
} from '../../src/notify/events.js';

/** One event of each kind, as the reconciler and the request path would produce them. */

export const SHA = '3f2a9c1e7b5d4a60e8f1c2b3a4d5e6f708192a3b';
export const LINKS = {
  pullRequest: 'https://github.com/acme/access/pull/42',
  status: 'https://rollcall.example.com/status',
  history: 'https://rollcall.example.com/history/E1001',
};

export const APPROVAL: ApprovalRef = {
  platform: 'dingtalk',
  id: 'PROC-7f3a',
  requester: { id: 'manager0421', name: '王芳' },
  approvers: [{ id: 'lead01', name: '李雷' }, { id: 'sec02' }],
};

export const REVISION = { sha: SHA, subject: 'onboard alice (E1001) as devops', approval: 'dingtalk/PROC-7f3a' };

export const received: RequestReceivedEvent = {
  kind: 'request-received',
  approval: APPROVAL,
  request: { kind: 'onboard', empId: 'E1001', login: 'alice', role: 'devops' },
  branch: 'rollcall/dingtalk-PROC-7f3a',
  sha: SHA,
  links: { pullRequest: LINKS.pullRequest, status: LINKS.status },
};

export const refused: RequestRefusedEvent = {
  kind: 'request-refused',
  approval: { ...APPROVAL, id: 'PROC-9b21' },
  reason: 'Employee E1001 already has an account (alice). To change it, file a grant or revoke request.',
};

export const plan: PlanEvent = {
  kind: 'plan',
  revision: REVISION,
  instances: [
    { id: 'i-web1', changes: [{ action: 'create', kind: 'user', name: 'alice' }, { action: 'update', kind: 'group', name: 'devops', fields: ['members'] }] },
    { id: 'i-web2', changes: [{ action: 'create', kind: 'user', name: 'alice' }, { action: 'update', kind: 'group', name: 'devops', fields: ['members'] }] },
    { id: 'i-db1', changes: [{ action: 'create', kind: 'user', name: 'alice' }, { action: 'lock', kind: 'user', name: 'bob_old' }] },
  ],
  links: LINKS,
};

export const applied: AppliedEvent = {
  kind: 'applied',
  revision: REVISION,
  trigger: 'revision',
  durationMs: 83_400,
  accounts: { created: ['alice'], updated: ['carol', 'zhang_san'], locked: ['bob_old'], deleted: [] },
  instances: [
    { id: 'i-db1', ok: false, failedOperation: 'create user alice', error: 'useradd: UID 20001 is not unique' },
    { id: 'i-web1', ok: true },
    { id: 'i-web2', ok: true },
  ],
  links: { status: LINKS.status, history: LINKS.history },
};

export const appliedOk: AppliedEvent = { ...applied, instances: applied.instances.map((instance) => ({ id: instance.id, ok: true })) };

export const drift: DriftEvent = {
  kind: 'drift',
  corrected: false,
  revision: REVISION,
  instances: [
    { id: 'i-web1', changes: [{ action: 'update', kind: 'user', name: 'carol', fields: ['shell', 'groups'] }] },
    { id: 'i-web2', changes: [] },
    { id: 'i-db1', changes: [{ action: 'delete', kind: 'sudoers', name: 'rollcall-devops' }] },
  ],
  links: { status: LINKS.status },
};

export const stalled: StalledEvent = {
  kind: 'stalled',
  reason: 'invalid-revision',
  revision: REVISION,
  message: 'Revision 3f2a9c1e7b5d does not validate: 2 problems.',
  problems: ['users/alice.yaml:4:9: uid 20001 is already used by users/bob.yaml', 'roles/devops.yaml:2:1: unknown key "sudoo"'],
  links: { status: LINKS.status },
};

export const reminder: ReminderEvent = {
  kind: 'reminder',
  empId: 'E1002',
  login: 'carol',
  loses: { role: 'analyst' },
  on: '2026-12-31',
  mention: { id: 'carol01', name: '陈晨' },
};

export const digest: DigestEvent = {
  kind: 'digest',
  events: [received, appliedOk, refused, stalled, reminder],
  from: '2026-11-28T01:00:00Z',
  to: '2026-11-28T01:10:00Z',
};

/** Every kind, for tests that go over all of them. */
export const EVENTS: Record<NotifyEvent['kind'], NotifyEvent> = {
  'request-received': received,
  'request-refused': refused,
  plan,
  applied,
  drift,
  stalled,
  reminder,
  digest,
};

/** An apply to a big fleet: `logins` accounts created, `instances` instances, every tenth failed. */
export function bigApply(logins: number, instances: number): AppliedEvent {
  const names = Array.from({ length: logins }, (_, i) => `user${String(i).padStart(5, '0')}`);
  return {
    ...applied,
    accounts: { created: names, updated: [], locked: [], deleted: [] },
    instances: Array.from({ length: instances }, (_, i) =>
      i % 10 === 3
        ? { id: `i-${String(i).padStart(6, '0')}`, ok: false, failedOperation: `create user user${String(i).padStart(5, '0')}`, error: 'Cloud Assistant: InvocationTimeout after 60 s' }
        : { id: `i-${String(i).padStart(6, '0')}`, ok: true },
    ),
  };
}
