/** The range rules of GET /api/v1/keys/usage, shared by the keys edge and the usage responder. */
import { describe, expect, test } from "bun:test";
import { usageRange } from "./usage-aggregate";

const ms = (iso: string) => Date.parse(iso);

describe("usageRange", () => {
  test("widens to whole UTC buckets: from floored, to ceiled; aligned bounds stay", () => {
    expect(usageRange("2026-11-01T10:30:00Z", "2026-11-01T12:00:01Z", "hour")).toEqual({ ok: true, from: ms("2026-11-01T10:00:00Z"), to: ms("2026-11-01T13:00:00Z") });
    expect(usageRange("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "hour")).toEqual({ ok: true, from: ms("2026-11-01T00:00:00Z"), to: ms("2026-11-02T00:00:00Z") });
    // A zone other than Z is read as that instant, buckets stay UTC.
    expect(usageRange("2026-11-01T05:30:00+05:30", "2026-11-03T01:00:00+01:00", "day")).toEqual({ ok: true, from: ms("2026-11-01T00:00:00Z"), to: ms("2026-11-03T00:00:00Z") });
  });

  test("widening is idempotent (the usage side applies it again)", () => {
    const r = usageRange("2026-11-01T10:30:00Z", "2026-11-05T12:00:01Z", "day");
    if (!r.ok) throw new Error(r.message);
    expect(usageRange(new Date(r.from).toISOString(), new Date(r.to).toISOString(), "day")).toEqual(r);
  });

  test("31 days hourly and 400 days daily are the most, checked on the range asked for", () => {
    expect(usageRange("2026-01-01T00:30:00Z", "2026-02-01T00:30:00Z", "hour").ok).toBe(true);
    expect(usageRange("2026-01-01T00:30:00Z", "2026-02-01T00:30:01Z", "hour")).toMatchObject({ ok: false });
    expect(usageRange("2025-01-01T00:00:00Z", "2026-02-05T00:00:00Z", "day").ok).toBe(true);
    expect(usageRange("2025-01-01T00:00:00Z", "2026-02-05T00:00:01Z", "day")).toMatchObject({ ok: false });
  });

  test("refuses from >= to, times without a zone, impossible dates and junk", () => {
    for (const [f, t] of [
      ["2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z"],
      ["2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z"],
      ["2026-11-01T00:00:00", "2026-11-02T00:00:00Z"],
      ["2026-11-01", "2026-11-02T00:00:00Z"],
      ["2026-02-30T00:00:00Z", "2026-03-05T00:00:00Z"],
      ["2026-11-01T24:00:00Z", "2026-11-03T00:00:00Z"],
      ["yesterday", "2026-11-03T00:00:00Z"],
      ["1730419200000", "2026-11-03T00:00:00Z"],
    ]) {
      expect(usageRange(f!, t!, "hour")).toMatchObject({ ok: false });
    }
  });
});
