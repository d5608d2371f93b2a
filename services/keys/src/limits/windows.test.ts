import { describe, expect, test } from "bun:test";
import { quotaWindow } from "@riskinmind/contracts";
import { Periods } from "./windows";

describe("Periods", () => {
  test("the 31 month periods are quotaWindow's, anchor by anchor", () => {
    const now = Date.UTC(2027, 1, 14, 13, 5); // February: anchors 29..31 clamp to the 28th
    const t = new Periods().at(now);
    const starts = JSON.parse(t.monthStarts) as number[];
    const ends = JSON.parse(t.monthEnds) as number[];
    expect(starts).toHaveLength(31);
    for (let a = 1; a <= 31; a++) {
      expect(starts[a - 1]).toBe(quotaWindow("month", a, now).start);
      expect(ends[a - 1]).toBe(quotaWindow("month", a, now).end);
    }
    expect(t.dayStart).toBe(Date.UTC(2027, 1, 14));
    expect(t.dayEnd).toBe(Date.UTC(2027, 1, 15));
  });

  test("rebuilt when the UTC day changes, reused within it", () => {
    const p = new Periods();
    const a = p.at(Date.UTC(2027, 0, 31, 0, 0));
    expect(p.at(Date.UTC(2027, 0, 31, 23, 59, 59, 999))).toBe(a);
    const b = p.at(Date.UTC(2027, 1, 1));
    expect(b).not.toBe(a);
    expect(b.dayStart).toBe(Date.UTC(2027, 1, 1));
    // anchor 1: the period that began on Feb 1st
    expect((JSON.parse(b.monthStarts) as number[])[0]).toBe(Date.UTC(2027, 1, 1));
    expect((JSON.parse(a.monthStarts) as number[])[0]).toBe(Date.UTC(2027, 0, 1));
  });
});
