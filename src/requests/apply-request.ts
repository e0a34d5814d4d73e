import { isMap, isScalar, isSeq, parse, parseDocument, stringify, type Node } from 'yaml';
import type { Request } from './types.js';

/** What the change is made against: the repository at the commit's parent. */
export interface UserFileContext {
  /** policy.uidRange of fleet.yaml. */
  uidRange: readonly [number, number];
  /** Every uid a user file holds, whatever its state (an offboarded user's uid is never reused). */
  usedUids: ReadonlySet<number>;
  /** Login → empId of every user file. */
  logins: ReadonlyMap<string, string>;
  /** `<platform>/<id>` → empId of every user file with `ids` (an onboarding's id must be new). */
  platformIds?: ReadonlyMap<string, string>;
}

/** The new text of `users/<empId>.yaml`, or why the request cannot change it. */
export type UserFileChange =
  | { ok: true; text: string; login: string; uid?: number }
  | { ok: false; reason: string };

interface Grant {
  role: string;
  until?: string;
}

/**
 * The change one request makes to one user file, as text: `current` is the file at the branch tip
 * (undefined when there is none). onboard writes a new file with the lowest free uid; offboard sets
 * `state: absent`; grant and revoke add, re-date or remove one role. An existing file is edited in
 * place (only the `roles` or `state` text changes), so a reviewer's diff shows that change alone and
 * comments stay. Pure.
 */
export function applyRequest(request: Request, current: string | undefined, context: UserFileContext): UserFileChange {
  if (request.kind === 'onboard') return onboard(request, current, context);
  if (current === undefined) {
    return { ok: false, reason: `there is no user ${request.empId} (users/${request.empId}.yaml) to ${request.kind}: check the employee id` };
  }
  const document = parseDocument(current);
  if (document.errors.length > 0 || !isMap(document.contents)) {
    return { ok: false, reason: `users/${request.empId}.yaml is not a valid YAML mapping: it must be fixed in the repository first` };
  }
  const login = String(document.get('login') ?? '');
  const who = `${request.empId} (${login})`;
  const absent = document.get('state') === 'absent';

  if (request.kind === 'offboard') {
    if (absent) return { ok: false, reason: `${who} is already offboarded (state: absent): nothing to change` };
    return { ok: true, text: withStateAbsent(current), login };
  }
  if (absent) return { ok: false, reason: `${who} is offboarded (state: absent): the roles of an offboarded user are not changed` };
  const role = request.role;
  if (role === undefined) return { ok: false, reason: `a ${request.kind} request needs a role` };
  const roles = document.get('roles', true) as Node | undefined;
  if (roles !== undefined && !isSeq(roles)) return { ok: false, reason: `users/${request.empId}.yaml: roles is not a list: it must be fixed in the repository first` };
  const items = roles?.items ?? [];
  const held = items.findIndex((item) => grantOf(item)?.role === role);

  let wanted: Grant[];
  let text: string;
  if (request.kind === 'revoke') {
    if (held < 0) return { ok: false, reason: `${who} does not have the role ${role}: nothing to revoke` };
    wanted = items.map(grantOf).filter((grant): grant is Grant => grant !== undefined && grant.role !== role);
    text = roles?.flow ? replaceFlowItems(current, roles.range!, items.filter((_, index) => index !== held).map((item) => sourceOf(current, item))) : removeBlockItems(current, items.filter((item) => grantOf(item)?.role === role));
  } else {
    const grant: Grant = request.until === undefined ? { role } : { role, until: request.until };
    if (held >= 0) {
      const before = grantOf(items[held]);
      if (before?.until === grant.until) return { ok: false, reason: `${who} already has the role ${role}${grant.until ? ` until ${grant.until}` : ''}: nothing to change` };
      // A new end date (or none) replaces the old one, in the same place.
      wanted = items.map((item, index) => (index === held ? grant : grantOf(item))).filter((entry): entry is Grant => entry !== undefined);
      const range = (items[held] as Node).range!;
      text = `${current.slice(0, range[0])}${renderGrant(grant)}${current.slice(range[1])}`;
    } else {
      wanted = [...items.map(grantOf).filter((entry): entry is Grant => entry !== undefined), grant];
      if (roles === undefined) text = `${current}${current === '' || current.endsWith('\n') ? '' : '\n'}roles: [${renderGrant(grant)}]\n`;
      else if (roles.flow) text = replaceFlowItems(current, roles.range!, [...items.map((item) => sourceOf(current, item)), renderGrant(grant)]);
      else text = appendBlockItem(current, items.at(-1) as Node, renderGrant(grant));
    }
  }
  // The text edit is checked against the intended list; a layout it does not foresee is re-rendered whole instead.
  if (!sameGrants(text, wanted)) {
    document.set('roles', document.createNode(wanted.map((grant) => (grant.until === undefined ? grant.role : grant))));
    text = document.toString({ lineWidth: 0, flowCollectionPadding: false });
  }
  return { ok: true, text, login };
}

/** The lowest uid in `range` that no user file holds, or undefined when the range is full. */
export function lowestFreeUid(range: readonly [number, number], used: ReadonlySet<number>): number | undefined {
  for (let uid = range[0]; uid <= range[1]; uid += 1) if (!used.has(uid)) return uid;
  return undefined;
}

