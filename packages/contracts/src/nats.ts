import { Type, type Static } from "@sinclair/typebox";
import { LogEntry } from "./http";
import { KeyModeSchema, VerifiedPolicy } from "./policy";
import { Text } from "./text";

/** Lowercase hex SHA-256 of an API key (see `hashKey`). */
export const KEY_HASH_PATTERN = "^[0-9a-f]{64}$";
/** A key id as issued (`key_` + 22 base62). */
export const KEY_ID_PATTERN = "^key_[0-9A-Za-z]{22}$";

/**
 * keys.verify request. The key itself never travels on the bus: the caller
 * (the guard) checks the key's shape and checksum locally and sends its
 * SHA-256, which is also the only form the keys service stores. Unknown
 * fields are refused, so a caller that still puts `apiKey` next to the hash
 * fails at once (MALFORMED) rather than working while it leaks keys onto the bus.
 */
export const VerifyRequest = Type.Object({ keyHash: Type.String({ pattern: KEY_HASH_PATTERN }) }, { additionalProperties: false });
export type VerifyRequest = Static<typeof VerifyRequest>;

/**
 * Why a key was refused. MALFORMED means the request was not
 * `{"keyHash": <64 lowercase hex>}`; the hash of anything that is not an
 * issued key is KEY_NOT_FOUND (the key's checksum is the caller's to check:
 * only the caller ever sees the key). VERIFY_UNAVAILABLE means "could not
 * decide" (the keys database is down and the key is not cached): callers
 * answer 503, not 401.
 */
export const VerifyFailure = Type.Union([
  Type.Literal("MALFORMED"),
  Type.Literal("KEY_NOT_FOUND"),
  Type.Literal("KEY_REVOKED"),
  /** Past its expiresAt, or a rotated-out key past its grace period. */
  Type.Literal("KEY_EXPIRED"),
  Type.Literal("VERIFY_UNAVAILABLE"),
]);
export type VerifyFailure = Static<typeof VerifyFailure>;

/**
 * A valid answer carries the key's policy for the guard to enforce locally
 * (expiry, scopes, allowlist; rate limit and quota through keys.limits.take).
 * The policy fields are optional so a guard still reads an answer from a keys
 * service that predates them (absent = no restriction, mode live).
 */
export const VerifyReply = Type.Union([
  Type.Object({ valid: Type.Literal(true), keyId: Type.String(), ownerId: Type.String(), ...VerifiedPolicy }),
  Type.Object({ valid: Type.Literal(false), code: VerifyFailure }),
]);
export type VerifyReply = Static<typeof VerifyReply>;

/** keys.cache.revoked: a key stopped being valid; every cache drops it. */
export const KeyRevokedEvent = Type.Object({
  keyId: Type.String({ maxLength: 64 }),
  /** hex SHA-256 of the key, so caches keyed by hash drop it directly. */
  keyHash: Type.String({ pattern: KEY_HASH_PATTERN }),
  ownerId: Text({ minLength: 1, maxLength: 255 }),
  revokedAt: Type.String({ maxLength: 40 }),
});
export type KeyRevokedEvent = Static<typeof KeyRevokedEvent>;

/**
 * keys.cache.changed: a key's policy changed (PATCH); every cache drops its
 * verdict for it and asks again. Same fields as a revocation, minus the time.
 */
export const KeyChangedEvent = Type.Object({
  keyId: Type.String({ maxLength: 64 }),
  keyHash: Type.String({ pattern: KEY_HASH_PATTERN }),
  ownerId: Text({ minLength: 1, maxLength: 255 }),
});
export type KeyChangedEvent = Static<typeof KeyChangedEvent>;

/** keys.cache.owner-changed: the owner's active key is no longer what a cache may hold. */
export const OwnerKeyChangedEvent = Type.Object({ ownerId: Text({ minLength: 1, maxLength: 255 }) });
export type OwnerKeyChangedEvent = Static<typeof OwnerKeyChangedEvent>;

/** Largest `limit` of a usage.logs.query: the export's pages (HTTP /logs stays 1..100). */
export const LOGS_QUERY_MAX_LIMIT = 5000;

