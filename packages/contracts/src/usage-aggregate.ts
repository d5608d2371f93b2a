/**
 * Usage aggregates: GET /api/v1/keys/usage and the NATS request behind it,
 * usage.logs.aggregate (keys asks, usage answers from its rollups).
 */
import { Type, type Static } from "@sinclair/typebox";
import { ResponderFailure } from "./nats";
import { KeyModeSchema } from "./policy";
import { Text } from "./text";

export const GRANULARITIES = ["hour", "day"] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const GROUP_BYS = ["none", "endpoint", "status", "method", "key"] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
export const BUCKET_MS: Record<Granularity, number> = { hour: HOUR_MS, day: DAY_MS };
/** The longest range one request may span (before widening to whole buckets): 31 days hourly, 400 days daily. */
export const MAX_SPAN_MS: Record<Granularity, number> = { hour: 31 * DAY_MS, day: 400 * DAY_MS };

/** ISO-8601 date and time with a zone (`Z` or `±hh:mm`), as usage events carry them. */
export const ZONED_TIME_PATTERN = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$";
const ZonedTime = Type.String({ pattern: ZONED_TIME_PATTERN, maxLength: 40, examples: ["2026-11-01T00:00:00Z"] });
// Literals spelled out (not mapped from the arrays above): a mapped union loses its literal types.
const Granularity = Type.Union([Type.Literal("hour"), Type.Literal("day")], { description: "hour (default) or day: UTC buckets" });
const GroupBy = Type.Union([Type.Literal("none"), Type.Literal("endpoint"), Type.Literal("status"), Type.Literal("method"), Type.Literal("key")], {
  description: "none (default), endpoint, status, method or key",
});

/** The query string of GET /api/v1/keys/usage. */
export const UsageQuery = Type.Object({
  from: Type.String({ ...ZonedTime, description: "inclusive, ISO-8601 with a zone; floored to its bucket" }),
  to: Type.String({ ...ZonedTime, description: "exclusive, ISO-8601 with a zone; ceiled to its bucket" }),
  granularity: Type.Optional(Granularity),
  groupBy: Type.Optional(GroupBy),
  mode: Type.Optional(KeyModeSchema),
});
export type UsageQuery = Static<typeof UsageQuery>;

/** One (bucket, group) of usage. Durations are the rollup histogram's resolution (README, Usage aggregates). */
export const UsageBucket = Type.Object({
  bucket: Type.String({ format: "date-time", description: "start of the UTC hour or day" }),
  group: Type.Union([Type.String(), Type.Integer(), Type.Null()], { description: "null for groupBy=none; the endpoint, status code, method or keyId otherwise" }),
  count: Type.Integer(),
  /** 4xx answers. */
  clientErrors: Type.Integer(),
  /** 5xx answers. */
  serverErrors: Type.Integer(),
  p50Ms: Type.Union([Type.Number(), Type.Null()]),
  p95Ms: Type.Union([Type.Number(), Type.Null()]),
});
export type UsageBucket = Static<typeof UsageBucket>;

export const UsageResponse = Type.Object(
  {
    success: Type.Literal(true),
    data: Type.Array(UsageBucket),
    meta: Type.Object({
      from: Type.String({ format: "date-time", description: "the range as served: from floored to its bucket" }),
      to: Type.String({ format: "date-time", description: "to ceiled to its bucket" }),
      granularity: Granularity,
      groupBy: GroupBy,
    }),
  },
  { $id: "UsageResponse" },
);
export type UsageResponse = Static<typeof UsageResponse>;

/** usage.logs.aggregate request: the owner from the edge's verified JWT, the range already widened to whole buckets. */
export const UsageAggregateRequest = Type.Object(
  {
    ownerId: Text({ minLength: 1, maxLength: 255 }),
    mode: KeyModeSchema,
    from: ZonedTime,
    to: ZonedTime,
    granularity: Granularity,
    groupBy: GroupBy,
  },
  { additionalProperties: false },
);
export type UsageAggregateRequest = Static<typeof UsageAggregateRequest>;

export const UsageAggregateReply = Type.Union([
  Type.Object({ ok: Type.Literal(true), data: Type.Array(UsageBucket) }),
  Type.Object({ ok: Type.Literal(false), code: ResponderFailure, message: Type.String() }),
]);
export type UsageAggregateReply = Static<typeof UsageAggregateReply>;

/** A range widened to whole UTC buckets (epoch ms), or why it is refused. */
export type UsageRange = { ok: true; from: number; to: number } | { ok: false; message: string };

/**
 * Checks and widens a range: both times must parse, from < to, and the span
 * asked for must be at most MAX_SPAN_MS (checked before widening, so "the
 * last 31 days" from any minute is accepted; widening adds one bucket at
 * most). Both sides of usage.logs.aggregate apply it; it is idempotent.
 */
export function usageRange(fromText: string, toText: string, granularity: Granularity): UsageRange {
  const from = parseZoned(fromText);
  const to = parseZoned(toText);
  if (from === null || to === null) return { ok: false, message: "from and to must be ISO-8601 times with a zone, e.g. 2026-11-01T00:00:00Z." };
  if (from >= to) return { ok: false, message: "from must be before to." };
  if (to - from > MAX_SPAN_MS[granularity]) {
    return { ok: false, message: granularity === "hour" ? "An hourly range may span at most 31 days; use granularity=day." : "A daily range may span at most 400 days." };
  }
  const size = BUCKET_MS[granularity];
  // UTC hours and days are whole multiples of their size since the epoch (no leap seconds in epoch ms).
  return { ok: true, from: Math.floor(from / size) * size, to: Math.ceil(to / size) * size };
}

const ZONED = new RegExp(ZONED_TIME_PATTERN);

/** Epoch ms of a zoned ISO time, or null. Strict: Date.parse rolls 2026-02-30 over to March, this refuses it. */
function parseZoned(text: string): number | null {
  if (!ZONED.test(text)) return null;
  const t = Date.parse(text);
  if (!Number.isFinite(t)) return null;
  const y = Number(text.slice(0, 4));
  const m = Number(text.slice(5, 7));
  const d = Number(text.slice(8, 10));
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return null;
  // ISO's 24:00 (end of day) is refused too: one spelling per instant.
  if (Number(text.slice(11, 13)) > 23 || Number(text.slice(14, 16)) > 59) return null;
  return t;
}
