import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isMap, isSeq, parseDocument, stringify, type Node } from 'yaml';
import { z } from 'zod';
import { RollcallError } from '../config/errors.js';
import { compareStrings } from '../desired/compare-strings.js';
import { createGit } from './git.js';

/**
 * What happened when rollcall applied a commit of the desired-state repository, kept as a git note
 * on that commit under `refs/notes/rollcall`, so that `git log --notes=rollcall` is the fleet's
 * provisioning history. One note holds a YAML list of records, newest last: drift corrections are
 * recorded on the revision they restored, so a commit collects records over time.
 */

/** Why rollcall applied a revision. */
export type ResultTrigger = 'revision' | 'drift' | 'new-instance' | 'break-glass';

/** One change on one instance, written in a note as `update user lisi (groups, shell)`. */
export interface ChangeLine {
  action: 'create' | 'update' | 'lock' | 'delete';
  kind: 'user' | 'group' | 'sudoers';
  name: string;
  /** The attributes an update changed. */
  fields?: string[];
}

/** What one instance did with an apply. */
export interface InstanceResultRecord {
  status: 'applied' | 'failed' | 'skipped' | 'unchanged';
  changes: ChangeLine[];
  exitCode?: number;
  durationMs?: number;
  error?: string;
}

/** One apply of a revision to the fleet. */
export interface ResultRecord {
  /** Unique: at most one record per attempt in a note (the idempotency key). */
  attempt: string;
  /** ISO 8601 UTC time the apply finished. */
  at: string;
  trigger: ResultTrigger;
  generation: number;
  outcome: 'applied' | 'failed' | 'no-changes' | 'drift-detected';
  durationMs: number;
  /** By instance id. */
  instances: Record<string, InstanceResultRecord>;
}

/** The notes ref rollcall writes; nothing else writes there. */
export const NOTES_REF = 'refs/notes/rollcall';

/** Where `push` fetches the remote's notes to merge them; under refs/notes/ as `git notes merge` wants. */
const INCOMING_REF = 'refs/notes/rollcall-incoming';

const NOTE_HEADER = '# rollcall: results of applying this commit (newest last)';

/**
 * Text in a note that is not a record (a paragraph someone added by hand, a foreign tool's note) is
 * kept under this line, commented out, when rollcall rewrites the note: the whole note stays one
 * YAML list and nobody's words are lost.
 */
const KEPT_HEADER = '# Kept as written (not rollcall records):';

const IDENTITY = { name: 'Rollcall', email: 'rollcall@localhost' };

/** Notes `git show` reads at once: about 41 bytes of arguments each, well under the argv limit. */
const BLOBS_PER_READ = 1000;

// ── changes as text ────────────────────────────────────────────────────────────────────────────

const ACTIONS = ['create', 'update', 'lock', 'delete'] as const satisfies readonly ChangeLine['action'][];
const KINDS = ['user', 'group', 'sudoers'] as const satisfies readonly ChangeLine['kind'][];
const CHANGE_TEXT = new RegExp(`^(${ACTIONS.join('|')}) (${KINDS.join('|')}) (\\S+)(?: \\(([^()]*)\\))?$`);

/** `create user zhangsan`, `update user lisi (groups, shell)`. */
export function formatChange(change: ChangeLine): string {
  const fields = change.fields && change.fields.length > 0 ? ` (${change.fields.join(', ')})` : '';
  return `${change.action} ${change.kind} ${change.name}${fields}`;
}

/** The change `formatChange` wrote (extra white space allowed); undefined for any other text. */
export function parseChange(text: string): ChangeLine | undefined {
  const match = CHANGE_TEXT.exec(text.trim().replace(/\s+/g, ' '));
  if (!match) return undefined;
  const [, action, kind, name, fields] = match;
  const change = { action, kind, name } as ChangeLine;
  const list = (fields ?? '').split(',').map((field) => field.trim()).filter((field) => field !== '');
  return list.length > 0 ? { ...change, fields: list } : change;
}

// ── note text ─────────────────────────────────────────────────────────────────────────────────

/** The note for these records: a header comment, then one YAML list, instances sorted, empty fields left out. */
export function renderResultNote(records: readonly ResultRecord[]): string {
  return renderNote(records, []);
}

/**
 * The records in a note. Never throws: text that is not YAML, items that are not records, and
 * instances or changes that do not read are skipped and described in `problems`.
 */