/**
 * usage.logs.query request (the owner comes from the edge's verified JWT).
 * The filters are the canonical text of `filterToWire` and are parsed again
 * by the usage service with `parseLogsFilter`. With a `cursor`, `page` is
 * ignored (the edge sends 1, so a usage service that predates cursors answers
 * page 1 without `nextCursor`, which the edge refuses rather than mislabel).
 */
export const LogsQueryRequest = Type.Object({
  ownerId: Text({ minLength: 1, maxLength: 255 }),
  page: Type.Integer({ minimum: 1, maximum: 999_999_999 }),
  limit: Type.Integer({ minimum: 1, maximum: LOGS_QUERY_MAX_LIMIT }),
  /** Which key mode's logs (default live: a keys replica that predates modes sends none). */
  mode: Type.Optional(KeyModeSchema),
  status: Type.Optional(Type.String({ maxLength: 200 })),
  method: Type.Optional(Type.String({ maxLength: 200 })),
  endpoint: Type.Optional(Type.String({ maxLength: 2048 })),
  keyId: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Type.String({ maxLength: 40 })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  /** true: do not count (the export's pages need no total, and a filtered count is a read of every matching index entry); the reply's total is then -1. */
  skipTotal: Type.Optional(Type.Boolean()),
  /**
   * The export's pages: answer with the rows already encoded in this format
   * (a LogsExportHead line, then the rows; see logs-export.ts) instead of
   * `{ok, data, total, nextCursor}`, so the edge streams them without parsing
   * and re-encoding every row. A usage service that predates it answers the
   * JSON page, which the edge still encodes itself.
   */
  as: Type.Optional(Type.Union([Type.Literal("csv"), Type.Literal("ndjson")])),
});
export type LogsQueryRequest = Static<typeof LogsQueryRequest>;

/**
 * Why a usage.logs.query or keys.lookup responder said no: the request broke
 * its schema (VALIDATION_ERROR, the asker's fault), its database is down
 * (DATABASE_UNAVAILABLE, retry), or anything else (INTERNAL). A reply with any
 * other code breaks the contract and is treated as no answer.
 */
export const ResponderFailure = Type.Union([Type.Literal("VALIDATION_ERROR"), Type.Literal("DATABASE_UNAVAILABLE"), Type.Literal("INTERNAL")]);
export type ResponderFailure = Static<typeof ResponderFailure>;

export const LogsQueryReply = Type.Union([
  Type.Object({
    ok: Type.Literal(true),
    data: Type.Array(LogEntry),
    /** Rows matching the filters; -1 when the request said skipTotal. */
    total: Type.Integer({ minimum: -1 }),
    /** The cursor after the last row, null at the end (optional for a reader: absent from a usage service that predates cursors). */
    nextCursor: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
  Type.Object({ ok: Type.Literal(false), code: ResponderFailure, message: Type.String() }),
]);
export type LogsQueryReply = Static<typeof LogsQueryReply>;

/** At most this many key ids in one keys.lookup request (one usage message's worth). */
export const MAX_LOOKUP_KEYS = 1000;

/**
 * keys.lookup request (only the usage service may ask): who owns these keys?
 * Usage attributes a recorded call to the key's real owner, never to the
 * owner a publisher wrote into the event.
 */
export const KeyLookupRequest = Type.Object({
  keyIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: MAX_LOOKUP_KEYS }),
});
export type KeyLookupRequest = Static<typeof KeyLookupRequest>;

/** The keys that exist (whatever their status: a call made before a revocation is still billed); unknown ids are absent. */
export const KeyLookupReply = Type.Union([
  Type.Object({ ok: Type.Literal(true), keys: Type.Array(Type.Object({ keyId: Type.String(), ownerId: Type.String(), mode: Type.Optional(KeyModeSchema) })) }),
  Type.Object({ ok: Type.Literal(false), code: ResponderFailure, message: Type.String() }),
]);
export type KeyLookupReply = Static<typeof KeyLookupReply>;
