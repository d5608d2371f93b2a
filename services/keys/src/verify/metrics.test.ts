/**
 * keys.verify's metrics: counts kept in plain numbers on the hot path and
 * handed to prom-client at scrape time. Each answer must be counted exactly
 * once however often Prometheus scrapes.
 */
import { describe, expect, test } from "bun:test";
import { createMetrics } from "@riskinmind/runtime";
import { createVerifyMetrics } from "./metrics";

/** The value of keys_verify_total for one result in a scrape, or undefined when the series is absent. */
const total = (text: string, result: string) => {
  const m = new RegExp(`^keys_verify_total\\{result="${result}"[^}]*\\} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
};

describe("verify metrics", () => {
  test("counts per result; a result never answered has no series", async () => {
    const m = createMetrics("verify-metrics-a");
    const v = createVerifyMetrics(m);
    v.valid.count.inc();
    v.valid.count.inc();
    v.KEY_NOT_FOUND.count.inc();
    const text = await m.registry.metrics();
    expect(total(text, "valid")).toBe(2);
    expect(total(text, "KEY_NOT_FOUND")).toBe(1);
    expect(total(text, "KEY_REVOKED")).toBeUndefined();
  });

  test("a scrape neither loses nor repeats counts: totals stay cumulative across scrapes", async () => {
    const m = createMetrics("verify-metrics-b");
    const v = createVerifyMetrics(m);
    v.MALFORMED.count.inc();
    expect(total(await m.registry.metrics(), "MALFORMED")).toBe(1);
    expect(total(await m.registry.metrics(), "MALFORMED")).toBe(1);
    v.MALFORMED.count.inc();
    v.MALFORMED.count.inc();
    expect(total(await m.registry.metrics(), "MALFORMED")).toBe(3);
  });

  test("durations land in the histogram of their result", async () => {
    const m = createMetrics("verify-metrics-c");
    const v = createVerifyMetrics(m);
    v.VERIFY_UNAVAILABLE.duration.observe(0.00002);
    const text = await m.registry.metrics();
    expect(text).toMatch(/^keys_verify_duration_seconds_count\{result="VERIFY_UNAVAILABLE"[^}]*\} 1$/m);
    expect(text).toMatch(/^keys_verify_duration_seconds_bucket\{result="VERIFY_UNAVAILABLE",le="0\.000025"[^}]*\} 1$/m);
    expect(text).toMatch(/^keys_verify_duration_seconds_bucket\{result="VERIFY_UNAVAILABLE",le="0\.00001"[^}]*\} 0$/m);
    expect(text).not.toContain('keys_verify_duration_seconds_count{result="valid"');
  });
});
