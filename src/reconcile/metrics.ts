import { RollcallError } from '../config/errors.js';

/** Label values of one series, by label name; every label the metric declares, no other. */
export type Labels = Readonly<Record<string, string>>;

/** A value that only goes up (it restarts at 0 with the process). */
export interface Counter {
  /** Adds `by` (default 1, never negative) to the series of these labels. */
  inc(labels?: Labels, by?: number): void;
  /** The series' current value (0 if never incremented): for tests and status pages. */
  value(labels?: Labels): number;
}

/** A value that goes up and down. */
export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, by?: number): void;
  dec(labels?: Labels, by?: number): void;
  /** The series' current value (0 if never set). */
  value(labels?: Labels): number;
}

/** Observations counted into fixed buckets, with their sum and count. */
export interface Histogram {
  observe(value: number, labels?: Labels): void;
  /** How many observations the series has had. */
  count(labels?: Labels): number;
  /** The sum of the series' observations. */
  sum(labels?: Labels): number;
}

type MetricType = 'counter' | 'gauge' | 'histogram';

/** One time series: a counter's or gauge's value, or a histogram's per-bucket counts (not cumulative). */
interface Series {
  labelValues: readonly string[];
  value: number;
  bucketCounts: number[];
  count: number;
}

interface Family {
  name: string;
  help: string;
  type: MetricType;
  labelNames: readonly string[];
  /** Upper bounds, increasing, without +Inf (implicit). Empty for counters and gauges. */
  buckets: readonly number[];
  /** By a key made of the label values: grows with distinct label sets only. */
  series: Map<string, Series>;
}

interface Registered {
  family: Family;
  metric: Counter | Gauge | Histogram;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A tiny Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4 for `/metrics`. No dependency: rollcall needs a dozen metrics, not a
 * client library. Memory grows with the distinct label sets, never with observations.
 */
export class Metrics {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8' as const;
  readonly #registered = new Map<string, Registered>();

