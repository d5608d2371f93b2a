/** The lease book's rules, on a clock of the test's own (no NATS: limits.ts adds the transport). */
import { describe, expect, test } from "bun:test";
import { applyLease, buildDraw, DEFAULT_LEASE_TUNING, fallbackSpend, markSent, Pool, Slot, unsend } from "./lease";

const T = DEFAULT_LEASE_TUNING;
const W = { start: 60_000, end: 120_000 };
const lease = (granted: number, left: number, limit = 100, w = W) => ({ granted, left, limit, ...w });

describe("buildDraw", () => {
  test("asks for a batch (limit / 32, at least the cost) while holding half a batch or less, nothing beyond", () => {
    const p = new Pool("rate", 100, 60);
    expect(buildDraw(p, T, 1, W.start, W.start, "none")).toEqual({ want: 4 });
    applyLease(p, lease(4, 96), { want: 4 }, T, W.start);
    expect(buildDraw(p, T, 1, W.start, W.start, "none").want).toBe(0);
    p.spend(2, W.start, W.start);
    expect(buildDraw(p, T, 1, W.start, W.start, "none")).toEqual({ want: 4, start: W.start });
    expect(buildDraw(p, T, 9, W.start, W.start, "none").want).toBe(9);
  });

  test("holding more than half a batch but less than the call's cost still asks (a costly route after cheap calls)", () => {
    const p = new Pool("rate", 12, 60);
    applyLease(p, lease(5, 2, 12), { want: 5 }, T, W.start);
    p.spend(1, W.start, W.start);
    // 4 held: more than half of a cost-5 batch, yet short of 5.
    expect(buildDraw(p, T, 5, W.start, W.start, "none").want).toBe(5);
  });

  test("a lease of an ended window counts as nothing held", () => {
    const p = new Pool("rate", 100, 60);
    applyLease(p, lease(4, 96), { want: 4 }, T, W.start);
    expect(buildDraw(p, T, 1, W.end, W.end, "none").want).toBe(4);
  });

  test("idle units go back only when the window has long enough to run; on close, all of them", () => {
    const p = new Pool("quota", 320, "day");
    applyLease(p, lease(10, 310, 320), { want: 10 }, T, W.start);
    p.spend(1, W.start, W.start);
    expect(buildDraw(p, T, 1, W.start + 1_000, W.start + 1_000, "idle").release).toBeUndefined();
    expect(buildDraw(p, T, 1, W.end - 1_000, W.end - 1_000, "idle").release).toBeUndefined();
    expect(buildDraw(p, T, 1, W.start + 5_000, W.start + 5_000, "idle").release).toBe(9);
    expect(p.left).toBe(0);
    const q = new Pool("quota", 320, "day");
    applyLease(q, lease(10, 310, 320), { want: 10 }, T, W.start);
    expect(buildDraw(q, T, 1, W.start, W.start, "all").release).toBe(10);
  });

  test("quota spending is reported once: sent, forgotten, restored if the request failed", () => {
    const p = new Pool("quota", 100, "day");
    applyLease(p, lease(10, 90), { want: 10 }, T, W.start);
    p.spend(3, W.start, W.start);
    const d = buildDraw(p, T, 1, W.start, W.start, "none");
    expect(d.used).toBe(3);
    markSent(p, d);
    expect(p.unreported.size).toBe(0);
    unsend(p, d);
    expect(p.unreported.get(W.start)).toBe(3);
  });

  test("an ended period's unreported units go alone, under their own start", () => {
    const p = new Pool("quota", 100, "day");
    applyLease(p, lease(10, 90), { want: 10 }, T, W.start);
    p.spend(2, W.start, W.start);
    applyLease(p, lease(5, 95, 100, W), { want: 5 }, T, W.start);
    const next = { start: W.end, end: W.end + 60_000 };
    applyLease(p, lease(4, 96, 100, next), { want: 4 }, T, W.end);
    expect(buildDraw(p, T, 1, W.end, W.end, "none")).toEqual({ want: 0, start: W.start, used: 2 });
  });
});

describe("applyLease", () => {
  test("none left: refused locally until the sooner of the window's end and a recheck", () => {
    const p = new Pool("rate", 100, 60);
    applyLease(p, lease(0, 0), { want: 4 }, T, W.start);
    expect(p.emptyUntil).toBe(W.start + T.recheckMs);
    applyLease(p, lease(0, 0), { want: 4 }, T, W.end - 10);
    expect(p.emptyUntil).toBe(W.end);
    applyLease(p, lease(2, 0), { want: 2 }, T, W.start);
    expect(p.emptyUntil).toBe(0);
  });

  test("units owed from an outage are charged to the next lease, and what it cannot cover is forgiven", () => {
    const p = new Pool("quota", 100, "day");
    expect(fallbackSpend(p, T, 3, W.start, W.start)).toBe(true);
    applyLease(p, lease(5, 0), { want: 7 }, T, W.start);
    expect(p.left).toBe(2);
    expect(p.owed).toBe(0);
    expect(p.unreported.get(W.start)).toBe(3);
  });

  test("no such limit at the keys service any more: nothing counted until a recheck", () => {
    const p = new Pool("rate", 100, 60);
    applyLease(p, undefined, { want: 4 }, T, W.start);
    expect(p.has(1_000, W.start + T.recheckMs - 1)).toBe(true);
    expect(p.has(1, W.start + T.recheckMs)).toBe(false);
  });
});

describe("fallbackSpend (keys.limits.take unreachable)", () => {
  test("a rate limit is kept per guard, window by window", () => {
    const p = new Pool("rate", 3, 60);
    for (let i = 0; i < 3; i++) expect(fallbackSpend(p, T, 1, W.start + i, W.start)).toBe(true);
    expect(fallbackSpend(p, T, 1, W.start + 10, W.start)).toBe(false);
    expect(fallbackSpend(p, T, 1, W.end, W.end)).toBe(true);
  });

  test("a quota gets one batch per guard, no more", () => {
    const p = new Pool("quota", 320, "month");
    for (let i = 0; i < 10; i++) expect(fallbackSpend(p, T, 1, W.start, W.start)).toBe(true);
    expect(fallbackSpend(p, T, 1, W.start, W.start)).toBe(false);
  });
});

describe("Slot.conform", () => {
  test("a new window size or period is a new counter; a new limit keeps the units held", () => {
    const s = new Slot("h");
    s.conform({ limit: 10, windowSeconds: 60 }, { limit: 5, period: "day" });
    const rate = s.rate!;
    s.conform({ limit: 20, windowSeconds: 60 }, { limit: 5, period: "month" });
    expect(s.rate).toBe(rate);
    expect(s.rate!.limit).toBe(20);
    expect(s.quota!.shape).toBe("month");
    s.conform(null, null);
    expect(s.rate).toBeNull();
    expect(s.quota).toBeNull();
  });
});
