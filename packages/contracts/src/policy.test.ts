/** Quota periods and rate windows: the arithmetic every party shares (resetsAt, Retry-After, counters' keys). */
import { describe, expect, test } from "bun:test";
import { policyProblem, quotaWindow, rateWindow } from "./policy";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe("quotaWindow", () => {
  test("a daily quota runs 00:00–24:00 UTC", () => {
    const w = quotaWindow("day", 17, at("2026-12-01T23:59:59.999Z"));
    expect([iso(w.start), iso(w.end)]).toEqual(["2026-12-01T00:00:00.000Z", "2026-12-02T00:00:00.000Z"]);
  });

  test("a monthly quota runs from its anchor day to the same day next month, at 00:00 UTC", () => {
    const w = quotaWindow("month", 15, at("2026-12-20T10:00:00Z"));
    expect([iso(w.start), iso(w.end)]).toEqual(["2026-12-15T00:00:00.000Z", "2027-01-15T00:00:00.000Z"]);
    const before = quotaWindow("month", 15, at("2026-12-14T23:59:59Z"));
    expect([iso(before.start), iso(before.end)]).toEqual(["2026-11-15T00:00:00.000Z", "2026-12-15T00:00:00.000Z"]);
    const jan = quotaWindow("month", 15, at("2027-01-03T00:00:00Z"));
    expect(iso(jan.start)).toBe("2026-12-15T00:00:00.000Z");
  });

  test("an anchor past a month's end is clamped to its last day (like a billing date on the 31st)", () => {
    const feb = quotaWindow("month", 31, at("2027-02-10T00:00:00Z"));
    expect([iso(feb.start), iso(feb.end)]).toEqual(["2027-01-31T00:00:00.000Z", "2027-02-28T00:00:00.000Z"]);
    const mar = quotaWindow("month", 31, at("2027-03-01T00:00:00Z"));
    expect([iso(mar.start), iso(mar.end)]).toEqual(["2027-02-28T00:00:00.000Z", "2027-03-31T00:00:00.000Z"]);
    const leap = quotaWindow("month", 30, at("2028-02-29T12:00:00Z"));
    expect(iso(leap.start)).toBe("2028-02-29T00:00:00.000Z");
  });

  test("the reset instant itself starts the next period", () => {
    const w = quotaWindow("month", 1, at("2027-01-01T00:00:00.000Z"));
    expect(iso(w.start)).toBe("2027-01-01T00:00:00.000Z");
  });
});

describe("rateWindow", () => {
  test("fixed windows aligned to the epoch", () => {
    expect(rateWindow(60, at("2026-12-01T10:00:59.999Z"))).toEqual({ start: at("2026-12-01T10:00:00Z"), end: at("2026-12-01T10:01:00Z") });
    expect(rateWindow(1, 1_500)).toEqual({ start: 1_000, end: 2_000 });
    expect(rateWindow(7, 7_000)).toEqual({ start: 7_000, end: 14_000 });
  });
});

describe("policyProblem", () => {
  const now = at("2026-12-01T00:00:00Z");
  test("expiresAt: future and at most 3 calendar years ahead; allowlist entries must parse", () => {
    expect(policyProblem({ expiresAt: "2029-12-01T00:00:00.000Z" }, now)).toBeNull();
    expect(policyProblem({ expiresAt: "2029-12-01T00:00:00.001Z" }, now)).toMatch(/3 years/);
    expect(policyProblem({ expiresAt: "2026-12-01T00:00:00.000Z" }, now)).toMatch(/future/);
    expect(policyProblem({ ipAllowlist: ["10.0.0.0/8", "::1"] }, now)).toBeNull();
    expect(policyProblem({ ipAllowlist: ["10.0.0.0/8", "nope"] }, now)).toMatch(/ipAllowlist/);
    expect(policyProblem({ expiresAt: null, ipAllowlist: null }, now)).toBeNull();
  });
});
