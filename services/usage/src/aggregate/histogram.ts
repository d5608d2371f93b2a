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

/** The upper bounds rounded as answers show them (µs), computed once. */
const UPPER_MS = Array.from({ length: HIST_BUCKETS }, (_, i) => Math.round(bucketUpperMs(i) * 1000) / 1000);

/**
 * The p-quantile (0 < p <= 1) of the durations a histogram counts, as the
 * upper bound of the bucket holding the ceil(p·n)-th smallest: never below
 * the true value, and less than sqrt(2) times it for durations from 1 ms to
 * 65.5 s (durations under 1 ms read as 1). Null when nothing had a duration.
 */
export function quantileMs(hist: ArrayLike<number>, p: number): number | null {
  let n = 0;
  for (let i = 0; i < hist.length; i++) n += hist[i]!;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(p * n));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= rank) return UPPER_MS[i]!;
  }
  return UPPER_MS[hist.length - 1]!;
}

/** quantileMs for 0.5 and 0.95 in one pass over the histogram (one answer row needs both). */
export function p50p95(hist: ArrayLike<number>): [number | null, number | null] {
  let n = 0;
  for (let i = 0; i < hist.length; i++) n += hist[i]!;
  if (n === 0) return [null, null];
  const r50 = Math.max(1, Math.ceil(0.5 * n));
  const r95 = Math.max(1, Math.ceil(0.95 * n));
  let p50: number | null = null;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (p50 === null && seen >= r50) p50 = UPPER_MS[i]!;
    if (seen >= r95) return [p50, UPPER_MS[i]!];
  }
  const last = UPPER_MS[hist.length - 1]!;
  return [p50 ?? last, last];
}

const OPEN = 123;
const CLOSE = 125;
const COMMA = 44;
const ZERO = 48;
const NINE = 57;

/**
 * Adds histograms as Postgres prints an int8[] of counts (`{0,3,…,1}`), one
 * or several back to back (`{…}{…}`, string_agg of them), into `into`,
 * element by element. Reading the digits here is several times cheaper than
 * a generic array parse; anything but groups of HIST_BUCKETS non-negative
 * integers throws, so a changed column can never be summed wrongly.
 */
export function addHistText(into: Float64Array, text: string): void {
  const bad = () => new Error(`not a histogram: ${text.slice(0, 40)}`);
  let c = 0;
  const len = text.length;
  if (len === 0) throw bad();
  while (c < len) {
    if (text.charCodeAt(c++) !== OPEN) throw bad();
    let i = 0;
    let v = 0;
    let digits = 0;
    for (;;) {
      const ch = c < len ? text.charCodeAt(c++) : -1;
      if (ch >= ZERO && ch <= NINE) {
        v = v * 10 + (ch - ZERO);
        digits++;
      } else if (ch === COMMA && digits > 0 && i < HIST_BUCKETS - 1) {
        into[i++]! += v;
        v = 0;
        digits = 0;
      } else if (ch === CLOSE && digits > 0 && i === HIST_BUCKETS - 1) {
        into[i]! += v;
        break;
      } else throw bad();
    }
  }
}
