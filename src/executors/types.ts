import type { OperationResult } from '../agent/parse-agent-output.js';
import type { Hostgroup } from '../desired/schema.js';
import type { ObservedState } from '../plan/observed-state.js';
import type { Plan } from '../plan/types.js';

/**
 * The Executor port: how rollcall reaches instances. The planner never sees it; `cli/` and
 * `reconcile/` wire one in. Adapters live in their own folders (`cloud-assistant/`).
 */
export interface Executor {
  /** The Linux instances the hostgroups select, with their tags; what was left out, and why. */
  instances(hostgroups: Readonly<Record<string, Hostgroup>>): Promise<InstanceList>;
  /** The observed state of these instances (the snapshot `plan --observed` reads). */
  inventory(instances: readonly FleetInstance[], options?: ProgressOptions): Promise<InventoryResult>;
  /** Applies each instance's plan entries; every operation's result comes back per instance. */
  apply(plan: Plan, options: ApplyOptions): Promise<ApplyResult>;
  /**
   * Waits until no run of the agent that an earlier process started is still going on any
   * instance (after a crash, before observing again); returns how many it waited for.
   */
  quiesce(timeoutMs?: number): Promise<number>;
  /**
   * The platform said a task of this invocation completed (Cloud Assistant's TaskCompleted event):
   * an apply or inventory waiting on it reads its results now rather than at the next poll.
   */
  invocationCompleted?(invokeId: string): void;
}

export interface FleetInstance {
  id: string;
  tags: Record<string, string>;
  name?: string;
}

export interface InstanceList {
  instances: FleetInstance[];
  /** Instances left out (not Linux, not running, Cloud Assistant offline) and ids that do not exist. */
  warnings: { instance?: string; message: string }[];
  /** Instances that should be managed but cannot be reached now: not everything can be applied. */
  unreachable: InstanceFailure[];
}

/** Why an instance could not be read or changed, in words a person can act on. */
export interface InstanceFailure {
  instance: string;
  message: string;
  /** Cloud Assistant's status and error code, when it gave them. */
  status?: string;
  errorCode?: string;
}

export interface InventoryResult {
  observed: ObservedState;
  failures: InstanceFailure[];
}

export interface ProgressEvent {
  done: number;
  failed: number;
  running: number;
  total: number;
}

export interface ProgressOptions {
  onProgress?: (event: ProgressEvent) => void;
}

export interface ApplyOptions extends ProgressOptions {
  /** Only grows from revision to revision: the agent refuses anything older than it last applied. */
  generation: number;
  /**
   * Names this attempt at applying the plan; part of every ClientToken. Within one attempt a
   * repeated call never starts a second run; a process that resumes an attempt after a crash
   * passes the same name and reads the same invocations. A new attempt runs again, so that a
   * failure can be retried. Default: a new random name.
   */
  attempt?: string;
  /** Told of each invocation before it starts and once it has an id: the caller's write-ahead log. */
  journal?: ApplyJournal;
}

/** The invocations of an apply, recorded by the caller so that a restart can find them. */
export interface ApplyJournal {
  starting(invocation: { clientToken: string; chunk: string; instances: readonly string[] }): void | Promise<void>;
  started(invocation: { clientToken: string; invokeId: string }): void | Promise<void>;
}

export interface InstanceApplyResult {
  instance: string;
  /** applied: every operation ran without failing; failed: some failed, or the instance was unreachable. */
  status: 'applied' | 'failed' | 'skipped';
  results: OperationResult[];
  message?: string;
  /** The agent's exit code of the last run on the instance (0 when every run succeeded). */
  exitCode?: number;
  /** Time the instance's runs took, added up, as Cloud Assistant reported it. */
  durationMs?: number;
}

export interface ApplyResult {
  instances: InstanceApplyResult[];
  /** Why not every instance was attempted (the error budget ran out), if that happened. */
  stopped?: string;
}
