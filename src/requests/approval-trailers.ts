import type { Git } from './fast-import.js';

/** Rounds of rollcall's own commits kept undoable (a rejected push moves the branch back). */
const MAX_LAYERS = 16;

/**
 * The `Approval:` trailers of one branch's history: `<platform>/<id>` → the approval's own commit
 * (merge commits, which repeat their approvals' trailers, are left out). Kept per repository and
 * brought forward incrementally: a branch that moved ahead costs one `git log` of the new commits,
 * a round rollcall committed itself costs none, and a history that was rewritten is read again
 * whole. Exactly-once then costs no git process per approval.
 */
export class ApprovalTrailers {
  /** The commit the map is exact for. */
  #tip: string | undefined;
  #approvals = new Map<string, string>();
  /** Rollcall's own rounds on top of a commit it read: what each added, to take back when the branch moves back. */
  #layers: { base: string; added: [key: string, previous: string | undefined][] }[] = [];

  /** The trailers of every commit reachable from `tip`. */
  async at(git: Git, tip: string): Promise<ReadonlyMap<string, string>> {
    if (this.#tip === tip) return this.#approvals;
    if (this.#tip !== undefined && (await this.#advance(git, tip, this.#tip))) return this.#approvals;
    // The branch moved back or elsewhere: what rollcall's own rounds added since a commit it read may be gone.
    const base = this.#layers[0]?.base;
    if (base !== undefined) {
      for (const layer of this.#layers.reverse()) for (const [key, previous] of layer.added.reverse()) this.#set(key, previous);
      this.#layers = [];
      this.#tip = base;
      if (base === tip || (await this.#advance(git, tip, base))) return this.#approvals;
    }
    await this.#scan(git, tip);
    return this.#approvals;
  }

  /** Rollcall moved the branch from `base` to `tip` with these approval commits (`key` → sha). */
  record(base: string, tip: string, commits: Iterable<readonly [string, string]>): void {
    if (this.#tip !== base) {
      // Not the history the map is exact for: the next read finds out again.
      this.#tip = undefined;
      this.#layers = [];
      return;
    }
    const added: [string, string | undefined][] = [];
    for (const [key, sha] of commits) {
      added.push([key, this.#approvals.get(key)]);
      this.#approvals.set(key, sha);
    }
    this.#layers.push({ base, added });
    if (this.#layers.length > MAX_LAYERS) this.#layers.shift();
    this.#tip = tip;
  }

  /**
   * The commits of `tip` that `from` lacks, when `from` is an ancestor of `tip` (one `git log`;
   * with --boundary, `from` shows as a boundary commit exactly when it is one). false otherwise.
   */
  async #advance(git: Git, tip: string, from: string): Promise<boolean> {
    const records = await this.#log(git, ['--boundary', tip, `^${from}`]);
    if (!records.some((record) => record.boundary && record.sha === from)) return false;
    for (const record of records.filter((entry) => !entry.boundary).reverse()) for (const key of record.keys) this.#approvals.set(key, record.sha);
    this.#tip = tip;
    this.#layers = [];
    return true;
  }

  async #scan(git: Git, tip: string): Promise<void> {
    this.#approvals = new Map();
    this.#layers = [];
    // Oldest first, so that the newest commit of an approval (as `git log --grep` finds first) is the one kept.
    for (const record of (await this.#log(git, [tip])).reverse()) for (const key of record.keys) this.#approvals.set(key, record.sha);
    this.#tip = tip;
  }

  async #log(git: Git, range: readonly string[]): Promise<{ sha: string; boundary: boolean; keys: string[] }[]> {
    const text = (await git(['log', '--format=%m%H%x1f%P%x1f%(trailers:key=Approval,valueonly,separator=%x1f)%x1e', ...range, '--'])).text;
    const records: { sha: string; boundary: boolean; keys: string[] }[] = [];
    for (const entry of text.split('\x1e')) {
      const trimmed = entry.replace(/^\n+/, '');
      if (trimmed === '') continue;
      const [head = '', parents = '', ...values] = trimmed.split('\x1f');
      const boundary = head.startsWith('-');
      const sha = head.replace(/^[<>\-=^]/, '');
      // A merge commit repeats its approvals' trailers: the approval's own commit is the one to return.
      const keys = parents.trim().split(' ').length > 1 ? [] : values.map((value) => value.trim()).filter(Boolean);
      records.push({ sha, boundary, keys });
    }
    return records;
  }

  #set(key: string, sha: string | undefined): void {
    if (sha === undefined) this.#approvals.delete(key);
    else this.#approvals.set(key, sha);
  }
}
