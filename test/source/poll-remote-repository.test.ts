import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DesiredRepository } from '../../src/source/desired-repository.js';
import { pollRemoteRepository } from '../../src/source/poll-remote-repository.js';
import { commitFileIn, remoteRepo, tempDir } from './repo-fixture.js';

/** A repository whose fetch answers from a script: true (moved), false, or an error. */
function scriptedRepo(answers: (boolean | Error)[]) {
  const fetchedAt: number[] = [];
  return {
    fetchedAt,
    repo: {
      fetch: async () => {
        fetchedAt.push(Date.now());
        const answer = answers.shift() ?? false;
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('pollRemoteRepository', () => {
  it('fetches every interval and calls onCommit only when the branch moved', async () => {
    vi.useFakeTimers();
    const { repo, fetchedAt } = scriptedRepo([false, true, false]);
    const onCommit = vi.fn();
    const poller = pollRemoteRepository(repo, { onCommit, onError: vi.fn() }, { intervalMs: 1000 });
    await vi.advanceTimersByTimeAsync(999);
    expect(fetchedAt).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetchedAt).toHaveLength(1);
    expect(onCommit).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(onCommit).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fetchedAt).toHaveLength(3);
    expect(onCommit).toHaveBeenCalledTimes(1);
    await poller.close();
  });

  it('reports failures and backs off to five times the interval, then recovers', async () => {
    vi.useFakeTimers({ now: 0 });
    const failure = new Error('could not fetch');
    const { repo, fetchedAt } = scriptedRepo([failure, failure, failure, failure, true, false]);
    const onError = vi.fn();
    const onCommit = vi.fn();
    const poller = pollRemoteRepository(repo, { onCommit, onError }, { intervalMs: 100 });
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 500 + 500 + 100);
    expect(fetchedAt).toEqual([100, 300, 700, 1200, 1700, 1800]);
    expect(onError).toHaveBeenCalledTimes(4);
    expect(onError).toHaveBeenCalledWith(failure);
    expect(onCommit).toHaveBeenCalledTimes(1);
    await poller.close();
  });

  it('fetches at once on poke, once more when poked during a fetch, and never after close', async () => {
    let release: () => void = () => undefined;
    let calls = 0;
    const repo = {
      fetch: () => {
        calls += 1;
        return new Promise<boolean>((resolve) => {
          release = () => resolve(true);
        });
      },
    };
    const onCommit = vi.fn();
    const poller = pollRemoteRepository(repo, { onCommit, onError: vi.fn() }, { intervalMs: 60_000 });
    poller.poke();
    expect(calls).toBe(1);
    poller.poke();
    poller.poke();
    expect(calls).toBe(1);
    release();
    await vi.waitFor(() => expect(calls).toBe(2));
    expect(onCommit).toHaveBeenCalledTimes(1);
    const closing = poller.close();
    release();
    await closing;
    poller.poke();
    expect(calls).toBe(2);
    expect(onCommit).toHaveBeenCalledTimes(1);
  });

  it('sees a push to a real remote when poked', async () => {
    const { url, work, git } = remoteRepo();
    const repository = await DesiredRepository.open({ repo: url, workDir: path.join(tempDir(), 'repo') });
    const pushed = commitFileIn(work, 'desired-state/users/E2000.yaml', 'empId: E2000\n', 'Add E2000');
    git('push', '-q', 'origin', 'main');
    const onCommit = vi.fn();
    const poller = pollRemoteRepository(repository, { onCommit, onError: vi.fn() }, { intervalMs: 60_000 });
    poller.poke();
    await vi.waitFor(() => expect(onCommit).toHaveBeenCalledTimes(1), { timeout: 1500 });
    expect((await repository.head()).sha).toBe(pushed);
    await poller.close();
  });
});
