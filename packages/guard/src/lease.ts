/**
 * The guard's side of keys.limits.take, without the transport: per key slot
 * (owner + mode) and per kind (rate, quota), the units this guard holds, what
 * the last answer said, and what is owed or unreported. Pure: every method
 * takes the time (on the keys service's clock) and nothing here does I/O, so
 * limits.ts adds NATS and timers and the tests drive it with any clock.
 */
import { rateWindow, type LimitLease, type LimitsTakeRequest, type QuotaPolicy, type RateLimitPolicy } from "@riskinmind/contracts";

export type Kind = "rate" | "quota";

export interface LeaseTuning {
  /** A lease asks for limit / leaseDivisor units (at least 1, at least the call's cost). */
  leaseDivisor: number;
  /** After "none left" (or no usable key), how long before asking again: units given back by idle guards come back this soon. */
  recheckMs: number;
  /** A lease nobody used for this long is given back (when its window has longer than this to run). */
  idleReleaseMs: number;
}

export const DEFAULT_LEASE_TUNING: LeaseTuning = { leaseDivisor: 32, recheckMs: 1_000, idleReleaseMs: 2_000 };

/** One kind of limit of one slot. */
export class Pool {
  /** Window/period of the units held, [start, end) on the keys service's clock; -1 before the first lease. */
  start = -1;
  end = -1;
  /** Units this guard holds for [start, end). */
  left = 0;
  /** Units nobody held at the last answer (for RateLimit-Remaining). */
  centralLeft = 0;
  /** The keys service said none are left: refuse locally until then. */
  emptyUntil = 0;
  lastUse = 0;
  /** The keys service knows no such limit (the verdict is stale): nothing is counted until then. */
  unlimitedUntil = 0;
  /** Spent while keys.limits.take was unreachable, charged at the next answer (quota). */
  owed = 0;
  /** Local stand-in window while unreachable (rate): its start and units spent in it. */
  fallbackStart = -1;
  fallbackSpent = 0;
  /** Quota units spent and not yet reported, by lease start. */
  readonly unreported = new Map<number, number>();

  constructor(
    readonly kind: Kind,
    public limit: number,
    /** windowSeconds (rate) or the period (quota): a different one is a different counter. */
    readonly shape: number | string,
  ) {}

  batch(tuning: LeaseTuning, cost: number): number {
    return Math.max(cost, Math.ceil(this.limit / tuning.leaseDivisor));
  }

  /** Holds `cost` units for the window holding `t`. */
  has(cost: number, t: number): boolean {
    if (t < this.unlimitedUntil) return true;
    return this.left >= cost && t < this.end && t >= this.start - 60_000;
  }

  spend(cost: number, now: number, t: number): void {
    this.lastUse = now;
    if (t < this.unlimitedUntil) return;
    this.left -= cost;
    if (this.kind === "quota") this.unreported.set(this.start, (this.unreported.get(this.start) ?? 0) + cost);
  }

  /** Seconds until the window or period of the last lease ends (at least 1). */
  resetSeconds(t: number): number {
    return Math.max(1, Math.ceil((this.end - t) / 1000));
  }
}

/** The slot's pools for a policy, replaced when the policy's shape changes. */
export class Slot {
  rate: Pool | null = null;
  quota: Pool | null = null;
  inflight: Promise<void> | null = null;
  /** The last keys.limits.take failed: calls are served by the fallback, never kept waiting, until one succeeds. */
  degraded = false;
  /** No new request before this (after a failure or refusal). */
  retryAt = 0;
  lastSeen = 0;

  constructor(readonly keyHash: string) {}

  conform(rate: RateLimitPolicy | null, quota: QuotaPolicy | null): void {
    if (rate === null) this.rate = null;
    else if (this.rate === null || this.rate.shape !== rate.windowSeconds) this.rate = new Pool("rate", rate.limit, rate.windowSeconds);
    else this.rate.limit = rate.limit;
    if (quota === null) this.quota = null;
    else if (this.quota === null || this.quota.shape !== quota.period) this.quota = new Pool("quota", quota.limit, quota.period);
    else this.quota.limit = quota.limit;
  }
}

type Draw = NonNullable<LimitsTakeRequest["rate"]>;

/**
 * What to ask for: for each kind, a batch when this guard holds less than
 * half of one, or less than the call's cost, for the current window (prefetch: asked before it runs out, so
 * calls keep being served from what is held), what it owes, and at most one
 * report of spent or released units.
 */
