import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import type { SourceProblem } from '../config/errors.js';
import { compareStrings } from './compare-strings.js';
import { checkDesiredState, type ParsedDesiredState, type ParsedFile } from './check-desired-state.js';
import { ApprovalsFile, FleetFile, RoleFile, UserFile } from './schema.js';
import type { DesiredState, Role, User } from './types.js';
import { YamlFile } from './yaml-file.js';

export type LoadDesiredStateResult =
  | { ok: true; desired: DesiredState; files: string[] }
  | { ok: false; problems: SourceProblem[] };

export interface LoadOptions {
  /** Problems name files relative to this folder. */
  cwd?: string;
}

/** What `approvals.yaml` holds when a desired-state folder has none: no flows, no channels. */
const NO_APPROVALS: ApprovalsFile = { flows: [], channels: {} };

/**
 * Reads a desired-state folder (`fleet.yaml`, `approvals.yaml`, `roles/*.yaml`, `users/*.yaml`),
 * applies the defaults of DESIGN.md and checks it whole. Returns every problem at once, sorted by
 * file and position, or the desired state.
 */
export async function loadDesiredState(dir: string, options: LoadOptions = {}): Promise<LoadDesiredStateResult> {
  const cwd = options.cwd ?? process.cwd();
  const show = (relative: string) => path.relative(cwd, path.join(dir, relative)) || '.';

  const folder = await stat(dir).catch(() => undefined);
  if (!folder?.isDirectory()) {
    return { ok: false, problems: [{ file: show('.'), line: 0, col: 0, message: 'is not a folder: point --dir at the desired-state folder (the one holding fleet.yaml)' }] };
  }

  const problems: SourceProblem[] = [];
  const sources: { relative: string; text: string }[] = [];
  const read = async (relative: string): Promise<string | undefined> => {
    const text = await readFile(path.join(dir, relative), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      if (error.code === 'EISDIR') {
        problems.push({ file: show(relative), line: 0, col: 0, message: 'is a folder, not a file' });
        return undefined;
      }
      throw error;
    });
    if (text !== undefined) sources.push({ relative, text });
    return text;
  };
  const parse = <S extends z.ZodObject>(relative: string, text: string, schema: S): ParsedFile<z.output<S>> | undefined => {
    const parsed = YamlFile.parse(show(relative), text);
    if ('problems' in parsed) {
      problems.push(...parsed.problems);
      return undefined;
    }
    const stem = path.basename(relative, '.yaml');
    const result = schema.safeParse(parsed.value, { reportInput: true });
    if (result.success) return { file: parsed.file, stem, data: result.data };
    problems.push(...parsed.file.schemaProblems(result.error, schema));
    return { file: parsed.file, stem, data: salvageFields(schema, parsed.value) };
  };

  const state: ParsedDesiredState = { roles: [], roleNames: new Set(), users: [] };
  const fleetText = await read('fleet.yaml');
  if (fleetText !== undefined) state.fleet = parse('fleet.yaml', fleetText, FleetFile);
  else if (!problems.some((problem) => problem.file === show('fleet.yaml'))) {
    problems.push({ file: show('fleet.yaml'), line: 0, col: 0, message: 'is missing: a desired-state folder needs fleet.yaml (region, hostgroups, policy)' });
  }
  const approvalsText = await read('approvals.yaml');
  if (approvalsText !== undefined) state.approvals = parse('approvals.yaml', approvalsText, ApprovalsFile);

  for (const [folderName, schema, into] of [
    ['roles', RoleFile, state.roles],
    ['users', UserFile, state.users],
  ] as const) {
    for (const name of await listYaml(dir, folderName, show, problems)) {
      const relative = `${folderName}/${name}`;
      if (folderName === 'roles') state.roleNames.add(path.basename(name, '.yaml'));
      const text = await read(relative);
      const parsed = text === undefined ? undefined : parse(relative, text, schema);
      if (parsed) (into as ParsedFile<unknown>[]).push(parsed);
    }
  }

  problems.push(...checkDesiredState(state));
  if (problems.length > 0 || !state.fleet) return { ok: false, problems: sortProblems(problems) };

  // No problems means every file passed its schema whole: `data` holds every field.
  const whole = <T>(parsed: ParsedFile<T>) => parsed.data as T;
  const roles = new Map<string, Role>(
    state.roles.map((parsed) => {
      const data = whole(parsed);
      const role: Role = {
        name: parsed.stem,
        ...(data.description !== undefined ? { description: data.description } : {}),
        hostgroups: data.hostgroups,
        groups: data.groups.map((group) => (typeof group === 'string' ? { name: group } : group)),
        sudo: data.sudo,
      };
      return [parsed.stem, role];
    }),
  );
  const users: User[] = state.users
    .map(whole)
    .map((data) => ({ ...data, roles: data.roles.map((grant) => (typeof grant === 'string' ? { role: grant } : grant)) }))
    .sort((a, b) => compareStrings(a.empId, b.empId));

  return {
    ok: true,
    desired: {
      fleet: whole(state.fleet),
      roles,
      users,
      approvals: state.approvals ? whole(state.approvals) : NO_APPROVALS,
      revision: hashSources(sources),
    },
    files: sources.map((source) => source.relative).sort(compareStrings),
  };
}

