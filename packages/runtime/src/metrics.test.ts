import { expect, test } from "bun:test";
import { createMetrics, FastCounter, FastHistogram } from "./metrics";

test("FastHistogram renders cumulative buckets, +Inf, sum and count per bound series, like a Prometheus histogram", async () => {
  const m = createMetrics("fh-test");
  const h = new FastHistogram<"result">("demo_seconds", "demo", [0.001, 0.01, 0.1], m.registry);
  const valid = h.child({ result: "valid" });
  h.child({ result: "unused" });
  for (const v of [0.0005, 0.001, 0.05, 5]) valid.observe(v);
  const text = await m.registry.metrics();
  expect(text).toContain("# TYPE demo_seconds histogram");
  expect(text).toContain('demo_seconds_bucket{result="valid",le="0.001",service="fh-test"} 2');
  expect(text).toContain('demo_seconds_bucket{result="valid",le="0.01",service="fh-test"} 2');
  expect(text).toContain('demo_seconds_bucket{result="valid",le="0.1",service="fh-test"} 3');
  expect(text).toContain('demo_seconds_bucket{result="valid",le="+Inf",service="fh-test"} 4');
  expect(text).toContain('demo_seconds_sum{result="valid",service="fh-test"} 5.0515');
  expect(text).toContain('demo_seconds_count{result="valid",service="fh-test"} 4');
  // A series appears with its first observation, as prom-client's do.
  expect(text).not.toContain('result="unused"');
});

test("FastCounter renders each bound series that was incremented, and nothing for the others", async () => {
  const m = createMetrics("fc-test");
  const c = new FastCounter<"route">("demo_total", "demo", m.registry);
  const a = c.child({ route: "/a" });
  c.child({ route: "/b" });
  a.inc();
  a.inc(2);
  const text = await m.registry.metrics();
  expect(text).toContain("# TYPE demo_total counter");
  expect(text).toContain('demo_total{route="/a",service="fc-test"} 3');
  expect(text).not.toContain('route="/b"');
});
