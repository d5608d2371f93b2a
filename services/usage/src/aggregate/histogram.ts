/**
 * The duration histogram of a rollup row, as 004_rollups.sql defines it
 * (usage.duration_bucket): 34 counters, bucket 0 for <= 1 ms, bucket i
 * (1..32) for (2^((i-1)/2), 2^(i/2)] ms, bucket 33 for more than 65.5 s.
 */
export const HIST_BUCKETS = 34;
const LAST_BOUNDED = HIST_BUCKETS - 2;

/** Upper bound (ms) of bucket i; the overflow bucket reads as the last bound (65,536 ms: "at least"). */
export function bucketUpperMs(i: number): number {
  return 2 ** (Math.min(i, LAST_BOUNDED) / 2);
}

/**
 * The p-quantile (0 < p <= 1) of the durations a histogram counts, as the
 * upper bound of the bucket holding the ceil(p·n)-th smallest: never below
 * the true value, and less than sqrt(2) times it for durations from 1 ms to
 * 65.5 s (durations under 1 ms read as 1). Null when nothing had a duration.
 */
export function quantileMs(hist: readonly number[], p: number): number | null {
  let n = 0;
  for (const c of hist) n += c;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(p * n));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= rank) return Math.round(bucketUpperMs(i) * 1000) / 1000;
  }
  return Math.round(bucketUpperMs(hist.length - 1) * 1000) / 1000;
}

/** `array[sum(hist[1]), …, sum(hist[34])]`: the element-wise sum as one plain aggregate per counter (a plpgsql aggregate costs ~10 µs a row). */
export const HIST_SUMS_SQL = `array[${Array.from({ length: HIST_BUCKETS }, (_, i) => `sum(hist[${i + 1}])`).join(", ")}]::float8[]`;
