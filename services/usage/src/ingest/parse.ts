import { check, eventTime, MAX_EVENTS_PER_MESSAGE, parseJson, type KeyMode, type UsageEvent } from "@riskinmind/contracts";

/** A validated event, ready for the batch writer. */
export interface IngestEvent {
  key: string;
  ownerId: string;
  keyId: string;
  endpoint: string;
  method: string;
  statusCode: number;
  /** epoch ms */
  ts: number;
  durationMs: number | null;
  /**
   * The key's mode as keys.lookup reports it, set by attribution; the
   * event's own `mode` is never read (a publisher could write anything).
   * Absent means live: what every key was before test keys existed.
   */
  mode?: KeyMode;
}

export type InvalidReason = "not_json" | "bad_shape" | "empty_array" | "too_many_events" | "schema" | "timestamp" | "unknown_key" | "owner_mismatch" | "unstorable";

export interface ParsedMessage {
  events: IngestEvent[];
  /** Reason for the whole message when nothing in it could be read. */
  messageError?: InvalidReason;
  /** Per-event refusals (count by reason). */
  refused: Partial<Record<InvalidReason, number>>;
}

/**
 * Reads one JetStream message. Each event is judged on its own, so one bad
 * event never blocks its neighbours. Every event carries its own id (the
 * contract requires it), which is its idempotency key.
 */
export function parseUsageMessage(data: Uint8Array, now = Date.now()): ParsedMessage {
  const refused: ParsedMessage["refused"] = {};
  const parsed = parseJson(data);
  if (parsed === undefined) return { events: [], messageError: "not_json", refused };
  let items: unknown[];
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return { events: [], messageError: "empty_array", refused };
    if (parsed.length > MAX_EVENTS_PER_MESSAGE) return { events: [], messageError: "too_many_events", refused };
    items = parsed;
  } else if (parsed !== null && typeof parsed === "object") {
    items = [parsed];
  } else {
    return { events: [], messageError: "bad_shape", refused };
  }
  const events: IngestEvent[] = [];
  for (let i = 0; i < items.length; i++) {
    const e = items[i];
    if (!check.usageEvent.Check(e)) {
      refused.schema = (refused.schema ?? 0) + 1;
      continue;
    }
    const ts = eventTime(e.timestamp, now);
    if (ts === null) {
      refused.timestamp = (refused.timestamp ?? 0) + 1;
      continue;
    }
    events.push(toIngest(e, ts, `i:${e.id}`));
  }
  return { events, refused };
}

function toIngest(e: UsageEvent, ts: number, key: string): IngestEvent {
  return {
    key,
    ownerId: e.ownerId,
    keyId: e.keyId,
    endpoint: e.endpoint,
    method: e.method,
    statusCode: e.statusCode,
    ts,
    durationMs: e.durationMs ?? null,
  };
}
