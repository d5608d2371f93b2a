import { Counter } from "prom-client";
import { FastHistogram, type Metrics } from "@riskinmind/runtime";
import type { VerifyResult } from "./cache";

// MALFORMED counts requests that are not a hash; a mistyped key never gets
// here (the guard checks the checksum), its hash would count as KEY_NOT_FOUND.
const RESULTS: VerifyResult[] = ["valid", "MALFORMED", "KEY_NOT_FOUND", "KEY_REVOKED", "VERIFY_UNAVAILABLE"];

export interface VerifyMetric {
  count: { inc(): void };
  duration: { observe(seconds: number): void };
}

/**
 * keys_verify_total / keys_verify_duration_seconds by result. Children are
 * bound once per result: label lookup per request is measurable on the hot path.
 */
export function createVerifyMetrics(metrics: Metrics): Record<VerifyResult, VerifyMetric> {
  // Counted in plain numbers and handed to prom-client at scrape time: its
  // inc() hashes and validates the labels on every call, on the hot path.
  const pending = Object.fromEntries(RESULTS.map((r) => [r, 0])) as Record<VerifyResult, number>;
  const total = new Counter({
    name: "keys_verify_total",
    help: "keys.verify answers by result.",
    labelNames: ["result"] as const,
    registers: [metrics.registry],
    collect() {
      for (const r of RESULTS) {
        // A series appears with its first answer, as with a direct inc().
        if (pending[r] === 0) continue;
        this.labels(r).inc(pending[r]);
        pending[r] = 0;
      }
    },
  });
  const duration = new FastHistogram<"result">(
    "keys_verify_duration_seconds",
    "keys.verify latency inside the responder, by result.",
    [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 2.5],
    metrics.registry,
  );
  const out = {} as Record<VerifyResult, VerifyMetric>;
  for (const r of RESULTS) out[r] = { count: { inc: () => void pending[r]++ }, duration: duration.child({ result: r }) };
  return out;
}
