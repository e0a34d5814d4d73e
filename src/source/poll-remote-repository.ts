import type { DesiredRepository } from './desired-repository.js';
import type { RepositoryWatcher } from './watch-local-repository.js';

/** How much slower than `intervalMs` polling gets while fetches keep failing. */
const MAX_BACKOFF = 5;

/**
 * Every intervalMs, `repo.fetch()`; onCommit when the branch moved; onError(error) on failures
 * (keeps polling, backing off to 5x the interval while failing: 2x, 4x, then 5x). `poke()` fetches
 * at once (the push hook calls it); a poke during a fetch fetches once more right after it, since
 * the push may have landed after that fetch began. After `close()` resolves nothing is called.
 */
export function pollRemoteRepository(
  repo: Pick<DesiredRepository, 'fetch'>,
  handlers: { onCommit(): void; onError(error: Error): void },
  options: { intervalMs: number },
): RepositoryWatcher & { poke(): void } {
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let pokedWhileRunning = false;
  let closed = false;

  const report = (error: unknown) => {
    if (!closed) handlers.onError(error instanceof Error ? error : new Error(String(error)));
  };

  const schedule = () => {
    clearTimeout(timer);
    if (closed) return;
    const delay = options.intervalMs * Math.min(2 ** failures, MAX_BACKOFF);
    timer = setTimeout(poll, delay);
  };

  const fetchOnce = async () => {
    let moved = false;
    try {
      moved = await repo.fetch();
      failures = 0;
    } catch (error) {
      failures += 1;
      report(error);
    }
    if (!moved || closed) return;
    try {
      handlers.onCommit();
    } catch (error) {
      report(error);
    }
  };

  function poll(): void {
    if (closed) return;
    if (running) {
      pokedWhileRunning = true;
      return;
    }
    clearTimeout(timer);
    running = fetchOnce().finally(() => {
      running = undefined;
      if (pokedWhileRunning && !closed) {
        pokedWhileRunning = false;
        poll();
      } else {
        schedule();
      }
    });
  }

  schedule();
  return {
    poke: poll,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
