/**
 * The daemon's status, the way Flux reports a Kustomization: one state (Ready, Reconciling or
 * Stalled) with a PascalCase reason and a message, the Ready condition, the last attempted and
 * last applied revisions, and the same per instance.
 */

export type ReconcilerState = 'Ready' | 'Reconciling' | 'Stalled';

/** Why the state is what it is (PascalCase, stable: scripts and alerts match on it). */
export type StatusReason =
  | 'Starting'
  | 'Progressing'
  | 'ReconciliationSucceeded'
  | 'ValidationFailed'
  | 'PlanRefused'
  | 'ApplyFailed'
  | 'DriftDetected'
  | 'FleetUnreachable'
  | 'GitOperationFailed';

export interface Condition {
  type: 'Ready' | 'Reconciling' | 'Stalled';
  status: 'True' | 'False' | 'Unknown';
  reason: StatusReason;
  message: string;
  lastTransitionTime: string;
}

export interface InstanceStatus {
  state: ReconcilerState;
  reason: StatusReason;
  message: string;
  lastAttemptedRevision?: string;
  lastAppliedRevision?: string;
  /** When rollcall last changed something there. */
  lastChangedAt?: string;
}

export interface ReconcilerStatus {
  state: ReconcilerState;
  reason: StatusReason;
  message: string;
  /** Full sha of the newest revision rollcall tried to apply. */
  lastAttemptedRevision?: string;
  /** Full sha of the newest revision applied on every instance, with its git note written. */
  lastAppliedRevision?: string;
  /** When the last reconcile ended. */
  lastHandledAt?: string;
  repository: { repo: string; branch: string; path: string };
  conditions: Condition[];
  instances: Record<string, InstanceStatus>;
  /** Notifications stored but not yet delivered. */
  outboxPending: number;
  /** Approvals received and not yet committed, refused or ignored (waiting for a retry included). */
  approvalsPending?: number;
  /** The chat robots rollcall has posted to: paused ones and the last failure of each (webhooks redacted). */
  robots?: RobotStatus[];
  /** Files under the desired-state folder of a local work tree that differ from the commit: not applied until committed. */
  uncommittedEdits?: string[];
}

/** One chat robot, for `/status`: its channel, its webhook with the secrets redacted, and why it is not sending. */
export interface RobotStatus {
  channel: string;
  target: string;
  /** Paused by the platform (throttled) or after failures, until then (epoch ms). */
  pausedUntil?: number;
  lastFailure?: { code: string | number; message: string; fix?: string };
}

/**
 * Holds the status and moves it; every change is handed to `onChange` (the state store saves it,
 * the metrics follow it).
 */
export class StatusTracker {
  private status: ReconcilerStatus;

  constructor(
    repository: ReconcilerStatus['repository'],
    private readonly onChange: (status: ReconcilerStatus) => void = () => {},
    saved?: ReconcilerStatus,
    private readonly now: () => Date = () => new Date(),
  ) {
    // A saved status keeps its revisions and instances across a restart; its state starts over.
    this.status = {
      state: 'Reconciling',
      reason: 'Starting',
      message: 'starting: reading the repository and the state store',
      repository,
      conditions: [],
      instances: saved?.instances ?? {},
      outboxPending: saved?.outboxPending ?? 0,
      ...(saved?.lastAttemptedRevision ? { lastAttemptedRevision: saved.lastAttemptedRevision } : {}),
      ...(saved?.lastAppliedRevision ? { lastAppliedRevision: saved.lastAppliedRevision } : {}),
      ...(saved?.lastHandledAt ? { lastHandledAt: saved.lastHandledAt } : {}),
    };
    this.status.conditions = this.conditionsFor('Reconciling', 'Starting', this.status.message, saved?.conditions ?? []);
  }

  /** A deep copy: callers may keep or serialize it. */
  get(): ReconcilerStatus {
    return structuredClone(this.status);
  }

  /** A reconcile of `revision` has started. */
  reconciling(revision: string, message: string): void {
    this.set('Reconciling', 'Progressing', message, { lastAttemptedRevision: revision });
  }

