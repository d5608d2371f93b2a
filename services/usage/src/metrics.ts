import { Gauge } from "prom-client";
import { FastCounter, FastHistogram, type Metrics } from "@riskinmind/runtime";
import type { InvalidReason } from "./ingest/parse";

/**
 * The usage service's metrics (ingestion and log reads), registered on the
 * service's registry. Series are bound on first use per label value: reasons
 * and outcomes are closed sets, and a batch or a query pays one map lookup.
 */
export function createUsageMetrics(metrics: Metrics) {
  const { registry } = metrics;
  const ingested = new FastCounter<never>("usage_events_ingested_total", "Usage events committed to Postgres.", registry).child({});
  const invalid = new FastCounter<"reason">("usage_events_invalid_total", "Usage events or messages refused, by reason.", registry);
  const batchSize = new FastHistogram<never>("usage_batch_size", "Events per committed batch.", [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000], registry).child({});
  const commitSeconds = new FastHistogram<never>(
    "usage_batch_commit_seconds",
    "Time to write and commit one batch.",
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registry,
  ).child({});
  const logsQuery = new FastHistogram<"outcome">(
    "usage_logs_query_seconds",
    "Time to answer one usage.logs.query request, by outcome.",
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registry,
  );
  const aggregate = new FastHistogram<"outcome">(
    "usage_aggregate_seconds",
    "Time to answer one usage.logs.aggregate request, by outcome.",
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registry,
  );
  return {
    ingested: { inc: (n = 1) => ingested.inc(n) },
    invalid: { inc: (labels: { reason: InvalidReason }, n = 1) => invalid.labels(labels).inc(n) },
    batchSize: { observe: (events: number) => batchSize.observe(events) },
    commitSeconds: { observe: (seconds: number) => commitSeconds.observe(seconds) },
    // Set by the lag poll every few seconds, off any hot path.
    consumerLag: new Gauge({ name: "usage_consumer_lag", help: "Messages in the stream not yet delivered to the ingest consumer.", registers: [registry] }),
    logsQuerySeconds: { observe: (labels: { outcome: string }, seconds: number) => logsQuery.labels(labels).observe(seconds) },
    aggregateSeconds: { observe: (labels: { outcome: string }, seconds: number) => aggregate.labels(labels).observe(seconds) },
  };
}
export type UsageMetrics = ReturnType<typeof createUsageMetrics>;