/**
 * The file's text with `state: absent`: only the state line changes (or one is added), comments and
 * layout kept.
 */
export function withStateAbsent(text: string): string {
  const line = /^state:[ \t]*[^\n#]*?([ \t]*#[^\n]*)?$/m;
  if (line.test(text)) return text.replace(line, (_match, comment: string | undefined) => `state: absent${comment ?? ''}`);
  return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}state: absent\n`;
}

function onboard(request: Request, current: string | undefined, context: UserFileContext): UserFileChange {
  if (current !== undefined) {
    return { ok: false, reason: `${request.empId} already has a record (users/${request.empId}.yaml): changes to existing users go through grant, revoke or offboard` };
  }
  const login = request.login;
  if (login === undefined) return { ok: false, reason: 'an onboard request needs a login' };
  const holder = context.logins.get(login);
  if (holder !== undefined) return { ok: false, reason: `the login ${login} already belongs to ${holder}: choose another login` };
  // The flow's platform: Request.flow is `<platform>/<code>`.
  const platform = request.flow.slice(0, request.flow.indexOf('/'));
  if (request.platformId !== undefined) {
    if (platform === '') return { ok: false, reason: `an onboard request with a platform id needs the flow's platform (flow "${request.flow}")` };
    const owner = context.platformIds?.get(`${platform}/${request.platformId}`);
    if (owner !== undefined) return { ok: false, reason: `the ${platform} user ${request.platformId} already has a record (${owner}): changes to existing users go through grant, revoke or offboard` };
  }
  const uid = lowestFreeUid(context.uidRange, context.usedUids);
  if (uid === undefined) {
    return { ok: false, reason: `no uid is free in policy.uidRange [${context.uidRange.join(', ')}]: the administrators must widen it in fleet.yaml` };
  }
  const grants: Grant[] = request.role === undefined ? [] : [request.until === undefined ? { role: request.role } : { role: request.role, until: request.until }];
  // Laid out like the examples in desired-state/users/.
  const lines = [
    `empId: ${scalar(request.empId)}`,
    `login: ${scalar(login)}`,
    `uid: ${uid}`,
    ...(request.name !== undefined ? [`name: ${scalar(request.name)}`] : []),
    `roles: [${grants.map(renderGrant).join(', ')}]`,
    ...(request.sshKey !== undefined ? ['sshKeys:', `  - ${JSON.stringify(request.sshKey)}`] : []),
    ...(request.platformId !== undefined ? [`ids: { ${platform}: ${JSON.stringify(request.platformId)} }`] : []),
  ];
  return { ok: true, text: `${lines.join('\n')}\n`, login, uid };
}

/** One value as a YAML scalar: plain where that reads back as the same string, quoted otherwise. */
function scalar(value: string): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

function renderGrant(grant: Grant): string {
  return grant.until === undefined ? scalar(grant.role) : `{ role: ${scalar(grant.role)}, until: ${scalar(grant.until)} }`;
}

function grantOf(item: unknown): Grant | undefined {
  if (isScalar(item)) return { role: String(item.value) };
  if (isMap(item)) {
    const until = item.get('until');
    return { role: String(item.get('role') ?? ''), ...(until !== undefined && until !== null ? { until: String(until) } : {}) };
  }
  return undefined;
}

function sourceOf(text: string, item: unknown): string {
  const range = (item as Node).range;
  return range ? text.slice(range[0], range[1]) : '';
}

/** `[a, b]` in place of a flow list's text. */
function replaceFlowItems(text: string, range: readonly number[], items: readonly string[]): string {
  return `${text.slice(0, range[0])}[${items.join(', ')}]${text.slice(range[1])}`;
}

/** Removes the lines of block-list items (`  - x   # comment`). */
function removeBlockItems(text: string, items: readonly unknown[]): string {
  let result = text;
  for (const item of [...items].reverse()) {
    const range = (item as Node).range!;
    const start = result.lastIndexOf('\n', range[0] - 1) + 1;
    const newline = result.indexOf('\n', range[1]);
    result = result.slice(0, start) + result.slice(newline < 0 ? result.length : newline + 1);
  }
  return result;
}

/** A new block-list item after `last`, indented like it. */
function appendBlockItem(text: string, last: Node, rendered: string): string {
  const range = last.range!;
  const lineStart = text.lastIndexOf('\n', range[0] - 1) + 1;
  const prefix = text.slice(lineStart, range[0]);
  const newline = text.indexOf('\n', range[1]);
  const end = newline < 0 ? text.length : newline + 1;
  const before = text.slice(0, end);
  return `${before}${before.endsWith('\n') ? '' : '\n'}${prefix}${rendered}\n${text.slice(end)}`;
}

function sameGrants(text: string, wanted: readonly Grant[]): boolean {
  try {
    const roles = (parse(text) as { roles?: unknown }).roles;
    if (!Array.isArray(roles) || roles.length !== wanted.length) return false;
    return roles.every((entry: unknown, index) => {
      const grant = typeof entry === 'string' ? { role: entry } : (entry as Grant);
      return grant.role === wanted[index]!.role && grant.until === wanted[index]!.until;
    });
  } catch {
    return false;
  }
}