export function parseResultNote(text: string): { records: ResultRecord[]; problems: string[] } {
  const { records, problems } = readNote(text);
  return { records, problems };
}

function renderNote(records: readonly ResultRecord[], kept: readonly string[]): string {
  // One item at a time, a blank line between: easier to read in `git log`, and still one list.
  const list = records.map((record) => stringify([recordForYaml(record)], { lineWidth: 0 })).join('\n');
  const keptText = kept.length > 0 ? `\n${KEPT_HEADER}\n${kept.map((line) => (line === '' ? '#' : `# ${line}`)).join('\n')}\n` : '';
  return `${NOTE_HEADER}\n${list}${keptText}`;
}

/** Keys in reading order; nothing empty. */
function recordForYaml(record: ResultRecord): Record<string, unknown> {
  const ids = Object.keys(record.instances).sort(compareStrings);
  const instances = Object.fromEntries(ids.map((id) => [id, instanceForYaml(record.instances[id] as InstanceResultRecord)]));
  return {
    attempt: record.attempt,
    at: record.at,
    trigger: record.trigger,
    generation: record.generation,
    outcome: record.outcome,
    durationMs: record.durationMs,
    ...(ids.length > 0 ? { instances } : {}),
  };
}

function instanceForYaml(result: InstanceResultRecord): Record<string, unknown> {
  return {
    status: result.status,
    ...(result.changes.length > 0 ? { changes: result.changes.map(formatChange) } : {}),
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    ...(result.durationMs !== undefined ? { durationMs: result.durationMs } : {}),
    ...(result.error ? { error: result.error } : {}),
  };
}

// Lenient on purpose: a note may have been edited by hand. Unknown keys are ignored.
const RecordFields = z.object({
  attempt: z.union([z.string().min(1), z.number()], { error: 'must be a non-empty string' }).transform(String),
  at: z.string().min(1),
  trigger: z.enum(['revision', 'drift', 'new-instance', 'break-glass']),
  generation: z.number().int(),
  outcome: z.enum(['applied', 'failed', 'no-changes', 'drift-detected']),
  durationMs: z.number(),
  instances: z.record(z.string(), z.unknown()).optional(),
});

const InstanceFields = z.object({
  status: z.enum(['applied', 'failed', 'skipped', 'unchanged']),
  changes: z.array(z.unknown()).optional(),
  exitCode: z.number().int().optional(),
  durationMs: z.number().optional(),
  error: z.union([z.string(), z.number()]).transform(String).optional(),
});

interface ReadNote {
  records: ResultRecord[];
  problems: string[];
  /** Lines that are not records, to keep when the note is rewritten. */
  kept: string[];
}

interface Block {
  /** 1-based line of the block's first line in the note. */
  start: number;
  lines: string[];
  /** Starts with `- ` at column 0: one item of rollcall's list. */
  item: boolean;
}

/**
 * Reads a note block by block (each top-level list item, each other paragraph), so that one bad
 * block (a hand-written paragraph, an item someone broke) costs only itself.
 */
