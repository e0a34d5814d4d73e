import { RollcallError } from '../config/errors.js';
import type { ApprovalEvent, PlatformPerson, Request } from './types.js';

/** An approval id that can name a branch: letters, digits, `_` and `-`, up to 128. */
export const APPROVAL_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

const ROLLCALL_IDENTITY = { name: 'Rollcall', email: 'rollcall@localhost' };
const KIND_TITLES: Record<Request['kind'], string> = { onboard: 'Onboard', offboard: 'Offboard', grant: 'Grant', revoke: 'Revoke' };

/** The trailer naming the approval flow (`<platform>/<process code>`) whose group hears the results. */
export const FLOW_TRAILER = 'Flow';

/** `rollcall/<platform>-<approval id>`: the branch of one approval. */
export function approvalBranch(event: Pick<ApprovalEvent, 'platform' | 'approvalId'>): string {
  return `rollcall/${event.platform}-${event.approvalId}`;
}

/** `<platform>/<approval id>`: the value of the `Approval:` trailer, and the key of exactly-once. */
export function approvalKey(event: Pick<ApprovalEvent, 'platform' | 'approvalId'>): string {
  return `${event.platform}/${event.approvalId}`;
}

/** The commit message: `<Request> <empId> (<login>)`, the form, then the trailers. */
export function approvalMessage(event: ApprovalEvent, request: Request, login: string): string {
  const subject = `${KIND_TITLES[request.kind]} ${request.empId} (${login})`;
  const form = Object.entries(event.form).map(([label, value]) => `${oneLine(label)}: ${oneLine(value)}`);
  const trailers = [
    `Approval: ${approvalKey(event)}`,
    `Requested-by: ${person(event.platform, event.requester)}`,
    ...event.approvers.map((approver) => `Approved-by: ${person(event.platform, approver)}`),
    `Request: ${request.kind}`,
    // The flow of approvals.yaml: its group hears how the change was applied.
    `${FLOW_TRAILER}: ${event.platform}/${oneLine(event.processCode)}`,
  ];
  return [subject, ...(form.length > 0 ? [form.join('\n')] : []), trailers.join('\n')].join('\n\n') + '\n';
}

/** Throws when the approval id cannot name a branch. */
export function checkApprovalId(event: ApprovalEvent): void {
  if (!APPROVAL_ID.test(event.approvalId)) {
    throw new RollcallError('invalid-input', `approval id "${event.approvalId}" cannot name a branch: expected letters, digits, _ and - (up to 128)`);
  }
}

/** A name, an email and a git date (`<seconds> <+hhmm>`). */
export interface Ident {
  name: string;
  email: string;
  date: string;
}

/** Who an approval's commit is by: the requester (dated when the approval finished), committed by rollcall. */
export interface ApprovalIdentity {
  author: Ident;
  committer: Ident;
}

/**
 * The author and committer of an approval's commit, as git itself would record them from
 * GIT_AUTHOR_* / GIT_COMMITTER_* (the same stripping of leading and trailing punctuation, so a
 * commit written by fast-import is byte for byte the commit `git commit-tree` would write).
 * The author date is when the approval finished, so redeliveries make the same commit; the
 * committer is `GIT_COMMITTER_NAME` / `GIT_COMMITTER_EMAIL` of `env`, else rollcall, dated
 * `GIT_COMMITTER_DATE` of `env`, else `now`.
 */
export function approvalIdentity(event: ApprovalEvent, env: NodeJS.ProcessEnv, now: Date = new Date()): ApprovalIdentity {
  const finished = Date.parse(event.finishedAt);
  const author: Ident = {
    name: identPart(oneLine(event.requester.name ?? event.requester.id)) || identPart(event.requester.id) || 'unknown',
    email: identPart(`${event.requester.id.replace(/[^A-Za-z0-9_.+-]/g, '_')}@${event.platform}`),
    date: Number.isFinite(finished) ? `${Math.floor(finished / 1000)} +0000` : gitDate(now),
  };
  return { author, committer: committerIdent(env, now) };
}

/** Rollcall as committer (and as author of a merge of several approvals). */
export function committerIdent(env: NodeJS.ProcessEnv, now: Date = new Date()): Ident {
  return {
    name: identPart(env.GIT_COMMITTER_NAME || ROLLCALL_IDENTITY.name) || ROLLCALL_IDENTITY.name,
    email: identPart(env.GIT_COMMITTER_EMAIL || ROLLCALL_IDENTITY.email),
    date: env.GIT_COMMITTER_DATE ? parseGitDate(env.GIT_COMMITTER_DATE) : gitDate(now),
  };
}

/** `Name <platform:id>`, as the Requested-by and Approved-by trailers write a person. */
function person(platform: string, who: PlatformPerson): string {
  const name = oneLine(who.name ?? '').replace(/[<>]/g, '');
  return `${name || oneLine(who.id)} <${platform}:${oneLine(who.id).replace(/[<>]/g, '')}>`;
}

/** Line breaks and control characters folded to spaces: a value that cannot break the message's layout. */
export function oneLine(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/**
 * What git keeps of a name or email: without the characters it trims from both ends (spaces,
 * `.,:;<>"\'` and control characters) and without `<`, `>` and line breaks inside.
 */
function identPart(value: string): string {
  return value.replace(/^[\u0000-\u0020.,:;<>"\\']+|[\u0000-\u0020.,:;<>"\\']+$/g, '').replace(/[<>\n]/g, '');
}

/** `<seconds> <+hhmm>` in the local time zone, as git dates a commit made now. */
function gitDate(date: Date): string {
  return `${Math.floor(date.getTime() / 1000)} ${offset(-date.getTimezoneOffset())}`;
}

function offset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

/**
 * GIT_COMMITTER_DATE as fast-import's raw date: `@<seconds> [<+hhmm>]`, `<seconds> <+hhmm>`, or a
 * date JavaScript reads (ISO 8601, RFC 2822), in its own offset or else the local one.
 */
function parseGitDate(value: string): string {
  const trimmed = value.trim();
  const raw = /^@?(\d+)(?:\s+([+-]\d{4}))?$/.exec(trimmed);
  if (raw) return `${raw[1]} ${raw[2] ?? '+0000'}`;
  const time = Date.parse(trimmed);
  if (!Number.isFinite(time)) throw new RollcallError('invalid-input', `GIT_COMMITTER_DATE "${value}" is not a date rollcall reads: use @<seconds> +0000 or ISO 8601`);
  const zone = /(Z|[+-]\d{2}:?\d{2})$/.exec(trimmed.replace(/\s*\([^)]*\)$/, ''))?.[1];
  const minutes = zone === undefined ? -new Date(time).getTimezoneOffset() : zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  return `${Math.floor(time / 1000)} ${offset(minutes)}`;
}
