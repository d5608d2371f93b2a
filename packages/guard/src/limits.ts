/**
 * Rate limits and quotas at the guard, accurate across many guards. Units are
 * leased in batches from the keys service's counters (keys.limits.take, by key
 * hash), which never grant past the limit: the cluster never accepts more
 * than L per window or the quota per period. A call spends units this guard
 * holds, synchronously; a batch is asked for before the held units run out,
 * so the hot path waits only for a key's first lease of a window. Why the
 * undershoot is bounded, and what happens while the keys service is away:
 * the README, Rate limits and quotas.
 */
import type { NatsConnection } from "nats";
import { check, parseJson, rateWindow, subjects, type KeyMode, type LimitsTakeReply, type LimitsTakeRequest, type QuotaPolicy, type RateLimitPolicy, type Topology } from "@riskinmind/contracts";
import { applyLease, buildDraw, DEFAULT_LEASE_TUNING, fallbackSpend, markSent, Slot, unsend, type LeaseTuning, type Pool } from "./lease";
import type { GuardLogger } from "./types";

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

export interface LimitsOptions extends LeaseTuning {
  /** How long a lease request may take before the guard serves from its fallback. */
  takeTimeoutMs: number;
  /** How often spent quota units are reported and idle leases given back (quota.used in GET lags by about this). */
  reportIntervalMs: number;
}

export const DEFAULT_LIMITS_OPTIONS: LimitsOptions = { ...DEFAULT_LEASE_TUNING, takeTimeoutMs: 500, reportIntervalMs: 1_000 };

export interface LimitsDeps {
  nc: NatsConnection;
  topology: Topology;
  log?: GuardLogger;
  options?: Partial<LimitsOptions>;
}

const OK: LimitOutcome = { ok: true, rate: null };
const ATTEMPTS = 3;
const SLOT_IDLE_MS = 10 * 60_000;
const enc = new TextEncoder();

export class Limits {
  private readonly opts: LimitsOptions;
  private readonly subject: string;
  private readonly slots = new Map<string, Slot>();
  // The verdict's policy object is built once per cached verdict: a hit costs no string concatenation.
  private readonly byPolicy = new WeakMap<LimitPolicy, Slot>();
  /** keys service clock − ours, from the last answer. */
  private offset = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private badReplies = 0;
  private closed = false;
  private readonly counters = { takeRequests: 0, takeFailures: 0, waited: 0, fallback: 0, refused: 0 };

  constructor(private readonly deps: LimitsDeps) {
    this.opts = { ...DEFAULT_LIMITS_OPTIONS, ...deps.options };
    this.subject = subjects(deps.topology).limitsTake;
  }

  /** Spends `cost` units of the key's rate limit and quota, or says why not. Synchronous when the local allotment covers it. */
  take(p: LimitPolicy, cost: number, now: number): LimitOutcome | Promise<LimitOutcome> {
    if (p.rateLimit === null && p.quota === null) return OK;
    const slot = this.slotOf(p, now);
    const out = this.decide(slot, cost, now, false);
    return out ?? this.waitAndDecide(slot, cost);
  }

  /**
   * The RateLimit-* values of a call refused before the limits (expired,
   * address, scope): from what this guard already holds, else from the policy
   * alone. No network, nothing spent, no lease taken for a call that will not run.
   */
  peek(p: LimitPolicy, now: number): RateHeaders | null {
    const policy = p.rateLimit;
    if (policy === null) return null;
    const t = now + this.offset;
    const rate = this.slots.get(`${p.ownerId}\u0000${p.mode}`)?.rate;
    if (rate != null && rate.shape === policy.windowSeconds && t >= rate.start && t < rate.end) return this.headers(rate, t);
    const w = rateWindow(policy.windowSeconds, t);
    return { limit: policy.limit, remaining: policy.limit, resetSeconds: Math.max(1, Math.ceil((w.end - t) / 1000)) };
  }

  stats(): Record<string, number> {
    return { slots: this.slots.size, ...this.counters };
  }

