import { gzipSync } from 'node:zlib';
import { RollcallError } from '../config/errors.js';
import type { PlanEntry, UserAttributes, UserChanges } from '../plan/types.js';
import { agentStub, CLOUD_ASSISTANT_MAX_BYTES, invocationSize } from './agent-script.js';

/**
 * The agent's input: one operation per line, fields separated by tabs, under a header
 * `rollcall-ops<TAB>1<TAB><generation>`. Names, ids, paths and dates go as they are (validation
 * keeps tabs and newlines out of them); free text (GECOS, keys, sudoers files) goes as base64. In a
 * user operation `-` leaves an attribute alone and `=value` sets it.
 *
 *   group          name gid
 *   user           login uid gid gecos64 home shell groups keys64 locked expiresDay mode
 *   sudoers        file content64
 *   lock | delete  login
 *   sudoers-delete file
 *   group-delete   name
 */
export const OPS_HEADER = 'rollcall-ops';
export const OPS_VERSION = 1;

const LEAVE = '-';

/**
 * The operations of one instance's plan, in the order they must run: groups before the users that
 * join them, sudoers files after the groups they name, offboarding last, and the removal of groups
 * and sudoers files after the users that held them.
 */
export function operationsFor(entries: readonly PlanEntry[]): string[] {
  const phases: string[][] = [[], [], [], [], []];
  for (const entry of entries) {
    switch (entry.kind) {
      case 'group':
        if (entry.action === 'delete') phases[4]!.push(line('group-delete', entry.name));
        else phases[0]!.push(line('group', entry.name, String(entry.action === 'create' ? entry.after.gid : entry.changes.gid.after)));
        break;
      case 'user':
        if (entry.action === 'create') phases[1]!.push(userLine(entry.name, entry.after, 'create'));
        else if (entry.action === 'update') phases[1]!.push(entry.adopt && entry.after ? userLine(entry.name, entry.after, 'adopt') : userLine(entry.name, entry.changes, 'update'));
        else phases[3]!.push(line(entry.action, entry.name));
        break;
      case 'sudoers':
        if (entry.action === 'delete') phases[4]!.push(line('sudoers-delete', entry.name));
        else phases[2]!.push(line('sudoers', entry.name, base64(entry.action === 'create' ? entry.after.content : entry.changes.content.after)));
        break;
    }
  }
  return phases.flat();
}

/** The `ops` parameter: the header and `lines`, gzip-compressed, base64-encoded. */
export function encodeOperations(lines: readonly string[], generation: number): string {
  const text = [line(OPS_HEADER, String(OPS_VERSION), String(generation)), ...lines].join('\n') + '\n';
  return gzipSync(text, { level: 9 }).toString('base64');
}

/**
 * Splits the operations into ordered chunks whose invocations (the stub plus its parameters) each
 * fit Cloud Assistant's size limit. Each chunk carries the same generation.
 */
export function chunkOperations(lines: readonly string[], generation: number, script: string = agentStub(), limit = CLOUD_ASSISTANT_MAX_BYTES): string[] {
  const fits = (count: number, start: number) =>
    invocationSize(script, { mode: 'apply', ops: encodeOperations(lines.slice(start, start + count), generation), page: '' }) <= limit;
  const chunks: string[] = [];
  let start = 0;
  do {
    // The longest run from `start` that fits, by bisection: a few compressions per chunk, not one per line.
    let good = 0;
    let bad = lines.length - start + 1;
    if (fits(bad - 1, start)) good = bad - 1;
    while (bad - good > 1) {
      const middle = Math.floor((good + bad) / 2);
      if (fits(middle, start)) good = middle;
      else bad = middle;
    }
    if (good === 0 && start < lines.length) {
      const op = lines[start]!.split('\t', 2).join(' ');
      throw new RollcallError('invalid-input', `one operation (${op}) is too large for a Cloud Assistant invocation of ${limit} bytes: split its keys or sudo rules`);
    }
    chunks.push(encodeOperations(lines.slice(start, start + good), generation));
    start += good;
  } while (start < lines.length);
  return chunks;
}

/** The shadow file's expiry day (days since 1970-01-01, the first day without access) for a last day of access. */
export function shadowExpiryDay(lastDay: string | null): number {
  if (lastDay === null) return -1;
  return Date.parse(`${lastDay}T00:00:00Z`) / 86_400_000 + 1;
}

function userLine(login: string, attributes: UserChanges | UserAttributes, mode: 'create' | 'update' | 'adopt'): string {
  const value = <K extends keyof UserAttributes>(field: K): UserAttributes[K] | undefined => {
    const entry = (attributes as Record<string, unknown>)[field];
    if (entry === undefined) return undefined;
    return (mode === 'update' ? (entry as { after: UserAttributes[K] }).after : entry) as UserAttributes[K];
  };
  const set = (text: string | undefined) => (text === undefined ? LEAVE : `=${text}`);
  const uid = value('uid');
  const gid = value('gid');
  const name = value('name');
  const groups = value('groups');
  const keys = value('sshKeys');
  const locked = value('locked');
  const expires = value('expires');
  return line(
    'user',
    login,
    set(uid?.toString()),
    set(gid?.toString()),
    set(name === undefined ? undefined : base64(name)),
    set(value('home')),
    set(value('shell')),
    set(groups?.join(',')),
    set(keys === undefined ? undefined : base64(keys.map((key) => `${key}\n`).join(''))),
    set(locked === undefined ? undefined : locked ? '1' : '0'),
    set(expires === undefined ? undefined : String(shadowExpiryDay(expires))),
    mode,
  );
}

function line(...fields: string[]): string {
  for (const field of fields) {
    // Validation keeps these out; the encoder checks again rather than send a line the agent would misread.
    if (/[\t\n\r\0]/.test(field)) throw new RollcallError('internal', `an operation field holds a tab, newline or NUL: ${JSON.stringify(field)}`);
  }
  return fields.join('\t');
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
