import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import { Metrics, RECONCILE_SECONDS_BUCKETS, reconcilerMetrics } from '../../src/reconcile/metrics.js';

describe('Metrics', () => {
  it('renders a small registry in the text exposition format, families by name and series by label values', () => {
    const metrics = new Metrics();
    const requests = metrics.counter('app_requests_total', 'Requests served.', ['method', 'code']);
    const temperature = metrics.gauge('app_temperature_celsius', 'Current temperature.');
    const latency = metrics.histogram('app_latency_seconds', 'Request latency.', [0.1, 1], ['route']);
    requests.inc({ method: 'POST', code: '200' });
    requests.inc({ method: 'GET', code: '500' }, 2);
    requests.inc({ method: 'GET', code: '200' });
    temperature.set(21.5);
    latency.observe(0.05, { route: '/a' });
    latency.observe(0.5, { route: '/a' });
    latency.observe(3, { route: '/a' });

    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(metrics.render()).toMatchInlineSnapshot(`
      "# HELP app_latency_seconds Request latency.
      # TYPE app_latency_seconds histogram
      app_latency_seconds_bucket{route="/a",le="0.1"} 1
      app_latency_seconds_bucket{route="/a",le="1"} 2
      app_latency_seconds_bucket{route="/a",le="+Inf"} 3
      app_latency_seconds_sum{route="/a"} 3.55
      app_latency_seconds_count{route="/a"} 3
      # HELP app_requests_total Requests served.
      # TYPE app_requests_total counter
      app_requests_total{method="GET",code="200"} 1
      app_requests_total{method="GET",code="500"} 2
      app_requests_total{method="POST",code="200"} 1
      # HELP app_temperature_celsius Current temperature.
      # TYPE app_temperature_celsius gauge
      app_temperature_celsius 21.5
      "
    `);
  });

  it('shows a metric without labels as 0 before first use, and one with labels only once it has a series', () => {
    const metrics = new Metrics();
    metrics.counter('a_total', 'A.');
    metrics.counter('b_total', 'B.', ['kind']);
    metrics.histogram('c_seconds', 'C.', [1]);
    expect(metrics.render()).toBe(
      [
        '# HELP a_total A.',
        '# TYPE a_total counter',
        'a_total 0',
        '# HELP b_total B.',
        '# TYPE b_total counter',
        '# HELP c_seconds C.',
        '# TYPE c_seconds histogram',
        'c_seconds_bucket{le="1"} 0',
        'c_seconds_bucket{le="+Inf"} 0',
        'c_seconds_sum 0',
        'c_seconds_count 0',
        '',
      ].join('\n'),
    );
    expect(new Metrics().render()).toBe('');
  });

  it('escapes backslash, double quote and newline in label values, and backslash and newline in help', () => {
    const metrics = new Metrics();
    metrics.counter('escapes_total', 'Help with \\ and\na newline and "quotes".', ['path']).inc({ path: 'C:\\dir\n"x"' });
    const lines = metrics.render().split('\n');
    expect(lines[0]).toBe('# HELP escapes_total Help with \\\\ and\\na newline and "quotes".');
    expect(lines[2]).toBe('escapes_total{path="C:\\\\dir\\n\\"x\\""} 1');
  });

  it('counts histogram buckets cumulatively: a value on a bound falls in that bucket, above every bound only in +Inf', () => {
    const metrics = new Metrics();
    const histogram = metrics.histogram('h_seconds', 'H.', [1, 2, 5]);
    for (const value of [0, 1, 1.5, 2, 7, 100]) histogram.observe(value);
    const buckets = metrics
      .render()
      .split('\n')
      .filter((line) => line.startsWith('h_seconds_'));
    expect(buckets).toEqual([
      'h_seconds_bucket{le="1"} 2',
      'h_seconds_bucket{le="2"} 4',
      'h_seconds_bucket{le="5"} 4',
      'h_seconds_bucket{le="+Inf"} 6',
      'h_seconds_sum 111.5',
      'h_seconds_count 6',
    ]);
    expect(histogram.count()).toBe(6);
    expect(histogram.sum()).toBe(111.5);
  });

  it('accepts +Inf among the buckets without rendering it twice', () => {
    const metrics = new Metrics();
    metrics.histogram('inf_seconds', 'I.', [1, Infinity]).observe(3);
    expect(metrics.render().match(/le="\+Inf"/g)).toHaveLength(1);
  });

  it('moves gauges both ways and keeps counters and gauges per label set', () => {
    const metrics = new Metrics();
    const gauge = metrics.gauge('queue_depth', 'Q.', ['queue']);
    gauge.set(5, { queue: 'a' });
    gauge.inc({ queue: 'a' });
    gauge.dec({ queue: 'a' }, 3);
    gauge.inc({ queue: 'b' }, 2);
    expect(gauge.value({ queue: 'a' })).toBe(3);
    expect(gauge.value({ queue: 'b' })).toBe(2);
    expect(gauge.value({ queue: 'never' })).toBe(0);
    const counter = metrics.counter('events_total', 'E.');
    counter.inc();
    counter.inc(undefined, 4);
    expect(counter.value()).toBe(5);
  });

  it('returns the existing metric for the same name, type and labels, and throws for a different one', () => {
    const metrics = new Metrics();
    const first = metrics.counter('jobs_total', 'Jobs.', ['queue']);
    const again = metrics.counter('jobs_total', 'Other help is ignored.', ['queue']);
    expect(again).toBe(first);
    again.inc({ queue: 'q' });
    expect(first.value({ queue: 'q' })).toBe(1);

    expect(() => metrics.gauge('jobs_total', 'Jobs.', ['queue'])).toThrow(/registered already as a counter with labels \[queue\]/);
    expect(() => metrics.counter('jobs_total', 'Jobs.', ['queue', 'kind'])).toThrow(RollcallError);
    expect(() => metrics.counter('jobs_total', 'Jobs.')).toThrow(/registered already/);

    const histogram = metrics.histogram('wait_seconds', 'W.', [1, 2]);
    expect(metrics.histogram('wait_seconds', 'W.', [1, 2])).toBe(histogram);
    expect(() => metrics.histogram('wait_seconds', 'W.', [1, 3])).toThrow(/buckets \[1, 2\]/);
  });

  it('validates metric names, label names and bucket bounds', () => {
    const metrics = new Metrics();
    expect(() => metrics.counter('1bad', 'B.')).toThrow(/metric name "1bad" is not valid/);
    expect(() => metrics.counter('ok_total', 'B.', ['bad-label'])).toThrow(/label name "bad-label" is not valid/);
    expect(() => metrics.counter('ok_total', 'B.', ['9lives'])).toThrow(/label name "9lives" is not valid/);
    expect(() => metrics.counter('ok_total', 'B.', ['__reserved'])).toThrow(/reserves/);
    expect(() => metrics.counter('ok_total', 'B.', ['a', 'a'])).toThrow(/repeat/);
    expect(() => metrics.histogram('h', 'H.', [2, 1])).toThrow(/must increase/);
    expect(() => metrics.histogram('h', 'H.', [])).toThrow(/at least one/);
    expect(() => metrics.histogram('h', 'H.', [1], ['le'])).toThrow(/"le"/);
    const error = (() => {
      try {
        metrics.counter('1bad', 'B.');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(RollcallError);
    expect((error as RollcallError).code).toBe('internal');
  });

  it('refuses missing or unknown labels, and a counter going down', () => {
    const metrics = new Metrics();
    const counter = metrics.counter('calls_total', 'C.', ['action', 'code']);
    expect(() => counter.inc({ action: 'RunCommand' })).toThrow(/takes the labels \[action, code\]; missing: code/);
    expect(() => counter.inc({ action: 'RunCommand', code: 'x', extra: 'y' })).toThrow(/unknown: extra/);
    expect(() => counter.inc({ action: 'RunCommand', code: 'x' }, -1)).toThrow(/can only go up/);
    expect(() => metrics.counter('plain_total', 'P.').inc({ action: 'x' })).toThrow(/unknown: action/);
  });

  it('keeps one series per label set however many observations it gets', () => {
    const metrics = new Metrics();
    const histogram = metrics.histogram('many_seconds', 'M.', [1, 10], ['kind']);
    for (let index = 0; index < 10_000; index++) histogram.observe(index % 20, { kind: index % 2 === 0 ? 'even' : 'odd' });
    const text = metrics.render();
    expect(text.split('\n').filter((line) => line.startsWith('many_seconds_count'))).toEqual(['many_seconds_count{kind="even"} 5000', 'many_seconds_count{kind="odd"} 5000']);
    expect(text.length).toBeLessThan(1_000);
  });
});

describe('reconcilerMetrics', () => {
  it('registers the reconciler metrics under their names and labels', () => {
    const metrics = new Metrics();
    const reconciler = reconcilerMetrics(metrics);
    reconciler.reconciles.inc({ trigger: 'push', result: 'applied' });
    reconciler.reconcileSeconds.observe(0.2, { trigger: 'push' });
    reconciler.apiCalls.inc({ action: 'RunCommand' }, 3);
    reconciler.apiErrors.inc({ action: 'RunCommand', code: 'Throttling.User' });
    reconciler.ready.set(1);
    reconciler.lastAppliedTimestamp.set(1_700_000_000);
    reconciler.outboxPending.set(2);
    reconciler.driftFound.inc(undefined, 4);
    reconciler.driftCorrected.inc(undefined, 4);

    const text = metrics.render();
    const types = text
      .split('\n')
      .filter((line) => line.startsWith('# TYPE'))
      .map((line) => line.slice('# TYPE '.length));
    expect(types).toEqual([
      'rollcall_approval_inbox_open gauge',
      'rollcall_approval_notices_total counter',
      'rollcall_approvals_handled_total counter',
      'rollcall_cloud_api_calls_total counter',
      'rollcall_cloud_api_errors_total counter',
      'rollcall_drift_corrected_total counter',
      'rollcall_drift_found_total counter',
      'rollcall_last_applied_timestamp_seconds gauge',
      'rollcall_outbox_pending gauge',
      'rollcall_ready gauge',
      'rollcall_reconcile_duration_seconds histogram',
      'rollcall_reconciles_total counter',
    ]);
    expect(text).toContain('rollcall_reconciles_total{trigger="push",result="applied"} 1\n');
    expect(text).toContain('rollcall_cloud_api_errors_total{action="RunCommand",code="Throttling.User"} 1\n');
    expect(text).toContain('rollcall_reconcile_duration_seconds_bucket{trigger="push",le="0.05"} 0\n');
    expect(text).toContain('rollcall_reconcile_duration_seconds_bucket{trigger="push",le="0.25"} 1\n');
    expect(text).toContain('rollcall_reconcile_duration_seconds_bucket{trigger="push",le="300"} 1\n');
    expect(text).toContain('rollcall_last_applied_timestamp_seconds 1700000000\n');
    expect(RECONCILE_SECONDS_BUCKETS[0]).toBe(0.05);
    expect(RECONCILE_SECONDS_BUCKETS.at(-1)).toBe(300);
  });

  it('returns the same metrics when called again on the same registry', () => {
    const metrics = new Metrics();
    const first = reconcilerMetrics(metrics);
    const second = reconcilerMetrics(metrics);
    expect(second.reconciles).toBe(first.reconciles);
    expect(second.reconcileSeconds).toBe(first.reconcileSeconds);
    second.ready.set(1);
    expect(first.ready.value()).toBe(1);
  });
});
