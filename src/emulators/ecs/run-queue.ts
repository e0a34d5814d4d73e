/**
 * At most `limit` runs at once across the emulator, first come first served: an invocation on 200
 * instances starts 16 scripts (by default), and the rest stay `Pending` until a slot frees, as a
 * loaded Cloud Assistant would show them.
 */
export class RunQueue {
  readonly limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a whole number, 1 or more, not ${limit}`);
    this.limit = limit;
  }

  /** Runs holding a slot now. */
  get active(): number {
    return this.#active;
  }

  /** Resolves, once a slot is free, with the function that gives it back (call it exactly once). */
  async acquire(): Promise<() => void> {
    if (this.#active < this.limit) {
      this.#active++;
    } else {
      // The releasing run hands its slot straight over, so #active never dips and overshoots.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    };
  }
}