export function buildDraw(pool: Pool, tuning: LeaseTuning, cost: number, t: number, now: number, release: "none" | "idle" | "all"): Draw {
  const batch = pool.batch(tuning, cost);
  const current = t >= pool.start - 60_000 && t < pool.end;
  const held = current ? pool.left : 0;
  // Short of this call's cost is short, however much is held (a costly route after cheap ones).
  const want = (held <= batch / 2 || held < cost) && !(t < pool.emptyUntil) ? batch + pool.owed : 0;
  const draw: Draw = { want: Math.min(want, pool.kind === "rate" ? 1_000_000 : 1_000_000_000) };
  if (pool.start >= 0) draw.start = pool.start;
  const idle = now - pool.lastUse >= tuning.idleReleaseMs && pool.end - t > tuning.idleReleaseMs;
  if (current && pool.left > 0 && (release === "all" || (release === "idle" && idle))) {
    draw.release = pool.left;
    pool.left = 0;
  }
  if (pool.kind === "quota" && pool.unreported.size > 0) {
    // The current lease's report first; an older period's when that is all there is.
    const start = pool.unreported.has(pool.start) ? pool.start : pool.unreported.keys().next().value!;
    const used = pool.unreported.get(start)!;
    if (start !== pool.start) {
      // A report names one start: an older period's goes alone.
      return { want: 0, start, used };
    }
    draw.used = used;
  }
  return draw;
}

/** Takes back what a draw reported, when the request failed: it is reported again next time. */
export function unsend(pool: Pool, draw: Draw): void {
  if (draw.used && draw.start !== undefined) pool.unreported.set(draw.start, (pool.unreported.get(draw.start) ?? 0) + draw.used);
}

/** Forgets what a draw reported, once the keys service has it. */
export function markSent(pool: Pool, draw: Draw): void {
  if (!draw.used || draw.start === undefined) return;
  const rest = (pool.unreported.get(draw.start) ?? 0) - draw.used;
  if (rest > 0) pool.unreported.set(draw.start, rest);
  else pool.unreported.delete(draw.start);
}

/**
 * Applies an answer's lease (undefined: the key has no such limit at the keys
 * service any more, so nothing is counted until the verdict is refreshed).
 */
export function applyLease(pool: Pool, lease: LimitLease | undefined, draw: Draw, tuning: LeaseTuning, t: number): void {
  if (lease === undefined) {
    pool.unlimitedUntil = t + tuning.recheckMs;
    return;
  }
  pool.unlimitedUntil = 0;
  if (lease.start !== pool.start) {
    // A new window: units of the old one are void.
    pool.left = 0;
    pool.start = lease.start;
    pool.end = lease.end;
  }
  pool.left += lease.granted;
  pool.limit = lease.limit;
  pool.centralLeft = lease.left;
  if (pool.owed > 0) {
    // Units spent while the keys service was away, charged now; what the counter cannot absorb is forgiven.
    const pay = Math.min(pool.owed, pool.left);
    pool.left -= pay;
    if (pool.kind === "quota" && pay > 0) pool.unreported.set(pool.start, (pool.unreported.get(pool.start) ?? 0) + pay);
    pool.owed = 0;
  }
  if (lease.granted < draw.want && lease.left === 0) pool.emptyUntil = Math.min(lease.end, t + tuning.recheckMs);
  else pool.emptyUntil = 0;
}

/**
 * While keys.limits.take is unreachable: may this guard spend `cost` on its
 * own? A rate limit is kept per guard (each guard alone at most the limit per
 * window: the cluster at most N × L); a quota gets one batch per guard beyond
 * its leases, owed to the counter.
 */
export function fallbackSpend(pool: Pool, tuning: LeaseTuning, cost: number, t: number, now: number): boolean {
  if (pool.kind === "rate") {
    const w = rateWindow(Number(pool.shape), t);
    if (w.start !== pool.fallbackStart) {
      pool.fallbackStart = w.start;
      pool.fallbackSpent = 0;
    }
    if (pool.fallbackSpent + cost > pool.limit) return false;
    pool.fallbackSpent += cost;
    pool.lastUse = now;
    return true;
  }
  if (pool.owed + cost > pool.batch(tuning, 1)) return false;
  pool.owed += cost;
  pool.lastUse = now;
  return true;
}
