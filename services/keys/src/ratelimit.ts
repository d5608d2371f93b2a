import { AppError } from "@riskinmind/contracts";

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token bucket per owner: `perMinute` requests, refilled continuously.
 * Per instance by design (no shared store on the hot path): with N replicas
 * behind a balancer an owner gets at most N × perMinute. `what` names the
 * requests in the 429 message ("key changes", "reads").
 */
export function createRateLimiter(perMinute: number, now: () => number = Date.now, what = "key changes") {
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
      throw new AppError("RATE_LIMITED", `Too many ${what}; retry in ${retryAfter} s.`, { "retry-after": String(retryAfter) });
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * At most `max` requests of one owner in flight at once (per instance): a
 * rate per minute cannot stop 64 concurrent slow reads from crowding out every
 * other owner, a cap on concurrency can.
 */
export function createInFlightLimit(max: number) {
  const inFlight = new Map<string, number>();
  /** Takes one of the owner's slots, or throws 429 RATE_LIMITED (Retry-After: 1) when all are taken; returns its release (idempotent). */
  function acquire(ownerId: string): () => void {
    const n = inFlight.get(ownerId) ?? 0;
    if (n >= max) throw new AppError("RATE_LIMITED", `At most ${max} concurrent requests of this kind per owner; retry in 1 s.`, { "retry-after": "1" });
    inFlight.set(ownerId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = inFlight.get(ownerId)! - 1;
      if (left === 0) inFlight.delete(ownerId);
      else inFlight.set(ownerId, left);
    };
  }
  return {
    acquire,
    /** Runs `fn` as one of the owner's slots, or throws 429 RATE_LIMITED (Retry-After: 1) when all are taken. */
    async run<T>(ownerId: string, fn: () => Promise<T>): Promise<T> {
      const release = acquire(ownerId);
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}
export type InFlightLimit = ReturnType<typeof createInFlightLimit>;