  /** Stops the report timer and reports what was spent and gives back what is held (bounded wait). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const last = async (s: Slot) => {
      if (s.inflight !== null) await s.inflight;
      const held = (s.rate?.left ?? 0) > 0 || (s.quota?.left ?? 0) > 0;
      if (held || (s.quota?.unreported.size ?? 0) > 0) await this.report(s, true);
    };
    await Promise.allSettled([...this.slots.values()].map(last));
  }

  private slotOf(p: LimitPolicy, now: number): Slot {
    let slot = this.byPolicy.get(p);
    if (slot === undefined) {
      const id = `${p.ownerId}\u0000${p.mode}`;
      slot = this.slots.get(id);
      if (slot === undefined) {
        slot = new Slot(p.keyHash);
        this.slots.set(id, slot);
        this.timer ??= this.startTimer();
      }
      slot.conform(p.rateLimit, p.quota);
      this.byPolicy.set(p, slot);
    }
    slot.lastSeen = now;
    return slot;
  }

  /**
   * The outcome from what is held, or undefined when a lease must be awaited.
   * `settled`: a lease was just awaited, so a kind that still lacks units is
   * refused rather than awaited again (unless attempts remain).
   */
  private decide(slot: Slot, cost: number, now: number, settled: boolean): LimitOutcome | undefined {
    const t = now + this.offset;
    const { rate, quota } = slot;
    const down = slot.degraded;
    // Quota first: when both are out, the lasting reason is the one to tell.
    for (const pool of [quota, rate]) {
      if (pool === null || pool.has(cost, t)) continue;
      if (t < pool.emptyUntil) return this.refuse(pool, rate, t);
      if (!down) {
        if (settled) return this.refuse(pool, rate, t);
        return undefined;
      }
    }
    // Every kind either holds the units or is served by the fallback.
    for (const pool of [quota, rate]) {
      if (pool === null || pool.has(cost, t)) continue;
      if (!fallbackSpend(pool, this.opts, cost, t, now)) return this.refuse(pool, rate, t);
      this.counters.fallback++;
    }
    let prefetch = false;
    for (const pool of [quota, rate]) {
      if (pool === null || !pool.has(cost, t)) continue;
      pool.spend(cost, now, t);
      if (pool.left <= pool.batch(this.opts, cost) / 2 && !(t < pool.unlimitedUntil)) prefetch = true;
    }
    if ((prefetch || down) && slot.inflight === null && now >= slot.retryAt) slot.inflight = this.fetch(slot, cost, "none");
    return rate === null ? OK : { ok: true, rate: this.headers(rate, t) };
  }

  private async waitAndDecide(slot: Slot, cost: number): Promise<LimitOutcome> {
    this.counters.waited++;
    for (let attempt = 1; ; attempt++) {
      slot.inflight ??= this.fetch(slot, cost, "none");
      await slot.inflight;
      const out = this.decide(slot, cost, Date.now(), attempt >= ATTEMPTS);
      if (out !== undefined) return out;
    }
  }

  private headers(rate: Pool, t: number): RateHeaders {
    const fallback = rate.fallbackStart >= 0 && !(t < rate.end);
    if (fallback)
      return { limit: rate.limit, remaining: Math.max(0, rate.limit - rate.fallbackSpent), resetSeconds: Math.max(1, Math.ceil((rate.fallbackStart + Number(rate.shape) * 1000 - t) / 1000)) };
    return { limit: rate.limit, remaining: Math.max(0, rate.centralLeft + rate.left), resetSeconds: rate.resetSeconds(t) };
  }

  private refuse(pool: Pool, rate: Pool | null, t: number): LimitOutcome {
    this.counters.refused++;
    return {
      ok: false,
      code: pool.kind === "rate" ? "RATE_LIMITED" : "QUOTA_EXCEEDED",
      retryAfterSeconds: pool.end > t ? pool.resetSeconds(t) : 1,
      rate: rate === null ? null : { ...this.headers(rate, t), remaining: 0 },
    };
  }

