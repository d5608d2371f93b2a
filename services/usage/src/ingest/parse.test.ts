/**
 * Reading a usage.events message: one event or an array, each event judged
 * on its own (a bad one is counted by reason, its neighbours still stored),
 * and a message that cannot be read at all named by one reason.
 */
import { describe, expect, test } from "bun:test";
import { EVENT_MAX_AGE_MS, MAX_EVENTS_PER_MESSAGE, type UsageEvent } from "@riskinmind/contracts";
import { parseUsageMessage } from "./parse";

const NOW = Date.parse("2026-06-15T12:00:00.000Z");
const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const event = (i: number, extra: Partial<UsageEvent> = {}): UsageEvent => ({
  id: `evt-${i}`,
  keyId: "key_1",
  ownerId: "owner-1",
  endpoint: "/api/v1/loans/predict",
  method: "POST",
  statusCode: 200,
  timestamp: "2026-06-15T11:59:00.000Z",
  durationMs: 1.5,
  ...extra,
});

describe("parseUsageMessage", () => {
  test("one event object is read as a batch of one, with its id as the idempotency key", () => {
    const out = parseUsageMessage(enc(event(1)), NOW);
    expect(out.messageError).toBeUndefined();
    expect(out.refused).toEqual({});
    expect(out.events).toEqual([{ key: "i:evt-1", ownerId: "owner-1", keyId: "key_1", endpoint: "/api/v1/loans/predict", method: "POST", statusCode: 200, ts: NOW - 60_000, durationMs: 1.5 }]);
  });

  test("an array is read event by event, in order; a missing duration is null", () => {
    const { durationMs: _, ...noDuration } = event(2);
    const out = parseUsageMessage(enc([event(1), noDuration, event(3)]), NOW);
    expect(out.events.map((e) => e.key)).toEqual(["i:evt-1", "i:evt-2", "i:evt-3"]);
    expect(out.events[1]!.durationMs).toBeNull();
  });

  test("bad events are refused one by one and counted by reason; the good ones around them survive", () => {
    const out = parseUsageMessage(
      enc([
        event(1),
        event(2, { statusCode: 99 }),
        { ...event(3), id: undefined },
        event(4, { ownerId: "o\ud800" }),
        event(5, { timestamp: new Date(NOW - EVENT_MAX_AGE_MS - 1).toISOString() }),
        event(6, { timestamp: "2026-06-15T12:06:00.000Z" }),
        "not an object",
        event(7),
      ]),
      NOW,
    );
    expect(out.events.map((e) => e.key)).toEqual(["i:evt-1", "i:evt-7"]);
    expect(out.refused).toEqual({ schema: 4, timestamp: 2 });
    expect(out.messageError).toBeUndefined();
  });

  test("a message that is not JSON, not an event, or an empty or oversized array is refused whole", () => {
    expect(parseUsageMessage(enc("{not json"), NOW)).toEqual({ events: [], messageError: "not_json", refused: {} });
    for (const v of [42, '"text"', null, true]) expect(parseUsageMessage(enc(JSON.stringify(v)), NOW).messageError).toBe("bad_shape");
    expect(parseUsageMessage(enc([]), NOW).messageError).toBe("empty_array");
    const tooMany = Array.from({ length: MAX_EVENTS_PER_MESSAGE + 1 }, (_, i) => event(i));
    expect(parseUsageMessage(enc(tooMany), NOW)).toEqual({ events: [], messageError: "too_many_events", refused: {} });
  });

  test("exactly the maximum number of events per message is read", () => {
    const max = Array.from({ length: MAX_EVENTS_PER_MESSAGE }, (_, i) => event(i));
    const out = parseUsageMessage(enc(max), NOW);
    expect(out.messageError).toBeUndefined();
    expect(out.events).toHaveLength(MAX_EVENTS_PER_MESSAGE);
  });

  test("an object that is not an event is one refused event, not a message error", () => {
    expect(parseUsageMessage(enc({ hello: "world" }), NOW)).toEqual({ events: [], refused: { schema: 1 } });
  });
});
