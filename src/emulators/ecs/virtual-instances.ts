import { performance } from 'node:perf_hooks';
import type { RunResult, SandboxInstance } from './sandbox/sandbox-fleet.js';

/** A virtual instance: an id and tags, and nothing behind them. */
export interface VirtualInstanceOptions {
  id: string;
  tags?: Readonly<Record<string, string>>;
}

/** What a virtual instance's run printed and how it exited. */
export interface VirtualRunResult {
  exitCode: number;
  stdout?: string | Buffer;
  stderr?: string | Buffer;
}

/**
 * Answers a run on a virtual instance in place of a shell: the script as the command holds it
 * (placeholders not substituted) and the invocation's parameters (empty without EnableParameter).
 * `signal` aborts when the run is stopped or passes its Timeout; the result is then ignored.
 */
export type VirtualRunner = (
  instanceId: string,
  script: string,
  parameters: Readonly<Record<string, string>>,
  options: { signal: AbortSignal },
) => Promise<VirtualRunResult>;

/** A virtual instance's id collides with another, or there is no runner to answer its runs. */
export class VirtualInstancesError extends Error {
  override readonly name = 'VirtualInstancesError';
}

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Instances that exist for the API (DescribeInstances, DescribeCloudAssistantStatus, invocations,
 * faults) but have no sandbox behind them: a function answers their runs. A thousand of them cost
 * nothing, which is what a benchmark of API calls needs; a SendFile to one succeeds and writes nothing.
 */
export class VirtualInstances {
  readonly #instances: ReadonlyMap<string, SandboxInstance>;
  readonly #runner: VirtualRunner | undefined;

  constructor(instances: readonly VirtualInstanceOptions[] = [], runner?: VirtualRunner) {
    const byId = new Map<string, SandboxInstance>();
    for (const { id, tags } of instances) {
      if (!INSTANCE_ID.test(id)) throw new VirtualInstancesError(`virtual instance id ${JSON.stringify(id)} is not valid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
      if (byId.has(id)) throw new VirtualInstancesError(`virtual instance ${id} is listed twice`);
      byId.set(id, { id, tags: Object.freeze({ ...tags }) });
    }
    if (byId.size > 0 && runner === undefined) throw new VirtualInstancesError('virtual instances need a runner: pass `runner` to answer their runs');
    this.#instances = new Map([...byId].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    this.#runner = runner;
  }

  /** The virtual instances, by id. */
  list(): SandboxInstance[] {
    return [...this.#instances.values()];
  }

  get(id: string): SandboxInstance | undefined {
    return this.#instances.get(id);
  }

  /**
   * One run, shaped like a sandbox run: a stop (`signal`) or `timeoutMs` ends it at once with
   * `exitCode` null (`timedOut` true for the timeout) whatever the runner does afterwards; with
   * `hang` the runner is not called and the run lasts until one of them. A runner that throws is an
   * error of the run, as a crashed sandbox would be.
   */
  async run(id: string, script: string, parameters: Readonly<Record<string, string>>, options: { timeoutMs: number; signal: AbortSignal; hang?: boolean }): Promise<RunResult> {
    const runner = this.#runner!;
    const started = performance.now();
    const ended = new AbortController();
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = AbortSignal.any([options.signal, timeout]);
    const aborted = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true, signal: ended.signal }));
    try {
      // A hanging instance (`faults.hang`) never answers: the run lasts until its Timeout.
      const result = signal.aborted ? undefined : options.hang ? await aborted : await Promise.race([runner(id, script, parameters, { signal }), aborted]);
      const durationMs = Math.round(performance.now() - started);
      if (result === undefined) return { exitCode: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), durationMs, timedOut: timeout.aborted };
      return { exitCode: result.exitCode, stdout: Buffer.from(result.stdout ?? ''), stderr: Buffer.from(result.stderr ?? ''), durationMs, timedOut: false };
    } finally {
      ended.abort();
    }
  }
}
