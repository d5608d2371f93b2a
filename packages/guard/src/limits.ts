/**
 * Rate limits and quotas at the guard. PLACEHOLDER: accepts everything; the
 * lease-based implementation (keys.limits.take) replaces it.
 */
import type { KeyMode, QuotaPolicy, RateLimitPolicy } from "@riskinmind/contracts";

/** What the limiter needs of a verified key. */
export interface LimitPolicy {
  readonly ownerId: string;
  readonly mode: KeyMode;
  /** Hex SHA-256 of the key: keys.limits.take is asked by hash, so only a holder of the key can spend its units. */
  readonly keyHash: string;
  readonly rateLimit: RateLimitPolicy | null;
  readonly quota: QuotaPolicy | null;
}

/** The RateLimit-* headers' values, when the key has a rate limit. */
export interface RateHeaders {
  limit: number;
  remaining: number;
  /** Seconds until the window resets (RateLimit-Reset). */
  resetSeconds: number;
}

export type LimitOutcome = { ok: true; rate: RateHeaders | null } | { ok: false; code: "RATE_LIMITED" | "QUOTA_EXCEEDED"; retryAfterSeconds: number; rate: RateHeaders | null };

const OK: LimitOutcome = { ok: true, rate: null };

export class Limits {
  /** Spends `cost` units of the key's rate limit and quota, or says why not. Synchronous when the local allotment covers it. */
  take(_p: LimitPolicy, _cost: number, _now: number): LimitOutcome | Promise<LimitOutcome> {
    return OK;
  }
  stats(): Record<string, number> {
    return {};
  }
  async close(): Promise<void> {}
}
