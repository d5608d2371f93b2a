import { AppError } from "@riskinmind/contracts";

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token bucket per owner: `perMinute` mutations, refilled continuously.
 * Per instance by design (no shared store on the hot path): with N replicas
 * behind a balancer an owner gets at most N × perMinute.
 */
export function createRateLimiter(perMinute: number, now: () => number = Date.now) {
  const buckets = new Map<string, Bucket>();
  const perMs = perMinute / 60_000;
  const sweep = (t: number) => {
    // A bucket that has refilled completely carries no information.
    for (const [k, b] of buckets) if (b.tokens + (t - b.at) * perMs >= perMinute) buckets.delete(k);
  };
  return {
    /** Takes one token for the owner or throws 429 RATE_LIMITED with Retry-After. */
    take(ownerId: string): void {
      const t = now();
      let b = buckets.get(ownerId);
      if (b === undefined) {
        if (buckets.size >= 100_000) sweep(t);
        b = { tokens: perMinute, at: t };
        buckets.set(ownerId, b);
      }
      b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * perMs);
      b.at = t;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return;
      }
      const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
      throw new AppError("RATE_LIMITED", `Too many key changes; retry in ${retryAfter} s.`, { "retry-after": String(retryAfter) });
    },
    get size(): number {
      return buckets.size;
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
