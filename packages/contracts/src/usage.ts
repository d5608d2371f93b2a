import { Type, type Static } from "@sinclair/typebox";
import { KeyModeSchema } from "./policy";
import { Text } from "./text";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

/** One usage event, as any service publishes it to `usage.events`. */
export const UsageEvent = Type.Object({
  /**
   * Idempotency key, required: the same id stored twice is one row, so a
   * replayed or re-sent message never makes a second row (the guard sends a UUIDv7).
   */
  id: Type.String({ minLength: 1, maxLength: 128, pattern: "^[\\x21-\\x7e]+$" }),
  keyId: Type.String({ minLength: 1, maxLength: 64, pattern: "^[\\x21-\\x7e]+$" }),
  ownerId: Text({ minLength: 1, maxLength: 255 }),
  endpoint: Type.String({ minLength: 1, maxLength: 2048, pattern: "^/[\\x21-\\x7e]*$" }),
  method: Type.Union(HTTP_METHODS.map((m) => Type.Literal(m))),
  statusCode: Type.Integer({ minimum: 100, maximum: 599 }),
  /** ISO-8601 with a zone (`Z` or `+hh:mm`). */
  timestamp: Type.String({
    maxLength: 40,
    pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$",
  }),
  durationMs: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000 })),
  /**
   * The key's mode as the guard saw it. Like ownerId, informative only: the
   * usage service files the event under the mode keys.lookup reports.
   */
  mode: Type.Optional(KeyModeSchema),
});
export type UsageEvent = Static<typeof UsageEvent>;

/** At most this many events in one message. */
export const MAX_EVENTS_PER_MESSAGE = 1000;

/**
 * How far from "now" an event's timestamp may be. Past: a guard may buffer
 * through an outage and the stream keeps a week, so a bit more than that.
 * Future: clock skew between hosts, not more.
 */
export const EVENT_MAX_AGE_MS = 8 * 24 * 3600 * 1000;
export const EVENT_MAX_SKEW_MS = 5 * 60 * 1000;

/** Epoch ms of a plausible event timestamp, or null when it is not one. */
export function eventTime(timestamp: string, now = Date.now()): number | null {
  const t = Date.parse(timestamp);
  if (!Number.isFinite(t)) return null;
  if (t < now - EVENT_MAX_AGE_MS || t > now + EVENT_MAX_SKEW_MS) return null;
  return t;
}
