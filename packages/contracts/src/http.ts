import { Type, type Static } from "@sinclair/typebox";
import { KeyModeSchema, PolicyView } from "./policy";

/** ISO-8601 UTC with a `Z` (milliseconds allowed), as the spec writes them. */
const Timestamp = Type.String({ format: "date-time", examples: ["2023-10-01T12:00:00.000Z"] });

/** The spec's fields, then the policy fields (added, never renamed). */
export const CurrentKey = Type.Composite([
  Type.Object({
    keyId: Type.String({ examples: ["key_5Tq2wWc1Jp0oY3n9ZrB8xA"] }),
    keySnippet: Type.String({ examples: ["sk_live_...9f8a"] }),
    status: Type.Literal("ACTIVE"),
    createdAt: Timestamp,
    label: Type.Union([Type.String(), Type.Null()]),
    lastUsedAt: Type.Union([Timestamp, Type.Null()]),
  }),
  PolicyView,
]);
export type CurrentKey = Static<typeof CurrentKey>;

export const CurrentKeyResponse = Type.Object({ success: Type.Literal(true), data: CurrentKey }, { $id: "CurrentKeyResponse" });

export const IssuedKey = Type.Composite([
  Type.Object({
    apiKey: Type.String({ description: "The plaintext key. Shown once; store it safely." }),
    keyId: Type.String(),
    keySnippet: Type.String(),
    createdAt: Timestamp,
    label: Type.Union([Type.String(), Type.Null()]),
  }),
  PolicyView,
]);
export type IssuedKey = Static<typeof IssuedKey>;

export const GenerateResponse = Type.Object({ success: Type.Literal(true), data: IssuedKey }, { $id: "GenerateResponse" });

export const REGENERATED_MESSAGE = "Key regenerated successfully.";
export const RegenerateResponse = Type.Object(
  {
    success: Type.Literal(true),
    data: Type.Composite([IssuedKey, Type.Object({ message: Type.Literal(REGENERATED_MESSAGE) })]),
  },
  { $id: "RegenerateResponse" },
);

export const REVOKED_MESSAGE = "API Key revoked successfully.";
export const RevokeResponse = Type.Object({ success: Type.Literal(true), message: Type.Literal(REVOKED_MESSAGE) }, { $id: "RevokeResponse" });

/**
 * Query strings are validated as exact decimal integers (no `1e3`, `+1`,
 * `0x10`, spaces) before they become numbers; the pattern is the bound.
 */
export const LogsQuery = Type.Object({
  page: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,8}$", description: "1-based page, 1..999999999; default 1. Not with `cursor`." })),
  limit: Type.Optional(Type.String({ pattern: "^(100|[1-9][0-9]?)$", description: "rows per page, 1..100; default 10" })),
  mode: Type.Optional(KeyModeSchema),
  ...LogsFilterQuery(),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: "opaque: `meta.nextCursor` of the previous answer, with the same filters and mode" })),
});
export type LogsQuery = Static<typeof LogsQuery>;

/**
 * The filter parameters of /logs and /logs/export. The schema only bounds
 * their size (and documents them); `parseLogsFilter` is the one rule for
 * what a value means, shared with the usage service.
 */
function LogsFilterQuery() {
  return {
    status: Type.Optional(Type.String({ maxLength: 200, description: "comma-separated codes 100..599 or classes 1xx..5xx, e.g. `429,5xx`" })),
    method: Type.Optional(Type.String({ maxLength: 200, description: "comma-separated HTTP methods, uppercase, e.g. `POST,PUT`" })),
    endpoint: Type.Optional(Type.String({ maxLength: 2048, description: "an exact path, or a prefix ending in `*`, e.g. `/api/v1/loans/*`" })),
    keyId: Type.Optional(Type.String({ maxLength: 64, description: "only this key's calls" })),
    from: Type.Optional(Type.String({ maxLength: 40, description: "ISO-8601 date-time with a zone, inclusive" })),
    to: Type.Optional(Type.String({ maxLength: 40, description: "ISO-8601 date-time with a zone, exclusive; after `from`" })),
  };
}

/** GET /logs/export: the filters and mode of /logs, no paging (every matching row is streamed). */
export const LogsExportQuery = Type.Object({
  format: Type.Union([Type.Literal("csv"), Type.Literal("ndjson")], { description: "csv (RFC 4180, a header line) or ndjson (one JSON object a line)" }),
  mode: Type.Optional(KeyModeSchema),
  ...LogsFilterQuery(),
});
export type LogsExportQuery = Static<typeof LogsExportQuery>;

export const LogEntry = Type.Object({
  endpoint: Type.String(),
  method: Type.String(),
  statusCode: Type.Integer(),
  timestamp: Timestamp,
  keyId: Type.String(),
  durationMs: Type.Union([Type.Number(), Type.Null()]),
});
export type LogEntry = Static<typeof LogEntry>;

export const LogsResponse = Type.Object(
  {
    success: Type.Literal(true),
    data: Type.Array(LogEntry),
    meta: Type.Object({
      /** Rows matching the filters (all of the mode's rows without filters). */
      total: Type.Integer(),
      /** The page asked for; null in an answer to a `cursor`. */
      page: Type.Union([Type.Integer(), Type.Null()]),
      limit: Type.Integer(),
      /** Pass as `cursor` for the next rows (older ones), null at the end. Absent only from a usage service that predates cursors. */
      nextCursor: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    }),
  },
  { $id: "LogsResponse" },
);
export type LogsResponse = Static<typeof LogsResponse>;
