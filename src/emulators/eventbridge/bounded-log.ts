/** A list that keeps the latest `limit` entries: the emulator's records stay bounded however long it runs. */
export class BoundedLog<T> {
  readonly limit: number;
  #entries: T[] = [];
  /** Entries dropped to stay within the limit. */
  dropped = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a bounded log keeps at least 1 entry; got ${limit}`);
    this.limit = limit;
  }

  push(entry: T): void {
    this.#entries.push(entry);
    // Trim in chunks, so a full log does not shift its array on every push.
    if (this.#entries.length >= this.limit * 2) this.#trim();
  }

  /** The kept entries, oldest first (a copy). */
  list(): T[] {
    this.#trim();
    return [...this.#entries];
  }

  #trim(): void {
    const excess = this.#entries.length - this.limit;
    if (excess > 0) {
      this.#entries.splice(0, excess);
      this.dropped += excess;
    }
  }
}
