import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { RollcallError } from '../config/errors.js';
import type { DesiredRepository } from './desired-repository.js';
import { runGit } from './git.js';

/** A running watcher or poller. */
export interface RepositoryWatcher {
  /** Stops it; once this resolves no handler is called again. */
  close(): Promise<void>;
}

/** What a watcher tells the daemon. */
export interface LocalRepositoryHandlers {
  /** The tracked branch's tip moved (a commit, an amend, a reset, a pull or merge). */
  onCommit(): void;
  /** The files under the desired-state path that differ from HEAD, whenever that list changes (also at start, when not empty). */
  onUncommittedEdits?(paths: string[]): void;
}

/**
 * chokidar on the git dir's refs (refs/heads/<branch>, packed-refs, HEAD) and on the working tree's
 * `path`; calls onCommit (debounced, default 50 ms) when the tracked branch's tip moved, and
 * onUncommittedEdits(paths) (debounced, default 500 ms) when the files under path that differ from
 * HEAD change. Ready (initial scan done) when the promise resolves. Works for commits made by
 * `git commit`, `git commit --amend`, `git reset`, `git pull`/merge and `git gc` (packed refs).
 */
export async function watchLocalRepository(
  repo: DesiredRepository,
  handlers: LocalRepositoryHandlers,
  options: { debounceMs?: number; editsDebounceMs?: number } = {},
): Promise<RepositoryWatcher> {
  if (repo.kind !== 'local') {
    throw new RollcallError('internal', `watchLocalRepository needs a local repository, not ${repo.root}: poll a remote with pollRemoteRepository`);
  }
  const { gitDir, commonDir } = await gitDirectories(repo.root);
  const branchRef = path.join(commonDir, 'refs', 'heads', ...repo.branch.split('/'));
  const packedRefs = path.join(commonDir, 'packed-refs');
  const head = path.join(gitDir, 'HEAD');
  let closed = false;
  let lastTip = (await repo.head()).sha;
  let lastEdits: string[] = [];

  const edits = serialDebounce(options.editsDebounceMs ?? 500, async () => {
    const now = await repo.uncommittedChanges().catch(() => undefined);
    if (closed || now === undefined || sameList(now, lastEdits)) return;
    lastEdits = now;
    handlers.onUncommittedEdits?.(now);
  });
  const commits = serialDebounce(options.debounceMs ?? 50, async () => {
    // While git rewrites refs the branch can be unreadable for a moment; the next event reads it.
    const tip = await repo.head().then((revision) => revision.sha, () => undefined);
    if (closed || tip === undefined) return;
    if (tip !== lastTip) {
      lastTip = tip;
      handlers.onCommit();
    }
    // A commit changes what differs from HEAD.
    if (handlers.onUncommittedEdits) edits.trigger();
  });

  const refsWatcher = watch([commonDir, gitDir], {
    ignoreInitial: true,
    // Only the few files that can move the branch; everything else in the git dir (objects, logs,
    // index, lock files) is skipped without being read.
    ignored: (file) => !isRefPath(path.resolve(file), { commonDir, gitDir, packedRefs, head }),
  });
  refsWatcher.on('all', (_event, file) => {
    const changed = path.resolve(file);
    if (changed === branchRef || changed === packedRefs || changed === head) commits.trigger();
  });
  const watchers: FSWatcher[] = [refsWatcher];

  // A bare repository has no work tree to edit.
  if (handlers.onUncommittedEdits && gitDir !== repo.root) {
    const treeWatcher = watch(path.join(repo.root, repo.path), { ignoreInitial: true });
    treeWatcher.on('all', () => edits.trigger());
    watchers.push(treeWatcher);
  }
  // A watcher error (a folder removed under it) must not crash the daemon; the next event recovers.
  for (const watcher of watchers) watcher.on('error', () => undefined);
  await Promise.all(watchers.map((watcher) => new Promise<void>((resolve) => watcher.once('ready', () => resolve()))));
  if (handlers.onUncommittedEdits) await edits.runNow();

  return {
    async close() {
      closed = true;
      await Promise.all([...watchers.map((watcher) => watcher.close()), commits.cancel(), edits.cancel()]);
    },
  };
}

async function gitDirectories(root: string): Promise<{ gitDir: string; commonDir: string }> {
  const [gitDir = '', commonDir = ''] = (await runGit(root, ['rev-parse', '--absolute-git-dir', '--git-common-dir'])).text.split('\n');
  return { gitDir, commonDir: path.resolve(root, commonDir) };
}

/** The git-dir paths the refs watcher reads: the dirs, HEAD, packed-refs and refs/heads (not lock files). */
function isRefPath(file: string, dirs: { commonDir: string; gitDir: string; packedRefs: string; head: string }): boolean {
  if (file === dirs.commonDir || file === dirs.gitDir || file === dirs.packedRefs || file === dirs.head) return true;
  const refs = path.join(dirs.commonDir, 'refs');
  const heads = path.join(refs, 'heads');
  return file === refs || ((file === heads || file.startsWith(heads + path.sep)) && !file.endsWith('.lock'));
}

/**
 * Runs `task` once `ms` after the last trigger, never twice at a time: a trigger while it runs
 * runs it again afterwards, since the event may have come after the task read the repository.
 */
function serialDebounce(ms: number, task: () => Promise<void>): { trigger(): void; runNow(): Promise<void>; cancel(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let cancelled = false;
  const run = (): Promise<void> => {
    if (cancelled) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = task()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          trigger();
        }
      });
    return running;
  };
  const trigger = () => {
    if (cancelled) return;
    clearTimeout(timer);
    timer = setTimeout(() => void run(), ms);
  };
  return {
    trigger,
    runNow: run,
    async cancel() {
      cancelled = true;
      clearTimeout(timer);
      await running;
    },
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