function readNote(text: string): ReadNote {
  const note: ReadNote = { records: [], problems: [], kept: [] };
  let block: Block | undefined;
  let keeping = false;
  const flush = () => {
    if (block) readBlock(block, note);
    block = undefined;
  };
  text.split(/\r?\n/).forEach((line, index) => {
    if (keeping) {
      if (line.startsWith('#')) {
        note.kept.push(line.replace(/^# ?/, ''));
        return;
      }
      if (line.trim() === '') return;
      keeping = false;
    }
    if (line === KEPT_HEADER) {
      flush();
      keeping = true;
      return;
    }
    const topLevel = line !== '' && !/^\s/.test(line);
    const startsItem = /^-(\s|$)/.test(line);
    // A list item starts a block; so does any other top-level text, unless it goes on with a paragraph.
    if (startsItem || (topLevel && !line.startsWith('#') && block?.item !== false)) {
      flush();
      block = { start: index + 1, lines: [line], item: startsItem };
    } else if (block) {
      block.lines.push(line);
    } else if (line.trim() !== '' && !line.startsWith('#')) {
      block = { start: index + 1, lines: [line], item: false };
    }
  });
  flush();
  return note;
}

function readBlock(block: Block, note: ReadNote): void {
  const text = block.lines.join('\n');
  const keep = () => {
    const lines = [...block.lines];
    while (lines.length > 0 && (lines[lines.length - 1] ?? '').trim() === '') lines.pop();
    if (note.kept.length > 0) note.kept.push('');
    note.kept.push(...lines);
  };
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    note.problems.push(`line ${block.start}: not a rollcall record (YAML: ${firstLine(doc.errors[0]?.message ?? '')})`);
    return keep();
  }
  if (doc.contents === null) return;
  let value: unknown;
  try {
    // Few aliases: a note is never a "billion laughs" document on purpose.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    note.problems.push(`line ${block.start}: not a rollcall record (YAML: ${firstLine(String((error as Error).message))})`);
    return keep();
  }
  const nodes: (Node | null)[] = isSeq(doc.contents) ? (doc.contents.items as (Node | null)[]) : isMap(doc.contents) ? [doc.contents] : [];
  const values: unknown[] = isSeq(doc.contents) && Array.isArray(value) ? value : [value];
  if (nodes.length === 0) {
    note.problems.push(`line ${block.start}: not a rollcall record (expected a list item with attempt, at, trigger, …)`);
    return keep();
  }
  let read = 0;
  nodes.forEach((node, index) => {
    const line = block.start + countLines(text, node?.range?.[0] ?? 0);
    const record = readRecord(values[index], `line ${line}`, note.problems);
    if (record) {
      note.records.push(record);
      read += 1;
    }
  });
  if (read === 0) keep();
}

function readRecord(value: unknown, where: string, problems: string[]): ResultRecord | undefined {
  const parsed = RecordFields.safeParse(value);
  if (!parsed.success) {
    problems.push(`${where}: not a rollcall record (${describeIssues(parsed.error)})`);
    return undefined;
  }
  const { instances = {}, ...fields } = parsed.data;
  const record: ResultRecord = { ...fields, instances: {} };
  for (const [id, raw] of Object.entries(instances)) {
    const instance = InstanceFields.safeParse(raw);
    if (!instance.success) {
      problems.push(`${where}: record ${record.attempt}: instance ${id} skipped (${describeIssues(instance.error)})`);
      continue;
    }
    const { changes = [], ...result } = instance.data;
    const lines: ChangeLine[] = [];
    for (const change of changes) {
      const line = typeof change === 'string' ? parseChange(change) : undefined;
      if (line) lines.push(line);
      else problems.push(`${where}: record ${record.attempt}: instance ${id}: change ${JSON.stringify(change)} skipped (expected like "update user lisi (groups, shell)")`);
    }
    record.instances[id] = { ...result, changes: lines };
  }
  return record;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`).join('; ');
}

function countLines(text: string, offset: number): number {
  let lines = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) lines += 1;
  return lines;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/** Records of both lists, one per attempt (the first seen wins), oldest first by `at`. */
function unionRecords(ours: readonly ResultRecord[], theirs: readonly ResultRecord[]): ResultRecord[] {
  const byAttempt = new Map<string, ResultRecord>();
  for (const record of [...ours, ...theirs]) if (!byAttempt.has(record.attempt)) byAttempt.set(record.attempt, record);
  return [...byAttempt.values()].sort((a, b) => (Date.parse(a.at) || 0) - (Date.parse(b.at) || 0));
}

/** Both sides' kept text, once when it is the same. */
function mergeKept(ours: readonly string[], theirs: readonly string[]): string[] {
  if (theirs.length === 0 || theirs.join('\n') === ours.join('\n')) return [...ours];
  if (ours.length === 0) return [...theirs];
  return [...ours, '', ...theirs];
}

/** Applies that made the fleet equal to a revision (what "last applied revision" means). */
function isApplied(record: ResultRecord): boolean {
  return (record.trigger === 'revision' || record.trigger === 'break-glass') && (record.outcome === 'applied' || record.outcome === 'no-changes');
}

// ── the notes in a repository ──────────────────────────────────────────────────────────────────

/**
 * Reads and writes rollcall's notes in one repository. Writes from one instance are serialized;
 * rollcall is the only writer of its notes ref in a repository, and `push` merges with other
 * rollcalls through the remote.
 */
export class ResultNotes {
  private readonly git: ReturnType<typeof createGit>;
  /** `-c user.*`: simple-git drops GIT_* variables from the environment, so the identity goes as config. */
  private readonly identity: string[];
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `env` names who writes the note commits: GIT_COMMITTER_NAME/EMAIL (else GIT_AUTHOR_*) when set,
   * else Rollcall <rollcall@localhost>. The repository's config is never changed.
   */
  constructor(
    private readonly repoRoot: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.git = createGit(repoRoot);
    const name = env.GIT_COMMITTER_NAME || env.GIT_AUTHOR_NAME || IDENTITY.name;
    const email = env.GIT_COMMITTER_EMAIL || env.GIT_AUTHOR_EMAIL || IDENTITY.email;
    this.identity = ['-c', `user.name=${name}`, '-c', `user.email=${email}`];
  }

  /** The records on a commit ([] when it has no note). */
  async read(sha: string): Promise<ResultRecord[]> {
    return readNote(await this.noteText(sha)).records;
  }

  /**
   * Appends the record to the commit's note; false (and nothing written) when a record with the
   * same attempt is there already. Rewrites the whole note so the YAML stays one list. Concurrent
   * calls on one instance are serialized.
   */
  append(sha: string, record: ResultRecord): Promise<boolean> {
    return this.serialized(async () => {
      const note = readNote(await this.noteText(sha));
      if (note.records.some((existing) => existing.attempt === record.attempt)) return false;
      await this.writeNote(sha, renderNote([...note.records, record], note.kept));
      return true;
    });
  }

  /** Every commit that has a note, with its records: a few git processes in all (see `noteTexts`), not one per note. */
  async all(): Promise<Map<string, ResultRecord[]>> {
    const texts = await this.noteTexts(NOTES_REF);
    return new Map([...texts].map(([sha, text]) => [sha, readNote(text).records]));
  }

  /**
   * The newest commit on the first-parent chain from `head` (at most `limit` commits back) whose
   * note has a record that applied the revision (trigger revision or break-glass, outcome applied
   * or no-changes), with the newest such record.
   */
  async lastApplied(head: string, limit = 10_000): Promise<{ sha: string; record: ResultRecord } | undefined> {
    if (head.startsWith('-')) throw new RollcallError('invalid-input', `"${head}" is not a revision: give a commit sha or a branch name`);
    if (limit < 1) return undefined;
    const log = await this.run(['log', '--first-parent', `--max-count=${Math.floor(limit)}`, `--notes=${NOTES_REF}`, '--format=%x1e%H%x1f%N', head, '--'], `read the notes on the history of ${head}`);
    for (const entry of log.split('\x1e')) {
      const split = entry.indexOf('\x1f');
      const note = entry.slice(split + 1);
      if (split === -1 || note.trim() === '') continue;
      const record = unionRecords(readNote(note).records, []).filter(isApplied).at(-1);
      if (record) return { sha: entry.slice(0, split).trim(), record };
    }
    return undefined;
  }

  /**
   * Pushes the notes to `remote`. When the push is rejected because another rollcall pushed notes
   * first, fetches them, merges them with these (a note on the same commit keeps the records of
   * both, one per attempt) and pushes once more. False when the repository has no such remote.
   */
  push(remote = 'origin'): Promise<boolean> {
    return this.serialized(async () => {
      const remotes = (await this.run(['remote'], 'list the remotes')).split('\n').map((name) => name.trim());
      if (!remotes.includes(remote)) return false;
      if (!(await this.hasRef(NOTES_REF))) return true;
      const refspec = `${NOTES_REF}:${NOTES_REF}`;
      try {
        await this.git.raw(['push', '--quiet', remote, refspec]);
        return true;
      } catch (error) {
        if (!/\[rejected\].*\((fetch first|non-fast-forward)\)/.test(String(error))) throw this.failed(`push ${NOTES_REF} to ${remote}`, error);
      }
      try {
        await this.run(['fetch', '--quiet', remote, `+${NOTES_REF}:${INCOMING_REF}`], `fetch ${NOTES_REF} from ${remote}`);
        await this.mergeIncoming();
        await this.run(['push', '--quiet', remote, refspec], `push ${NOTES_REF} to ${remote} after merging its notes (another rollcall pushed meanwhile: it is retried on the next result)`);
        return true;
      } finally {
        await this.git.raw(['update-ref', '-d', INCOMING_REF]).catch(() => undefined);
      }
    });
  }

  /** `git notes merge` keeps our note where both sides changed one; then each such note becomes the union of both. */
  private async mergeIncoming(): Promise<void> {
    const ours = await this.noteTexts(NOTES_REF);
    const theirs = await this.noteTexts(INCOMING_REF);
    await this.run([...this.identity, 'notes', `--ref=${NOTES_REF}`, 'merge', '--quiet', '--strategy=ours', INCOMING_REF], `merge the notes fetched into ${INCOMING_REF}`);
    for (const [sha, theirText] of theirs) {
      const ourText = ours.get(sha);
      if (ourText === undefined || ourText === theirText) continue;
      const our = readNote(ourText);
      const their = readNote(theirText);
      await this.writeNote(sha, renderNote(unionRecords(our.records, their.records), mergeKept(our.kept, their.kept)));
    }
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async noteText(sha: string): Promise<string> {
    if (sha.startsWith('-')) throw new RollcallError('invalid-input', `"${sha}" is not a commit: give a commit sha`);
    return this.run(['log', '-1', '--no-walk', `--notes=${NOTES_REF}`, '--format=%N', sha, '--'], `read the note on ${sha}`);
  }

  private async writeNote(sha: string, text: string): Promise<void> {
    // A file, not -m: a note that has collected many records can outgrow one command-line argument.
    const dir = await mkdtemp(path.join(tmpdir(), 'rollcall-note-'));
    try {
      const file = path.join(dir, 'note.yaml');
      await writeFile(file, text);
      await this.run([...this.identity, 'notes', `--ref=${NOTES_REF}`, 'add', '--force', '--file', file, sha], `write the note on ${sha}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * The text of every note under `ref`, by the sha it annotates: one `ls-tree` for the blobs and
   * their sizes, then one `git show` per 1000 blobs. (Not `cat-file --batch`: simple-git's raw
   * calls cannot write to a process's stdin.)
   */
  private async noteTexts(ref: string): Promise<Map<string, string>> {
    const texts = new Map<string, string>();
    if (!(await this.hasRef(ref))) return texts;
    const listing = await this.run(['ls-tree', '-r', '-l', '-z', ref], `list the notes in ${ref}`);
    const notes: { object: string; blob: string }[] = [];
    const sizes = new Map<string, number>();
    for (const entry of listing.split('\0')) {
      const match = /^\d+ blob ([0-9a-f]+) +(\d+)\t(.+)$/.exec(entry);
      if (!match) continue;
      const [, blob = '', size = '', file = ''] = match;
      // Notes trees fan out (ab/cdef…) when they grow: the path without slashes is the annotated sha.
      const object = file.replaceAll('/', '');
      if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(object)) continue;
      notes.push({ object, blob });
      sizes.set(blob, Number(size));
    }
    const contents = new Map<string, string>();
    const blobs = [...sizes.keys()];
    for (let start = 0; start < blobs.length; start += BLOBS_PER_READ) {
      const batch = blobs.slice(start, start + BLOBS_PER_READ);
      // `git show` of blobs writes their bytes back to back; the sizes from ls-tree split them.
      let bytes: Buffer;
      try {
        bytes = await this.git.showBuffer(batch);
      } catch (error) {
        throw this.failed(`read the notes in ${ref}`, error);
      }
      let offset = 0;
      for (const blob of batch) {
        const size = sizes.get(blob) ?? 0;
        contents.set(blob, bytes.subarray(offset, offset + size).toString('utf8'));
        offset += size;
      }
      if (offset !== bytes.length) throw new RollcallError('git', `git show of the notes in ${ref} returned ${bytes.length} bytes, expected ${offset}: is the repository at ${this.repoRoot} being rewritten?`);
    }
    for (const { object, blob } of notes) texts.set(object, contents.get(blob) ?? '');
    return texts;
  }

  private async hasRef(ref: string): Promise<boolean> {
    return (await this.run(['rev-parse', '--quiet', '--verify', `${ref}^{commit}`], `look up ${ref}`)).trim() !== '';
  }

  private async run(args: string[], what: string): Promise<string> {
    try {
      return await this.git.raw(args);
    } catch (error) {
      throw this.failed(what, error);
    }
  }

  private failed(what: string, error: unknown): RollcallError {
    return new RollcallError('git', `could not ${what} in ${this.repoRoot}: ${firstLine(String(error instanceof Error ? error.message : error)).trim()}`, { cause: error });
  }
}
