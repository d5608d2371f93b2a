import { FastCounter, FastHistogram, type Metrics } from "@riskinmind/runtime";
import type { VerifyResult } from "./cache";

// MALFORMED counts requests that are not a hash; a mistyped key never gets
// here (the guard checks the checksum), its hash would count as KEY_NOT_FOUND.
const RESULTS: VerifyResult[] = ["valid", "MALFORMED", "KEY_NOT_FOUND", "KEY_REVOKED", "KEY_EXPIRED", "VERIFY_UNAVAILABLE"];

export interface VerifyMetric {
  count: { inc(): void };
  duration: { observe(seconds: number): void };
}

/**
 * keys_verify_total / keys_verify_duration_seconds by result, one pair of
 * series bound per result up front: keys.verify is the hottest path there is,
 * and a label lookup per answer is measurable on it.
 */
export function createVerifyMetrics(metrics: Metrics): Record<VerifyResult, VerifyMetric> {
  const total = new FastCounter<"result">("keys_verify_total", "keys.verify answers by result.", metrics.registry);
  const duration = new FastHistogram<"result">(
    "keys_verify_duration_seconds",
    "keys.verify latency inside the responder, by result.",
    [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 2.5],
    metrics.registry,
  );
  const out = {} as Record<VerifyResult, VerifyMetric>;
  for (const result of RESULTS) out[result] = { count: total.child({ result }), duration: duration.child({ result }) };
  return out;
}
