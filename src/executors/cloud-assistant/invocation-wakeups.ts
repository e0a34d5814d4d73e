/**
 * Cuts a result poll's wait short when Cloud Assistant says an invocation's task completed (its
 * `ecs:CloudAssistant:TaskCompleted` event through EventBridge), so results are read at once
 * instead of at the next poll. Polling stays the source of truth: an event that never comes only
 * costs the wait it would have saved.
 */
export class InvocationWakeups {
  readonly #waiting = new Map<string, Set<() => void>>();

  constructor(
    /** A wake-up never ends a wait sooner than this after it began: 100 instances finishing together make one poll, not 100. */
    private readonly minimumWaitMs = 50,
  ) {}

  /** Waits `ms`, or less when one of `invokeIds` is said to have completed meanwhile. */
  wait(ms: number, invokeIds: Iterable<string>): Promise<void> {
    const ids = [...invokeIds];
    const began = Date.now();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout;
      const done = () => {
        clearTimeout(timer);
        for (const id of ids) {
          const set = this.#waiting.get(id);
          set?.delete(wake);
          if (set?.size === 0) this.#waiting.delete(id);
        }
        resolve();
      };
      const wake = () => {
        clearTimeout(timer);
        timer = setTimeout(done, Math.max(0, this.minimumWaitMs - (Date.now() - began)));
      };
      timer = setTimeout(done, ms);
      for (const id of ids) {
        const set = this.#waiting.get(id) ?? new Set();
        set.add(wake);
        this.#waiting.set(id, set);
      }
    });
  }

  /** A task of this invocation completed: whoever waits on it polls now. Unknown ids are ignored. */
  completed(invokeId: string): void {
    for (const wake of [...(this.#waiting.get(invokeId) ?? [])]) wake();
  }
}
