import { parse } from 'yaml';
import { RollcallError } from '../config/errors.js';
import { ApprovalsFile, type Platform } from '../desired/schema.js';
import { YamlFile } from '../desired/yaml-file.js';
import type { KnownUser } from '../requests/types.js';
import { readBlobs, runGit } from '../source/git.js';

/** What mapping an approval needs from the tracked branch's tip. */
export interface RequestContext {
  /** The commit it was read from. */
  tip: string;
  approvals: ApprovalsFile;
  users: KnownUser[];
  roleNames: ReadonlySet<string>;
}

export interface RequestContextSource {
  /** The repository (a work tree, a bare repository, or rollcall's clone of a remote). */
  root: string;
  /** The desired-state folder inside it. */
  path: string;
  /** The tip of the tracked branch now. */
  tip(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

/**
 * Reads approvals.yaml, the role names and the user records at the tracked branch's tip, from git
 * objects (never a work tree). A burst of approvals moves the tip once per commit, so user records
 * are parsed once per blob and reused across tips: only the files a commit changed are read again.
 */
export class RequestContextReader {
  readonly #users = new Map<string, KnownUser | undefined>();
  #last: RequestContext | undefined;
  /** The read in progress, and the one that callers arriving during it share (see {@link read}). */
  #running: Promise<RequestContext> | undefined;
  #next: Promise<RequestContext> | undefined;

  constructor(private readonly source: RequestContextSource) {}

  /**
   * The context at the tip now.
   *
   * @throws RollcallError 'invalid-input' when approvals.yaml at the tip is not valid: approvals
   * cannot be mapped until it is fixed (they wait, nothing is lost).
   */
  read(): Promise<RequestContext> {
    // Single flight: a caller gets a read that began after it asked (so it sees every commit made
    // before), and everyone who asks while one read runs shares the next. A burst of approvals
    // costs a read per round, not one per approval.
    if (this.#running === undefined) return this.#start();
    this.#next ??= this.#running.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      this.#next = undefined;
      return this.#start();
    });
    return this.#next;
  }

  #start(): Promise<RequestContext> {
    const running = this.#readNow().finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  async #readNow(): Promise<RequestContext> {
    const tip = await this.source.tip();
    if (this.#last?.tip === tip) return this.#last;
    const folder = this.source.path.replace(/^\.?\/+|\/+$/g, '').replace(/^\.$/, '');
    const prefix = folder ? `${folder}/` : '';
    const options = { env: this.source.env };
    const listing = (await runGit(this.source.root, ['ls-tree', '-r', '-z', '--full-tree', tip, '--', ...(folder ? [folder] : [])], options)).text;
    const files = new Map<string, string>();
    for (const line of listing.split('\0')) {
      const tab = line.indexOf('\t');
      if (tab < 0) continue;
      const [, type, oid] = line.slice(0, tab).split(' ');
      if (type === 'blob' && oid) files.set(line.slice(tab + 1).slice(prefix.length), oid);
    }

    const roleNames = new Set<string>();
    const userBlobs: string[] = [];
    for (const [file, oid] of files) {
      const role = /^roles\/([^/]+)\.yaml$/.exec(file);
      if (role) roleNames.add(role[1]!);
      if (/^users\/[^/]+\.yaml$/.test(file) && !this.#users.has(oid)) userBlobs.push(oid);
    }
    const approvalsOid = files.get('approvals.yaml');
    const wanted = [...userBlobs, ...(approvalsOid ? [approvalsOid] : [])];
    const texts = await readBlobs(this.source.root, wanted, options);
    userBlobs.forEach((oid, index) => this.#users.set(oid, knownUser(texts[index] ?? '')));

    const users: KnownUser[] = [];
    const live = new Set<string>();
    for (const [file, oid] of files) {
      if (!/^users\/[^/]+\.yaml$/.test(file)) continue;
      live.add(oid);
      const user = this.#users.get(oid);
      if (user) users.push(user);
    }
    // Blobs no longer at the tip are forgotten, so the cache stays the size of the users folder.
    for (const oid of this.#users.keys()) if (!live.has(oid)) this.#users.delete(oid);

    const approvals = approvalsOid === undefined ? { flows: [], channels: {} } : parseApprovals(`${prefix}approvals.yaml`, texts.at(-1) ?? '', tip);
    this.#last = { tip, approvals, users, roleNames };
    return this.#last;
  }
}

function parseApprovals(file: string, text: string, tip: string): ApprovalsFile {
  const parsed = YamlFile.parse(file, text);
  const problems = 'problems' in parsed ? parsed.problems : undefined;
  if (!problems && 'value' in parsed) {
    const result = ApprovalsFile.safeParse(parsed.value, { reportInput: true });
    if (result.success) return result.data;
    const found = parsed.file.schemaProblems(result.error, ApprovalsFile);
    throw invalid(file, tip, found.map((problem) => `${problem.file}:${problem.line}:${problem.col}: ${problem.message}`));
  }
  throw invalid(file, tip, (problems ?? []).map((problem) => `${problem.file}:${problem.line}:${problem.col}: ${problem.message}`));
}

function invalid(file: string, tip: string, lines: string[]): RollcallError {
  return new RollcallError('invalid-input', `${file} at ${tip.slice(0, 12)} is not valid, so approvals wait until it is fixed:\n${lines.join('\n')}`);
}

/** The fields of a user record that mapping needs; undefined for a file that is not a record. */
function knownUser(text: string): KnownUser | undefined {
  let value: unknown;
  try {
    value = parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as { empId?: unknown; login?: unknown; ids?: unknown; state?: unknown };
  if (typeof record.empId !== 'string' || typeof record.login !== 'string') return undefined;
  const platformIds: Partial<Record<Platform, string>> = {};
  if (typeof record.ids === 'object' && record.ids !== null) {
    for (const platform of ['dingtalk', 'lark'] as const) {
      const id = (record.ids as Record<string, unknown>)[platform];
      if (typeof id === 'string') platformIds[platform] = id;
    }
  }
  return { empId: record.empId, login: record.login, platformIds, ...(record.state === 'absent' ? { state: 'absent' as const } : {}) };
}
