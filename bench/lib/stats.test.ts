/**
 * The benchmark's statistics at their edges (the common cases are in
 * bench/test/lib.test.ts): empty input, single samples, percentiles at 0 and
 * past 100, the caller's samples left untouched.
 */
import { describe, expect, test } from "bun:test";
import { median, percentile, summarize, timeEach } from "./stats";

describe("percentile", () => {
  test("nearest-rank clamps: p=0 is the smallest, p>100 the largest", () => {
    const s = [10, 20, 30, 40];
    expect(percentile(s, 0)).toBe(10);
    expect(percentile(s, 25)).toBe(10);
    expect(percentile(s, 26)).toBe(20);
    expect(percentile(s, 150)).toBe(40);
  });
});

describe("summarize and median", () => {
  test("no samples: n 0 and NaN statistics, never a throw or a zero that looks measured", () => {
    const s = summarize([]);
    expect(s.n).toBe(0);
    expect([s.p50, s.p99, s.mean].every(Number.isNaN)).toBe(true);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  test("median sorts numerically (not as strings) and leaves the caller's array as it was", () => {
    // As strings the order would be 100, 1000, 20, 3, 50, 7, 9: the median "3".
    const samples = [100, 9, 20, 3, 1_000, 50, 7];
    expect(median(samples)).toBe(20);
    expect(summarize(samples).p99).toBe(1_000);
    expect(samples).toEqual([100, 9, 20, 3, 1_000, 50, 7]);
  });

  test("the mean is over every sample", () => {
    expect(summarize([1, 2, 3, 10]).mean).toBe(4);
  });
});

describe("timeEach", () => {
  test("runs the function n times, one after another, in order, and returns one duration each", async () => {
    const order: number[] = [];
    let running = 0;
    const durations = await timeEach(5, async (i) => {
      expect(running).toBe(0);
      running++;
      await Promise.resolve();
      order.push(i);
      running--;
    });
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(durations).toHaveLength(5);
    expect(durations.every((d) => d >= 0)).toBe(true);
  });
});
