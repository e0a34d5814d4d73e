import type { z } from 'zod';
import { parseSshKey } from '../desired/ssh-key.js';
import { EmpId, Gecos, IsoDate, Login, PlatformUserId, RoleName, type ApprovalsFile, type Flow, type FlowFields } from '../desired/schema.js';
import type { ApprovalEvent, KnownUser, Request } from './types.js';

/**
 * Why an approval makes no request: `unknown-flow` (no flow of approvals.yaml has this process or
 * approval code: ingress acknowledges and ignores it) or `refused` (a value the requester must fix).
 */
export type MapApprovalResult =
  | { ok: true; request: Request }
  | { ok: false; code: 'unknown-flow' | 'refused'; reason: string };

type Field = keyof FlowFields;

/** What each request kind needs from the form (empId only when the flow's subject is a field). */
const REQUIRED: Record<Request['kind'], readonly Field[]> = {
  onboard: ['empId', 'login'],
  offboard: ['empId'],
  grant: ['empId', 'role'],
  revoke: ['empId', 'role'],
};

/**
 * Maps a finished approval to a request through approvals.yaml: finds the flow by platform and
 * process/approval code, reads the flow's fields from the form by their labels, resolves the subject
 * (a form field, or for `subject: originator` the requester's own record), enforces the flow's role
 * allowlist and validates every value with the desired-state schema. Reasons are written for the
 * requester, naming the form field at fault. Pure.
 *
 * @param users the records at the tracked branch's tip (for `subject: originator`)
 * @param roleNames the roles that exist (`roles/<name>.yaml`)
 */
export function requestFromApproval(
  event: ApprovalEvent,
  approvals: ApprovalsFile,
  users: readonly KnownUser[],
  roleNames: ReadonlySet<string>,
): MapApprovalResult {
  const flow = approvals.flows.find((candidate) => candidate.platform === event.platform && flowCode(candidate) === event.processCode);
  if (!flow) {
    return { ok: false, code: 'unknown-flow', reason: `unknown flow: no flow in approvals.yaml has ${event.platform} ${event.platform === 'lark' ? 'approval' : 'process'} code ${event.processCode}` };
  }
  const refuse = (reason: string): MapApprovalResult => ({ ok: false, code: 'refused', reason });
  const label = (field: Field) => `"${flow.fields[field] ?? field}" (${field})`;
  const value = (field: Field): string | undefined => {
    const name = flow.fields[field];
    const raw = name === undefined ? undefined : event.form[name];
    const trimmed = raw?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
  };

  let empId: string;
  if (flow.subject === 'originator') {
    if (flow.request === 'onboard') return refuse('this onboarding flow names the requester as its subject, who already has a record: ask the administrators to fix approvals.yaml (subject: field)');
    const own = users.filter((user) => user.platformIds?.[event.platform] === event.requester.id);
    if (own.length !== 1) {
      return refuse(own.length === 0
        ? `this self-service flow changes the requester's own record, and no user record carries your ${event.platform} id ${event.requester.id}: ask the administrators to add it`
        : `more than one user record carries your ${event.platform} id ${event.requester.id}: ask the administrators to fix the records`);
    }
    empId = own[0]!.empId;
    const named = value('empId');
    if (named !== undefined && named !== empId) {
      return refuse(`this self-service flow only changes your own record (${empId}), not ${named}: file the request about a colleague through their manager's flow`);
    }
  } else {
    const named = value('empId');
    if (named === undefined) return missing(flow, 'empId', label);
    const checked = check(EmpId, named, label('empId'));
    if (!checked.ok) return refuse(checked.reason);
    empId = named;
  }

  for (const field of REQUIRED[flow.request]) {
    if (field !== 'empId' && value(field) === undefined) return missing(flow, field, label);
  }

  const request: Request = { kind: flow.request, empId, flow: `${flow.platform}/${flowCode(flow) ?? ''}` };
  const login = value('login');
  const name = value('name');
  const role = value('role');
  const until = value('until');
  const sshKey = value('sshKey');
  const userId = value('userId');

  if (flow.request === 'onboard') {
    if (login !== undefined) {
      const checked = check(Login, login, label('login'));
      if (!checked.ok) return refuse(checked.reason);
      request.login = login;
    }
    if (name !== undefined) {
      const checked = check(Gecos, name, label('name'));
      if (!checked.ok) return refuse(checked.reason);
      request.name = name;
    }
    if (sshKey !== undefined) {
      const parsed = parseSshKey(sshKey);
      if (!parsed.ok) return refuse(`${label('sshKey')} ${parsed.error}`);
      if (parsed.key.options !== undefined) {
        return refuse(`${label('sshKey')} carries options (${parsed.key.options}): keys from a form are accepted without options; paste only "type key comment"`);
      }
      request.sshKey = [parsed.key.type, parsed.key.blob, parsed.key.comment].filter(Boolean).join(' ');
    }
    if (userId !== undefined) {
      const checked = check(PlatformUserId, userId, label('userId'));
      if (!checked.ok) return refuse(checked.reason);
      const holder = users.find((user) => user.platformIds?.[event.platform] === userId);
      if (holder !== undefined) {
        return refuse(`${label('userId')}: this person already has a record (${holder.empId}, ${holder.login}): changes to existing users go through grant, revoke or offboard`);
      }
      request.platformId = userId;
    }
  }
  if (role !== undefined && flow.request !== 'offboard') {
    const checked = check(RoleName, role, label('role'));
    if (!checked.ok) return refuse(checked.reason);
    if (!flow.roles.includes(role)) {
      return refuse(flow.roles.length === 0
        ? `this flow grants no roles, so ${label('role')} "${role}" cannot be requested through it`
        : `${label('role')} "${role}" is not one this flow may ${flow.request === 'revoke' ? 'revoke' : 'grant'} (${flow.roles.join(', ')})`);
    }
    if (flow.request !== 'revoke' && !roleNames.has(role)) return refuse(`${label('role')} "${role}" does not exist: choose one of ${flow.roles.filter((known) => roleNames.has(known)).join(', ')}`);
    request.role = role;
  }
  if (until !== undefined && (flow.request === 'grant' || flow.request === 'onboard')) {
    const checked = check(IsoDate, until, label('until'));
    if (!checked.ok) return refuse(checked.reason);
    request.until = until;
  }
  return { ok: true, request };
}

/** The code approvals.yaml names a flow by: DingTalk processCode, Lark approvalCode. */
export function flowCode(flow: Flow): string | undefined {
  return flow.platform === 'lark' ? (flow.approvalCode ?? flow.processCode) : (flow.processCode ?? flow.approvalCode);
}

function missing(flow: Flow, field: Field, label: (field: Field) => string): MapApprovalResult {
  const reason = flow.fields[field] === undefined
    ? `this ${flow.request} flow does not say which form field holds the ${field}: ask the administrators to add fields.${field} to approvals.yaml`
    : `the form field ${label(field)} is empty: fill it in and submit the approval again`;
  return { ok: false, code: 'refused', reason };
}

function check(schema: z.ZodType, value: string, label: string): { ok: true } | { ok: false; reason: string } {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true };
  return { ok: false, reason: `${label} "${value}" ${result.error.issues[0]?.message ?? 'is not valid'}` };
}