  /** Every instance has the revision and its note is written. */
  applied(revision: string, message: string): void {
    this.set('Ready', 'ReconciliationSucceeded', message, { lastAttemptedRevision: revision, lastAppliedRevision: revision, lastHandledAt: this.now().toISOString() });
  }

  /** The fleet is as the last applied revision says (a drift check found nothing, or fixed it). */
  ready(message: string): void {
    this.set('Ready', 'ReconciliationSucceeded', message, { lastHandledAt: this.now().toISOString() });
  }

  /** Cannot progress without someone fixing something; `revision` is the one that was attempted, if any. */
  stalled(reason: Exclude<StatusReason, 'Starting' | 'Progressing' | 'ReconciliationSucceeded'>, message: string, revision?: string): void {
    this.set('Stalled', reason, message, { ...(revision ? { lastAttemptedRevision: revision } : {}), lastHandledAt: this.now().toISOString() });
  }

  instance(id: string, update: Omit<InstanceStatus, 'lastAttemptedRevision' | 'lastAppliedRevision' | 'lastChangedAt'> & { attempted?: string; applied?: string; changed?: boolean }): void {
    const before = this.status.instances[id];
    const { attempted, applied, changed, ...state } = update;
    this.status.instances[id] = {
      ...state,
      ...((attempted ?? before?.lastAttemptedRevision) ? { lastAttemptedRevision: attempted ?? before?.lastAttemptedRevision } : {}),
      ...((applied ?? before?.lastAppliedRevision) ? { lastAppliedRevision: applied ?? before?.lastAppliedRevision } : {}),
      ...(changed ? { lastChangedAt: this.now().toISOString() } : before?.lastChangedAt ? { lastChangedAt: before.lastChangedAt } : {}),
    };
    this.onChange(this.get());
  }

  /** Instances no hostgroup selects any more are dropped from the status. */
  keepInstances(ids: ReadonlySet<string>): void {
    const dropped = Object.keys(this.status.instances).filter((id) => !ids.has(id));
    if (dropped.length === 0) return;
    for (const id of dropped) delete this.status.instances[id];
    this.onChange(this.get());
  }

  /** The watched work tree's uncommitted edits (an empty list clears them). */
  uncommittedEdits(files: readonly string[]): void {
    if (files.length === 0) delete this.status.uncommittedEdits;
    else this.status.uncommittedEdits = [...files];
    this.onChange(this.get());
  }

  robots(robots: readonly RobotStatus[]): void {
    const next = robots.length > 0 ? [...robots] : undefined;
    if (JSON.stringify(next) === JSON.stringify(this.status.robots)) return;
    if (next) this.status.robots = next;
    else delete this.status.robots;
    this.onChange(this.get());
  }

  approvalsPending(count: number): void {
    if ((this.status.approvalsPending ?? 0) === count) return;
    this.status.approvalsPending = count;
    this.onChange(this.get());
  }

  outboxPending(count: number): void {
    if (this.status.outboxPending === count) return;
    this.status.outboxPending = count;
    this.onChange(this.get());
  }

  private set(state: ReconcilerState, reason: StatusReason, message: string, revisions: Partial<Pick<ReconcilerStatus, 'lastAttemptedRevision' | 'lastAppliedRevision' | 'lastHandledAt'>>): void {
    this.status = {
      ...this.status,
      ...revisions,
      state,
      reason,
      message,
      conditions: this.conditionsFor(state, reason, message, this.status.conditions),
    };
    this.onChange(this.get());
  }

  /** The three conditions of a state; a condition keeps its transition time while its status stays. */
  private conditionsFor(state: ReconcilerState, reason: StatusReason, message: string, previous: readonly Condition[]): Condition[] {
    const now = this.now().toISOString();
    const make = (type: Condition['type'], status: Condition['status']): Condition => {
      const before = previous.find((condition) => condition.type === type);
      return { type, status, reason, message, lastTransitionTime: before && before.status === status ? before.lastTransitionTime : now };
    };
    return [
      make('Ready', state === 'Ready' ? 'True' : state === 'Stalled' ? 'False' : 'Unknown'),
      make('Reconciling', state === 'Reconciling' ? 'True' : 'False'),
      make('Stalled', state === 'Stalled' ? 'True' : 'False'),
    ];
  }
}
