import { createHash } from 'node:crypto';
import path from 'node:path';
import { parse } from 'yaml';
import { RollcallError } from '../config/errors.js';
import { Policy } from '../desired/schema.js';
import type { UserFileContext } from './apply-request.js';
import type { Git } from './fast-import.js';

/** What the uid, login and platform-id checks need of one user file, and its text. */
export interface UserFile {
  text: string;
  empId: string;
  uid?: number;
  login?: string;
  /** `<platform>/<id>` of each of the record's `ids`. */
  platformIds: string[];
}

/** The users folder and uid range at one commit. */
export interface UsersAt {
  /** Path from the top of the repository → blob oid, for every `users/*.yaml` (and fleet.yaml). */
  entries: ReadonlyMap<string, string>;
  uidRange: readonly [number, number];
  /** The file at `path`, undefined when there is none. */
  file(path: string): UserFile | undefined;
  /** A fresh context (its sets are the caller's to extend) of every user file. */
  context(): { uidRange: readonly [number, number]; usedUids: Set<number>; logins: Map<string, string>; platformIds: Map<string, string> } & UserFileContext;
}

/**
 * One repository's users folder as of the last commit read, with every user file parsed once per
 * blob (a thousand YAML files are not parsed again each round: a round reads only the blobs it
 * has not seen, with one `cat-file --batch`). After a round rollcall made itself, the listing is
 * carried forward from what the round wrote, so the next round does not list the tree again.
 */
export class UserFiles {
  #files = new Map<string, UserFile>();
  #ranges = new Map<string, readonly [number, number] | undefined>();
  #listing: { tip: string; folder: string; entries: Map<string, string> } | undefined;

  constructor(private readonly objectFormat: 'sha1' | 'sha256') {}

  /**
   * The users folder of `folder` (the desired-state folder, '' for the top) at commit `tip`;
   * `read` gives the contents of blobs (`readBlobs`).
   */
  async at(git: Git, read: (oids: readonly string[]) => Promise<(string | undefined)[]>, tip: string, folder: string): Promise<UsersAt> {
    const prefix = folder ? `${folder}/` : '';
    const fleetPath = `${prefix}fleet.yaml`;
    let entries = this.#listing?.tip === tip && this.#listing.folder === folder ? this.#listing.entries : undefined;
    if (entries === undefined) {
      const listing = (await git(['ls-tree', '-r', '-z', '--full-tree', tip, '--', `${prefix}users/`, fleetPath])).text;
      entries = new Map();
      for (const line of listing.split('\0')) {
        const tab = line.indexOf('\t');
        if (tab < 0) continue;
        const [, type = '', oid = ''] = line.slice(0, tab).split(' ');
        const file = line.slice(tab + 1);
        if (type === 'blob' && (file === fleetPath || file.endsWith('.yaml'))) entries.set(file, oid);
      }
      this.#listing = { tip, folder, entries };
    }
    const fleetOid = entries.get(fleetPath);
    const unknown = [...entries].filter(([file, oid]) => (file === fleetPath ? !this.#ranges.has(oid) : !this.#files.has(oid)));
    if (unknown.length > 0) {
      const texts = await read(unknown.map(([, oid]) => oid));
      unknown.forEach(([file, oid], index) => {
        const text = texts[index] ?? '';
        if (file === fleetPath) {
          const range = Policy.shape.uidRange.safeParse((safeParse(text)?.policy as { uidRange?: unknown } | undefined)?.uidRange);
          this.#ranges.set(oid, range.success ? range.data : undefined);
        } else {
          this.#files.set(oid, describeUserFile(file, text));
        }
      });
    }
    const uidRange = fleetOid === undefined ? undefined : this.#ranges.get(fleetOid);
    if (uidRange === undefined) {
      throw new RollcallError('invalid-input', `${fleetPath} at ${tip} has no valid policy.uidRange: rollcall allocates uids from it; fix fleet.yaml`);
    }
    // Files no longer in the folder are forgotten: the cache holds one folder's worth.
    const live = new Set(entries.values());
    for (const oid of this.#files.keys()) if (!live.has(oid)) this.#files.delete(oid);
    const files = this.#files;
    const listed = entries;
    return {
      entries: listed,
      uidRange,
      file: (file) => {
        const oid = listed.get(file);
        return oid === undefined || file === fleetPath ? undefined : files.get(oid);
      },
      context: () => {
        const usedUids = new Set<number>();
        const logins = new Map<string, string>();
        const platformIds = new Map<string, string>();
        for (const [file, oid] of listed) {
          const record = file === fleetPath ? undefined : files.get(oid);
          if (record !== undefined) addToContext(record, usedUids, logins, platformIds);
        }
        return { uidRange, usedUids, logins, platformIds };
      },
    };
  }

  /**
   * After rollcall moved the branch from `from` to `to` itself: the listing at `to` is the one at
   * `from` with `written` (path → file and its blob oid), so the next round need not list it again.
   */
  advance(from: string, to: string, written: ReadonlyMap<string, { oid: string; file: UserFile }>): void {
    for (const { oid, file } of written.values()) this.#files.set(oid, file);
    if (this.#listing?.tip !== from) return;
    const entries = new Map(this.#listing.entries);
    for (const [file, { oid }] of written) entries.set(file, oid);
    this.#listing = { tip: to, folder: this.#listing.folder, entries };
  }

  /** The blob oid git gives `text`. */
  blobOid(text: string): string {
    const bytes = Buffer.from(text, 'utf8');
    return createHash(this.objectFormat).update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
  }
}

/** The uid, login and platform ids of a user file's text (what it holds, valid or not). */
export function describeUserFile(file: string, text: string): UserFile {
  const record = safeParse(text);
  const empId = String(record?.empId ?? path.basename(file, '.yaml'));
  const platformIds: string[] = [];
  const ids = record?.ids;
  if (typeof ids === 'object' && ids !== null) {
    for (const [platform, id] of Object.entries(ids)) if (typeof id === 'string' || typeof id === 'number') platformIds.push(`${platform}/${String(id)}`);
  }
  return {
    text,
    empId,
    ...(Number.isInteger(record?.uid) ? { uid: record!.uid as number } : {}),
    ...(typeof record?.login === 'string' ? { login: record.login } : {}),
    platformIds,
  };
}

/** Adds what `record` holds to the sets a request is checked against. */
export function addToContext(record: UserFile, usedUids: Set<number>, logins: Map<string, string>, platformIds: Map<string, string>): void {
  if (record.uid !== undefined) usedUids.add(record.uid);
  if (record.login !== undefined) logins.set(record.login, record.empId);
  for (const id of record.platformIds) platformIds.set(id, record.empId);
}

/** A YAML mapping as a plain object, or undefined when the text is not one. */
function safeParse(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
