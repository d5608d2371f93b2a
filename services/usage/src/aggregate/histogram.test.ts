/** Percentiles from the rollup histogram: the documented resolution. */
import { describe, expect, test } from "bun:test";
import { addHistText, bucketUpperMs, HIST_BUCKETS, p50p95, quantileMs } from "./histogram";

/** The bucket a duration falls in, as usage.duration_bucket computes it. */
function bucketOf(ms: number): number {
  return ms <= 1 ? 0 : Math.min(HIST_BUCKETS - 1, Math.ceil((2 * Math.log(ms)) / Math.log(2)));
}

function histOf(durations: number[]): number[] {
  const h = new Array<number>(HIST_BUCKETS).fill(0);
  for (const d of durations) h[bucketOf(d)]!++;
  return h;
}

describe("quantileMs", () => {
  test("empty → null", () => {
    expect(quantileMs(new Array(HIST_BUCKETS).fill(0), 0.5)).toBeNull();
  });

  test("the reported value is the bucket's upper bound: >= the true quantile and < sqrt(2) × it", () => {
    for (const d of [1.2, 3, 7.7, 10, 42, 99.9, 250, 1234, 60_000]) {
      const q = quantileMs(histOf([d]), 0.5)!;
      expect(q).toBeGreaterThanOrEqual(d - 0.001);
      expect(q).toBeLessThan(d * Math.SQRT2 + 0.001);
    }
    expect(quantileMs(histOf([0.2]), 0.5)).toBe(1);
    // Beyond 65.5 s: "at least" the last bound.
    expect(quantileMs(histOf([3_600_000]), 0.5)).toBe(bucketUpperMs(32));
    expect(bucketUpperMs(32)).toBe(65536);
  });

  test("p50 and p95 pick the ceil(p·n)-th smallest", () => {
    // 100 durations: 90 of 5 ms, 10 of 500 ms → p50 in 5's bucket, p95 in 500's.
    const h = histOf([...new Array(90).fill(5), ...new Array(10).fill(500)]);
    expect(quantileMs(h, 0.5)).toBe(quantileMs(histOf([5]), 0.5));
    expect(quantileMs(h, 0.95)).toBe(quantileMs(histOf([500]), 0.5));
    // Exactly at the edge: 95 fast, 5 slow → the 95th is still fast.
    const e = histOf([...new Array(95).fill(5), ...new Array(5).fill(500)]);
    expect(quantileMs(e, 0.95)).toBe(quantileMs(histOf([5]), 0.5));
  });
});

describe("p50p95", () => {
  test("equals quantileMs at 0.5 and 0.95, empty and skewed histograms included", () => {
    const cases: number[][] = [new Array(HIST_BUCKETS).fill(0), histOf([3_600_000]), histOf([0.5, 0.5, 70_000])];
    // A fixed pseudo-random spread (no Math.random: the test must be repeatable).
    let x = 7;
    for (let k = 0; k < 50; k++) {
      const h = new Array<number>(HIST_BUCKETS).fill(0);
      for (let i = 0; i < HIST_BUCKETS; i++) {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        h[i] = x % 5 === 0 ? x % 1000 : 0;
      }
      cases.push(h);
    }
    for (const h of cases) expect(p50p95(h)).toEqual([quantileMs(h, 0.5), quantileMs(h, 0.95)]);
  });
});

describe("addHistText", () => {
  const text = (h: number[]) => `{${h.join(",")}}`;

  test("adds an int8[] as Postgres prints it (one or several back to back), element by element", () => {
    const a = Array.from({ length: HIST_BUCKETS }, (_, i) => i * 1000 + 7);
    const b = Array.from({ length: HIST_BUCKETS }, (_, i) => (i === 33 ? 2 ** 52 : i));
    const into = new Float64Array(HIST_BUCKETS);
    addHistText(into, text(a));
    addHistText(into, text(b));
    expect([...into]).toEqual(a.map((v, i) => v + b[i]!));
    // Back to back, as string_agg prints a group's rows.
    const both = new Float64Array(HIST_BUCKETS);
    addHistText(both, text(a) + text(b) + text(a));
    expect([...both]).toEqual(a.map((v, i) => 2 * v + b[i]!));
  });

  test("anything but 34 non-negative integers throws", () => {
    const ok = new Array<number>(HIST_BUCKETS).fill(1);
    for (const bad of [
      text(ok.slice(1)),
      text([...ok, 1]),
      text([...ok.slice(1), -1]),
      `{${ok.join(",")},}`,
      ok.join(","),
      "{}",
      text([...ok.slice(1), "NULL" as never]),
      "{1,,1}",
      "",
      `${text(ok)}{`,
      `${text(ok)}x`,
      `${text(ok)},${text(ok)}`,
    ]) {
      expect(() => addHistText(new Float64Array(HIST_BUCKETS), bad)).toThrow("not a histogram");
    }
  });
});
