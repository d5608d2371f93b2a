import { Counter, Gauge, Histogram } from "prom-client";
import type { Metrics } from "@riskinmind/runtime";

/** The usage service's own metrics, registered on the service's registry. */
export function createUsageMetrics(metrics: Metrics) {
  const registers = [metrics.registry];
  return {
    ingested: new Counter({
      name: "usage_events_ingested_total",
      help: "Usage events committed to Postgres.",
      registers,
    }),
    invalid: new Counter({
      name: "usage_events_invalid_total",
      help: "Usage events or messages refused, by reason.",
      labelNames: ["reason"] as const,
      registers,
    }),
    batchSize: new Histogram({
      name: "usage_batch_size",
      help: "Events per committed batch.",
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    commitSeconds: new Histogram({
      name: "usage_batch_commit_seconds",
      help: "Time to write and commit one batch.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    consumerLag: new Gauge({
      name: "usage_consumer_lag",
      help: "Messages in the stream not yet delivered to the ingest consumer.",
      registers,
    }),
    logsQuerySeconds: new Histogram({
      name: "usage_logs_query_seconds",
      help: "Time to answer one usage.logs.query request, by outcome.",
      labelNames: ["outcome"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
  };
}
export type UsageMetrics = ReturnType<typeof createUsageMetrics>;
