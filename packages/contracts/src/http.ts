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
  page: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,8}$", description: "1-based page, 1..999999999; default 1" })),
  limit: Type.Optional(Type.String({ pattern: "^(100|[1-9][0-9]?)$", description: "rows per page, 1..100; default 10" })),
  mode: Type.Optional(KeyModeSchema),
});
export type LogsQuery = Static<typeof LogsQuery>;

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
    meta: Type.Object({ total: Type.Integer(), page: Type.Integer(), limit: Type.Integer() }),
  },
  { $id: "LogsResponse" },
);
export type LogsResponse = Static<typeof LogsResponse>;
