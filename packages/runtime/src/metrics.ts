import { Registry, collectDefaultMetrics } from "prom-client";

/*
 * How a feature declares its metrics (one idiom for every service):
 *
 * - A `metrics.ts` beside the feature exports `createXMetrics(metrics: Metrics)`
 *   (`services/keys/src/verify/metrics.ts`, `services/usage/src/metrics.ts`;
 *   the HTTP series live here, in createMetrics, because httpBasics is the
 *   runtime's). It registers on `metrics.registry`, the service's own registry
 *   (never prom-client's global one: tests build many services in one process),
 *   and returns small handles (`inc`, `observe`, `set`); the feature never
 *   touches prom-client or a metric name.
 * - Counters and histograms are FastCounter / FastHistogram. Label values come
 *   from a closed set: bind each series once with `child(labels)` where the set
 *   is known up front (the hot paths: every request, every keys.verify), or let
 *   `labels(labels)` bind and keep it on first use. Gauges (set at poll or
 *   scrape time, off the hot path) are prom-client Gauges.
 * - Names are `<area>_<what>_<unit|total>`; the `service` label is added by the
 *   registry. A name, once published, never changes: dashboards and alerts use it.
 */

/** One registry per service (not prom-client's global), so tests can build many apps. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  // Hot path (every request): bound series, no label hashing per call.
  const httpRequests = new FastCounter<"route" | "method" | "status">("http_requests_total", "HTTP requests by route pattern, method and status.", registry);
  const httpDuration = new FastHistogram<"route" | "method" | "status">(
    "http_request_duration_seconds",
    "HTTP request latency by route pattern, method and status.",
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registry,
  );
  return { registry, httpRequests, httpDuration };
}
export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A Prometheus histogram for hot paths: observe() is a bucket search over a
 * few numbers and three additions, with no label hashing (children are bound
 * once). prom-client's Histogram does both on every call, which showed as ~6 %
 * of the keys.verify responder's CPU. The registry reads it at scrape time
 * like any prom-client metric (it implements the same get()).
 */
export class FastHistogram<L extends string> {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly series: { labels: Record<L, string>; counts: Float64Array; sum: number; count: number }[] = [];
  private readonly bound = new Map<string, { observe(value: number): void }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** A bound series: call once per label set, keep the result. */
  child(labels: Record<L, string>): { observe(value: number): void } {
    const s = { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
    this.series.push(s);
    const bounds = this.buckets;
    return {
      observe(value: number) {
        s.sum += value;
        s.count++;
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            s.counts[i]!++;
            return;
          }
        }
      },
    };
  }

  /** The series for `labels`, bound on first use and kept (label values must come from a bounded set). */
  labels(labels: Record<L, string>): { observe(value: number): void } {
    return boundOnce(this.bound, labels, (l) => this.child(l));
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series) {
      if (s.count === 0) continue; // a series appears with its first observation
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ labels: { ...s.labels, le: this.buckets[i]! }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...s.labels, le: "+Inf" }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const s of this.series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}

/** A Prometheus counter with bound series and plain-number increments (see FastHistogram). */
export class FastCounter<L extends string> {
  readonly type = "counter";
  readonly aggregator = "sum";
  private readonly series: { labels: Record<L, string>; value: number }[] = [];
  private readonly bound = new Map<string, { inc(by?: number): void }>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** A bound series: call once per label set, keep the result. */
  child(labels: Record<L, string>): { inc(by?: number): void } {
    const s = { labels, value: 0 };
    this.series.push(s);
    return {
      inc(by = 1) {
        s.value += by;
      },
    };
  }

  /** The series for `labels`, bound on first use and kept (label values must come from a bounded set). */
  labels(labels: Record<L, string>): { inc(by?: number): void } {
    return boundOnce(this.bound, labels, (l) => this.child(l));
  }

  async get() {
    const values = this.series.filter((s) => s.value > 0).map((s) => ({ labels: s.labels, value: s.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const s of this.series) s.value = 0;
  }
}

/** A stable key for a label set, whatever order its properties were written in. */
/** The series kept in `bound` for `labels`, made with `child` the first time. */
function boundOnce<L extends string, S>(bound: Map<string, S>, labels: Record<L, string>, child: (labels: Record<L, string>) => S): S {
  const key = labelKey(labels);
  let series = bound.get(key);
  if (series === undefined) {
    series = child(labels);
    bound.set(key, series);
  }
  return series;
}

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
