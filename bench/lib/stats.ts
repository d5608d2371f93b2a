/** Latency statistics over raw samples (milliseconds in, milliseconds out). */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

/** The p-th percentile (0..100) of an ascending array, nearest-rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Sorts a copy of the samples and returns n, p50, p99 and the mean. */
export function summarize(samples: ArrayLike<number>): Summary {
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]!;
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), mean: s.length ? sum / s.length : NaN };
}

export function median(samples: ArrayLike<number>): number {
  return percentile(Float64Array.from(samples).sort(), 50);
}

/** Times `fn` `n` times one after another; returns each duration in ms. */
export async function timeEach(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}