/** The top-level fields of `value` that pass their own schemas: what the cross-file checks can still use. */
function salvageFields<S extends z.ZodObject>(schema: S, value: unknown): Partial<z.output<S>> {
  const fields: Record<string, unknown> = {};
  if (typeof value !== 'object' || value === null) return fields as Partial<z.output<S>>;
  for (const [key, field] of Object.entries(schema.shape)) {
    const result = (field as z.ZodType).safeParse((value as Record<string, unknown>)[key]);
    if (result.success) fields[key] = result.data;
  }
  return fields as Partial<z.output<S>>;
}

/** The `.yaml` files of a sub-folder, sorted; `.yml` files are reported rather than silently skipped. */
async function listYaml(dir: string, folderName: string, show: (relative: string) => string, problems: SourceProblem[]): Promise<string[]> {
  const entries = await readdir(path.join(dir, folderName), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    if (error.code === 'ENOTDIR') {
      problems.push({ file: show(folderName), line: 0, col: 0, message: `must be a folder of .yaml files, not a file` });
      return [];
    }
    throw error;
  });
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.isSymbolicLink() && /\.ya?ml$/.test(entry.name)) {
      // Skipping it would drop a user (and offboard them); following it could read outside the repository.
      problems.push({ file: show(`${folderName}/${entry.name}`), line: 0, col: 0, message: 'is a symbolic link: rollcall reads only regular files, so replace it with the file itself' });
      continue;
    }
    if (!entry.isFile()) continue;
    if (entry.name.endsWith('.yaml')) names.push(entry.name);
    else if (entry.name.endsWith('.yml')) {
      problems.push({ file: show(`${folderName}/${entry.name}`), line: 0, col: 0, message: 'rollcall reads only .yaml files: rename it to .yaml' });
    }
  }
  return names.sort(compareStrings);
}

/** `sha256:` over the sorted paths and contents: the revision of a tree that is not a clean commit. */
function hashSources(sources: readonly { relative: string; text: string }[]): string {
  const hash = createHash('sha256');
  for (const { relative, text } of [...sources].sort((a, b) => compareStrings(a.relative, b.relative))) {
    hash.update(relative).update('\0').update(text).update('\0');
  }
  return `sha256:${hash.digest('hex')}`;
}

function sortProblems(problems: SourceProblem[]): SourceProblem[] {
  return [...problems].sort((a, b) => compareStrings(a.file, b.file) || a.line - b.line || a.col - b.col || compareStrings(a.message, b.message));
}
