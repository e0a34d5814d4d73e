import { z } from 'zod';
import type { SourceProblem } from '../config/errors.js';
import { IsoDate } from '../desired/schema.js';
import { YamlFile } from '../desired/yaml-file.js';

/**
 * The observed-state snapshot: what the agent reports of each instance, what `rollcall inventory
 * --json` prints and `rollcall plan --observed` reads. Strict, like our own files: a field rollcall
 * does not know means the snapshot came from something else.
 */

export const ObservedUser = z
  .strictObject({
    login: z.string(),
    uid: z.int().min(0),
    /** The private primary group's gid. */
    gid: z.int().min(0).optional(),
    /** GECOS. */
    name: z.string().optional(),
    home: z.string().optional(),
    shell: z.string().optional(),
    /** Supplementary groups, without the private group. */
    groups: z.array(z.string()).optional(),
    /** authorized_keys lines, or `sha256:<hex>` of each (normalized: trimmed, blanks folded). */
    sshKeys: z.array(z.string()).optional(),
    /** The shadow password field starts with `!`. */
    locked: z.boolean().optional(),
    /** Last day of access (the shadow expiry day minus one), or null for none. */
    expires: IsoDate.nullable().optional(),
    /** Listed in the instance's /var/lib/rollcall/managed. */
    managed: z.boolean(),
  })
  .superRefine((user, ctx) => {
    // Unmanaged accounts may be reported with login and uid alone; rollcall's own need every
    // attribute, or the planner would see differences that are not there.
    if (!user.managed) return;
    for (const field of ['gid', 'name', 'home', 'shell', 'groups', 'sshKeys', 'locked', 'expires'] as const) {
      if (user[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: `missing: a managed user must report ${field}` });
      }
    }
  });
export type ObservedUser = z.output<typeof ObservedUser>;

export const ObservedGroup = z.strictObject({
  name: z.string(),
  gid: z.int().min(0),
  members: z.array(z.string()).default([]),
  managed: z.boolean(),
});
export type ObservedGroup = z.output<typeof ObservedGroup>;

export const ObservedInstance = z.strictObject({
  tags: z.record(z.string(), z.string()).default({}),
  users: z.array(ObservedUser).default([]),
  groups: z.array(ObservedGroup).default([]),
  /** rollcall's files in /etc/sudoers.d, by file name, with their contents. */
  sudoers: z.record(z.string(), z.string()).default({}),
});
export type ObservedInstance = z.output<typeof ObservedInstance>;

export const ObservedState = z.strictObject({
  instances: z.record(z.string().regex(/^i-[A-Za-z0-9-]+$/, { error: 'must be an instance id like i-bp1web0000001' }), ObservedInstance),
});
export type ObservedState = z.output<typeof ObservedState>;

export type ParseObservedStateResult = { ok: true; observed: ObservedState } | { ok: false; problems: SourceProblem[] };

/**
 * Parses a snapshot. The fast path is JSON.parse and zod; only a snapshot with problems is parsed a
 * second time, as YAML (JSON is YAML), so that each problem can point at its line and column.
 */
export function parseObservedState(file: string, text: string): ParseObservedStateResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [{ file, ...jsonErrorPosition(text, error as Error), message: `not valid JSON: ${(error as Error).message}` }] };
  }
  const result = ObservedState.safeParse(value, { reportInput: true });
  if (result.success) return { ok: true, observed: result.data };
  const located = YamlFile.parse(file, text);
  if ('problems' in located) return { ok: false, problems: located.problems };
  return { ok: false, problems: located.file.schemaProblems(result.error, ObservedState) };
}

function jsonErrorPosition(text: string, error: Error): { line: number; col: number } {
  const match = /position (\d+)/.exec(error.message);
  const offset = match ? Number(match[1]) : longestValidPrefix(text);
  const before = text.slice(0, offset);
  const lines = before.split('\n');
  return { line: lines.length, col: lines[lines.length - 1]!.length + 1 };
}

/**
 * Where JSON.parse gave up, when its message does not say (Node 20 leaves the position out of
 * some messages): the longest prefix that is still the start of a valid document, by bisection.
 * Only a broken snapshot pays for it.
 */
function longestValidPrefix(text: string): number {
  const startsValid = (length: number) => {
    try {
      JSON.parse(text.slice(0, length));
      return true;
    } catch (error) {
      // A prefix that is only cut short fails at its very end; one with an error fails before it.
      const message = (error as Error).message;
      if (/end of JSON input|Unterminated string/.test(message)) return true;
      const at = /position (\d+)/.exec(message);
      return at !== null && Number(at[1]) >= length;
    }
  };
  let good = 0;
  let bad = text.length;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    if (startsValid(middle)) good = middle;
    else bad = middle;
  }
  return good;
}