  /** A counter; registering the same name again with the same labels returns the same counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#register<Counter>(name, help, 'counter', labelNames, [], (family) => ({
      inc: (labels, by = 1) => {
        if (!Number.isFinite(by) || by < 0) throw misuse(`counter ${name} can only go up: inc by a finite number ≥ 0, not ${by}`);
        this.#series(family, labels).value += by;
      },
      value: (labels) => this.#peek(family, labels)?.value ?? 0,
    }));
  }

  /** A gauge; registering the same name again with the same labels returns the same gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#register<Gauge>(name, help, 'gauge', labelNames, [], (family) => ({
      set: (value, labels) => {
        this.#series(family, labels).value = value;
      },
      inc: (labels, by = 1) => {
        this.#series(family, labels).value += by;
      },
      dec: (labels, by = 1) => {
        this.#series(family, labels).value -= by;
      },
      value: (labels) => this.#peek(family, labels)?.value ?? 0,
    }));
  }

  /**
   * A histogram with these bucket upper bounds (increasing; `+Inf` is always added). Registering the
   * same name again with the same buckets and labels returns the same histogram.
   */
  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): Histogram {
    const bounds = buckets.filter((bound) => bound !== Infinity);
    if (bounds.length === 0) throw misuse(`histogram ${name} needs at least one finite bucket bound`);
    bounds.forEach((bound, index) => {
      if (!Number.isFinite(bound)) throw misuse(`histogram ${name}: bucket bound ${bound} is not a finite number`);
      if (index > 0 && bound <= bounds[index - 1]!) throw misuse(`histogram ${name}: bucket bounds must increase, but ${bound} follows ${bounds[index - 1]}`);
    });
    if (labelNames.includes('le')) throw misuse(`histogram ${name} cannot have a label named "le": Prometheus uses it for the buckets`);
    return this.#register<Histogram>(name, help, 'histogram', labelNames, bounds, (family) => ({
      observe: (value, labels) => {
        if (Number.isNaN(value)) throw misuse(`histogram ${name} cannot observe NaN`);
        const series = this.#series(family, labels);
        // Counted in the first bucket that holds it; render() adds them up into cumulative counts.
        const index = family.buckets.findIndex((bound) => value <= bound);
        series.bucketCounts[index === -1 ? family.buckets.length : index]! += 1;
        series.value += value;
        series.count += 1;
      },
      count: (labels) => this.#peek(family, labels)?.count ?? 0,
      sum: (labels) => this.#peek(family, labels)?.value ?? 0,
    }));
  }

  /**
   * Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` per family, label values
   * escaped, histograms as cumulative `_bucket{le=…}` (with `+Inf`), `_sum` and `_count`. Families
   * by name and series by label values, so the same state always renders the same text. A metric
   * without labels shows 0 before its first use; one with labels shows only the sets it has seen.
   */
  render(): string {
    const lines: string[] = [];
    const families = [...this.#registered.values()].map((entry) => entry.family).sort((a, b) => compare(a.name, b.name));
    for (const family of families) {
      lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
      const series = [...family.series.values()].sort((a, b) => compareLists(a.labelValues, b.labelValues));
      for (const entry of series) {
        const pairs = family.labelNames.map((labelName, index): [string, string] => [labelName, entry.labelValues[index]!]);
        if (family.type !== 'histogram') {
          lines.push(`${family.name}${labelSet(pairs)} ${formatNumber(entry.value)}`);
          continue;
        }
        let cumulative = 0;
        family.buckets.forEach((bound, index) => {
          cumulative += entry.bucketCounts[index]!;
          lines.push(`${family.name}_bucket${labelSet([...pairs, ['le', formatNumber(bound)]])} ${cumulative}`);
        });
        lines.push(`${family.name}_bucket${labelSet([...pairs, ['le', '+Inf']])} ${entry.count}`);
        lines.push(`${family.name}_sum${labelSet(pairs)} ${formatNumber(entry.value)}`);
        lines.push(`${family.name}_count${labelSet(pairs)} ${entry.count}`);
      }
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }

  #register<M extends Counter | Gauge | Histogram>(
    name: string,
    help: string,
    type: MetricType,
    labelNames: readonly string[],
    buckets: readonly number[],
    build: (family: Family) => M,
  ): M {
    const registered = this.#registered.get(name);
    if (registered !== undefined) {
      const existing = registered.family;
      const same = existing.type === type && sameList(existing.labelNames, labelNames) && sameList(existing.buckets, buckets);
      if (!same) {
        throw misuse(
          `metric ${name} is registered already as a ${existing.type} with labels [${existing.labelNames.join(', ')}]${existing.type === 'histogram' ? ` and buckets [${existing.buckets.join(', ')}]` : ''}: ` +
            `register it the same way everywhere, or give the new one another name`,
        );
      }
      // Same name, type, labels and buckets: the same metric, whatever type M was asked for.
      return registered.metric as M;
    }
    if (!METRIC_NAME.test(name)) throw misuse(`metric name ${JSON.stringify(name)} is not valid: use letters, digits, '_' and ':', not starting with a digit`);
    for (const labelName of labelNames) {
      if (!LABEL_NAME.test(labelName)) throw misuse(`metric ${name}: label name ${JSON.stringify(labelName)} is not valid: use letters, digits and '_', not starting with a digit`);
      if (labelName.startsWith('__')) throw misuse(`metric ${name}: label name ${labelName} starts with "__", which Prometheus reserves`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw misuse(`metric ${name}: label names [${labelNames.join(', ')}] repeat one`);
    const family: Family = { name, help, type, labelNames: [...labelNames], buckets: [...buckets], series: new Map() };
    const metric = build(family);
    this.#registered.set(name, { family, metric });
    // A metric without labels has one series from the start: it renders as 0, not as nothing.
    if (labelNames.length === 0) this.#series(family, undefined);
    return metric;
  }

  /** The series of these labels, created on first use. */
  #series(family: Family, labels: Labels | undefined): Series {
    const labelValues = this.#labelValues(family, labels);
    const key = JSON.stringify(labelValues);
    let series = family.series.get(key);
    if (series === undefined) {
      series = { labelValues, value: 0, bucketCounts: new Array<number>(family.buckets.length + 1).fill(0), count: 0 };
      family.series.set(key, series);
    }
    return series;
  }

  #peek(family: Family, labels: Labels | undefined): Series | undefined {
    return family.series.get(JSON.stringify(this.#labelValues(family, labels)));
  }

  #labelValues(family: Family, labels: Labels | undefined): string[] {
    const given = labels ?? {};
    const unknown = Object.keys(given).filter((labelName) => !family.labelNames.includes(labelName));
    const missing = family.labelNames.filter((labelName) => !Object.hasOwn(given, labelName));
    if (unknown.length > 0 || missing.length > 0) {
      throw misuse(
        `metric ${family.name} takes the labels [${family.labelNames.join(', ')}]` +
          (missing.length > 0 ? `; missing: ${missing.join(', ')}` : '') +
          (unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''),
      );
    }
    return family.labelNames.map((labelName) => String(given[labelName]));
  }
}

/** The buckets of `rollcall_reconcile_duration_seconds`: from a no-op reconcile to a slow fleet-wide apply. */
export const RECONCILE_SECONDS_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The reconciler's metrics, registered on `metrics` (again on a later call: the same ones come back). */
export interface ReconcilerMetrics {
  /** `rollcall_reconciles_total{trigger, result}`; result: applied, failed, no-changes, invalid, drift-detected or refused. */
  reconciles: Counter;
  /** `rollcall_reconcile_duration_seconds{trigger}`. */
  reconcileSeconds: Histogram;
  /** `rollcall_drift_found_total`: plan entries found by drift checks. */
  driftFound: Counter;
  /** `rollcall_drift_corrected_total`. */
  driftCorrected: Counter;
  /** `rollcall_cloud_api_calls_total{action}`. */
  apiCalls: Counter;
  /** `rollcall_cloud_api_errors_total{action, code}`. */
  apiErrors: Counter;
  /** `rollcall_outbox_pending`: notifications not yet delivered. */
  outboxPending: Gauge;
  /** `rollcall_approval_notices_total{platform, via, result}`; result: stored or duplicate. */
  approvalNotices: Counter;
  /** `rollcall_approvals_handled_total{outcome}`; outcome: submitted, refused, ignored or retry. */
  approvalsHandled: Counter;
  /** `rollcall_approval_inbox_open`: notices received and not handled yet. */
  approvalInboxOpen: Gauge;
  /** `rollcall_last_applied_timestamp_seconds`: Unix time of the last successful apply. */
  lastAppliedTimestamp: Gauge;
  /** `rollcall_ready`: 1 while the status is Ready, else 0. */
  ready: Gauge;
}

/** Creates (or finds) the reconciler's metrics on a registry. */
export function reconcilerMetrics(metrics: Metrics): ReconcilerMetrics {
  return {
    reconciles: metrics.counter('rollcall_reconciles_total', 'Reconciles by trigger and result (applied, failed, no-changes, invalid, drift-detected, refused).', ['trigger', 'result']),
    reconcileSeconds: metrics.histogram('rollcall_reconcile_duration_seconds', 'Time one reconcile took, from revision to recorded result.', RECONCILE_SECONDS_BUCKETS, ['trigger']),
    driftFound: metrics.counter('rollcall_drift_found_total', 'Plan entries found by drift checks.'),
    driftCorrected: metrics.counter('rollcall_drift_corrected_total', 'Plan entries of drift that were applied to correct it.'),
    apiCalls: metrics.counter('rollcall_cloud_api_calls_total', 'Cloud API calls by action.', ['action']),
    apiErrors: metrics.counter('rollcall_cloud_api_errors_total', 'Cloud API calls that failed, by action and error code.', ['action', 'code']),
    outboxPending: metrics.gauge('rollcall_outbox_pending', 'Chat notifications waiting in the outbox.'),
    approvalNotices: metrics.counter('rollcall_approval_notices_total', 'Verified approval and leaver notices by platform, ingress path and result (stored, duplicate).', ['platform', 'via', 'result']),
    approvalsHandled: metrics.counter('rollcall_approvals_handled_total', 'Approval notices handled, by outcome (submitted, refused, ignored, retry).', ['outcome']),
    approvalInboxOpen: metrics.gauge('rollcall_approval_inbox_open', 'Approval notices received and not handled yet.'),
    lastAppliedTimestamp: metrics.gauge('rollcall_last_applied_timestamp_seconds', 'Unix time of the last revision applied without failure.'),
    ready: metrics.gauge('rollcall_ready', '1 while the reconciler is Ready, else 0.'),
  };
}

/** Wrong use of the registry is a bug in rollcall, caught by its tests. */
function misuse(message: string): RollcallError {
  return new RollcallError('internal', message);
}

function labelSet(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return '';
  return `{${pairs.map(([labelName, value]) => `${labelName}="${escapeLabelValue(value)}"`).join(',')}}`;
}

function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`));
}

/** In HELP only backslash and newline are escaped (quotes are not). */
function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (char) => (char === '\n' ? '\\n' : '\\\\'));
}

/** Numbers as Prometheus parses them: `+Inf`, `-Inf`, `NaN`, otherwise JavaScript's shortest form. */
function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareLists(a: readonly string[], b: readonly string[]): number {
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const order = compare(a[index]!, b[index]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}
