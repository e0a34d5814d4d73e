import type { Change, Plan, PlanAction, PlanEntry } from './types.js';

export interface RenderOptions {
  /** ANSI colours: only for a terminal (the CLI passes `isTTY && !NO_COLOR`). */
  color?: boolean;
}

const SYMBOL: Record<PlanAction, string> = { create: '+', update: '~', lock: '!', delete: '-' };
const COLOR: Record<PlanAction | 'error' | 'warning' | 'dim', number> = {
  create: 32,
  update: 33,
  lock: 35,
  delete: 31,
  error: 31,
  warning: 33,
  dim: 2,
};

/**
 * The plan as a person reads it, terraform-style: one block per instance, `+` create, `~` update
 * with `before -> after` per attribute, `!` lock, `-` delete, then errors, warnings and a summary.
 */
export function render(plan: Plan, options: RenderOptions = {}): string {
  const paint = (style: keyof typeof COLOR, text: string) => (options.color ? `\x1b[${COLOR[style]}m${text}\x1b[0m` : text);
  const lines: string[] = [`rollcall plan for revision ${shortRevision(plan.revision)}`, ''];

  const ids = Object.keys(plan.instances);
  for (const id of ids) {
    lines.push(`  # ${id}`);
    for (const entry of plan.instances[id]!) {
      lines.push(`  ${paint(entry.action, `${SYMBOL[entry.action]} ${entry.kind} ${entry.name}`)}${headline(entry)}`);
      for (const detail of details(entry)) lines.push(`      ${detail}`);
    }
    lines.push('');
  }
  if (ids.length === 0) lines.push(plan.errors.length > 0 ? 'No changes planned.' : 'No changes. The fleet matches the desired state.', '');

  for (const error of plan.errors) lines.push(`${paint('error', 'Error:')} ${error.instance ? `${error.instance}: ` : ''}${error.message}`);
  for (const warning of plan.warnings) lines.push(`${paint('warning', 'Warning:')} ${warning.instance ? `${warning.instance}: ` : ''}${warning.message}`);
  if (plan.errors.length > 0 || plan.warnings.length > 0) lines.push('');

  const { create, update, lock, delete: remove } = plan.summary;
  lines.push(`Plan: ${create} to create, ${update} to update, ${lock} to lock, ${remove} to delete.`);
  if (plan.errors.length > 0) lines.push(paint('error', `The plan has ${plan.errors.length} error${plan.errors.length === 1 ? '' : 's'} and will not be applied as it stands.`));
  return `${lines.join('\n')}\n`;
}

function headline(entry: PlanEntry): string {
  if (entry.kind === 'group' && entry.action === 'create') return ` (gid ${entry.after.gid})`;
  if (entry.kind === 'user' && entry.action === 'update' && entry.adopt) return ' (adopt: rollcall takes over this account)';
  return '';
}

function details(entry: PlanEntry): string[] {
  switch (entry.action) {
    case 'create':
      if (entry.kind === 'user') {
        const { after } = entry;
        return aligned([
          ['uid', String(after.uid)],
          ['name', quote(after.name)],
          ['shell', after.shell],
          ['groups', list(after.groups)],
          ['sshKeys', keyList(after.sshKeys)],
          ...(after.expires ? [['expires', after.expires] as [string, string]] : []),
        ]);
      }
      if (entry.kind === 'sudoers') return entry.after.content.trimEnd().split('\n').map((line) => `+ ${line}`);
      return [];
    case 'update':
    case 'lock': {
      if (entry.kind === 'sudoers') return contentDiff(entry.changes.content);
      if (entry.kind === 'group') return aligned([['gid', `${entry.changes.gid.before} -> ${entry.changes.gid.after}`]]);
      const rows = Object.entries(entry.changes).map(([field, change]) => [field, changeText(field, change as Change<unknown>)] as [string, string]);
      return aligned(rows);
    }
    case 'delete':
      return [];
  }
}

function changeText(field: string, change: Change<unknown>): string {
  const show = (value: unknown) => {
    if (field === 'sshKeys') return keyList(value as string[]);
    if (Array.isArray(value)) return list(value as string[]);
    if (typeof value === 'string') return field === 'name' ? quote(value) : value;
    return String(value);
  };
  return `${show(change.before)} -> ${show(change.after)}`;
}

/** Removed lines with `-`, added lines with `+`, kept lines indented: a sudoers file is short. */
function contentDiff(change: Change<string>): string[] {
  const before = change.before.trimEnd().split('\n');
  const after = change.after.trimEnd().split('\n');
  const kept = new Set(before.filter((line) => after.includes(line)));
  return [
    ...before.filter((line) => !kept.has(line)).map((line) => `- ${line}`),
    ...after.map((line) => (kept.has(line) ? `  ${line}` : `+ ${line}`)),
  ];
}

function aligned(rows: [string, string][]): string[] {
  const width = Math.max(0, ...rows.map(([field]) => field.length)) + 1;
  return rows.map(([field, value]) => `${`${field}:`.padEnd(width + 1)}${value}`);
}

function list(values: readonly string[]): string {
  return `[${values.join(', ')}]`;
}

function quote(value: string): string {
  return JSON.stringify(value);
}

/** Keys shortened to what tells them apart: type, the end of the blob, the comment. */
function keyList(keys: readonly string[]): string {
  return list(keys.map(shortKey));
}

function shortKey(key: string): string {
  if (key.startsWith('sha256:')) return `${key.slice(0, 15)}…`;
  const words = key.trim().split(/\s+/);
  const typeIndex = words.findIndex((word) => /^(ssh-|ecdsa-|sk-)/.test(word));
  if (typeIndex < 0) return key;
  const [type, blob = '', ...comment] = words.slice(typeIndex);
  const options = typeIndex > 0 ? `${words.slice(0, typeIndex).join(' ')} ` : '';
  return `${options}${type} …${blob.slice(-8)}${comment.length > 0 ? ` ${comment.join(' ')}` : ''}`;
}

/** A revision as people quote it: 12 hex digits of a sha, or the start of a working-tree hash. */
export function shortRevision(revision: string): string {
  return revision.startsWith('sha256:') ? `${revision.slice(0, 19)} (working tree)` : revision.slice(0, 12);
}