  /** One keys.limits.take for every kind of the slot; concurrent callers share it (slot.inflight). */
  private fetch(slot: Slot, cost: number, release: "none" | "idle" | "all"): Promise<void> {
    const now = Date.now();
    const t = now + this.offset;
    const req: LimitsTakeRequest = { keyHash: slot.keyHash };
    if (slot.rate) req.rate = buildDraw(slot.rate, this.opts, cost, t, now, release);
    if (slot.quota) req.quota = buildDraw(slot.quota, this.opts, cost, t, now, release);
    return this.send(slot, req).finally(() => {
      slot.inflight = null;
    });
  }

  private async send(slot: Slot, req: LimitsTakeRequest): Promise<void> {
    this.counters.takeRequests++;
    // Reports are forgotten now and restored if the request fails, so units spent meanwhile are never reported twice.
    const { rate, quota } = slot;
    if (rate && req.rate) markSent(rate, req.rate);
    if (quota && req.quota) markSent(quota, req.quota);
    let reply: LimitsTakeReply | undefined;
    const sentAt = Date.now();
    try {
      const msg = await this.deps.nc.request(this.subject, enc.encode(JSON.stringify(req)), { timeout: this.opts.takeTimeoutMs });
      const body = parseJson(msg.data);
      if (check.limitsTakeReply.Check(body)) reply = body;
      else if (this.badReplies++ === 0) this.deps.log?.warn({ subject: this.subject }, "guard: keys.limits.take answered with an unexpected shape");
    } catch {
      // timeout, no responders, connection closed: served by the fallback below
    }
    const now = Date.now();
    if (reply === undefined || (!reply.ok && reply.code !== "KEY_REFUSED")) {
      this.counters.takeFailures++;
      slot.degraded = true;
      slot.retryAt = now + this.opts.recheckMs;
      if (rate && req.rate) unsend(rate, req.rate);
      if (quota && req.quota) unsend(quota, req.quota);
      return;
    }
    slot.degraded = false;
    slot.retryAt = 0;
    if (!reply.ok) {
      // No usable key has this hash any more: its verdict is stale and the revocation is on its way.
      for (const pool of [rate, quota]) if (pool) pool.emptyUntil = now + this.offset + this.opts.recheckMs;
      return;
    }
    // The keys service read its clock about halfway through the round trip.
    this.offset = reply.now - (sentAt + now) / 2;
    const t = now + this.offset;
    // A policy change meanwhile replaced a pool: its lease counts for the new one only if it is of the same counter.
    if (slot.rate && req.rate && slot.rate === rate) applyLease(slot.rate, reply.rate, req.rate, this.opts, t);
    if (slot.quota && req.quota && slot.quota === quota) applyLease(slot.quota, reply.quota, req.quota, this.opts, t);
  }

  private startTimer(): ReturnType<typeof setInterval> {
    const timer = setInterval(() => this.tick(), this.opts.reportIntervalMs);
    timer.unref?.();
    return timer;
  }

  /** Reports spent quota units, gives back idle leases, forgets slots unused for long. */
  private tick(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const [id, slot] of this.slots) {
      if (slot.inflight !== null) continue;
      const pending = (slot.quota?.unreported.size ?? 0) > 0;
      const held = (slot.rate?.left ?? 0) > 0 || (slot.quota?.left ?? 0) > 0;
      if (now - slot.lastSeen > SLOT_IDLE_MS && !pending && !held) {
        this.slots.delete(id);
        continue;
      }
      if (pending || (held && now - slot.lastSeen >= this.opts.idleReleaseMs)) void this.report(slot, false);
    }
  }

  /** A take that asks for nothing new: reports what was spent and gives back idle (or, on close, all) held units. */
  private report(slot: Slot, all: boolean): Promise<void> {
    const now = Date.now();
    const t = now + this.offset;
    const req: LimitsTakeRequest = { keyHash: slot.keyHash };
    for (const kind of ["rate", "quota"] as const) {
      const pool = slot[kind];
      if (pool !== null) req[kind] = { ...buildDraw(pool, this.opts, 1, t, now, all ? "all" : "idle"), want: 0 };
    }
    const p = this.send(slot, req).finally(() => {
      slot.inflight = null;
    });
    slot.inflight = p;
    return p;
  }
}
