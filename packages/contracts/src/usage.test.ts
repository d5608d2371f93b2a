/** eventTime: the window of plausible usage timestamps (8 days back, 5 minutes ahead), edges included. */
import { describe, expect, test } from "bun:test";
import { EVENT_MAX_AGE_MS, EVENT_MAX_SKEW_MS, eventTime } from "./usage";

const NOW = Date.parse("2026-06-15T12:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

describe("eventTime", () => {
  test("the window is 8 days back and 5 minutes ahead", () => {
    expect(EVENT_MAX_AGE_MS).toBe(8 * 24 * 3600 * 1000);
    expect(EVENT_MAX_SKEW_MS).toBe(5 * 60 * 1000);
  });

  test("now, and both edges exactly, are accepted as their epoch ms", () => {
    expect(eventTime(iso(NOW), NOW)).toBe(NOW);
    expect(eventTime(iso(NOW - EVENT_MAX_AGE_MS), NOW)).toBe(NOW - EVENT_MAX_AGE_MS);
    expect(eventTime(iso(NOW + EVENT_MAX_SKEW_MS), NOW)).toBe(NOW + EVENT_MAX_SKEW_MS);
  });

  test("one millisecond past either edge is refused", () => {
    expect(eventTime(iso(NOW - EVENT_MAX_AGE_MS - 1), NOW)).toBeNull();
    expect(eventTime(iso(NOW + EVENT_MAX_SKEW_MS + 1), NOW)).toBeNull();
  });

  test("a zone offset is honoured: +02:00 is two hours before the same wall time in Z", () => {
    expect(eventTime("2026-06-15T13:00:00+02:00", NOW)).toBe(NOW - 3600_000);
  });

  test("what is not a date is null, never NaN", () => {
    for (const t of ["", "yesterday", "2026-13-45T00:00:00Z"]) expect(eventTime(t, NOW)).toBeNull();
  });
});
