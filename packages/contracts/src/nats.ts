import { Type, type Static } from "@sinclair/typebox";
import { LogEntry } from "./http";

/** keys.verify request. */
export const VerifyRequest = Type.Object({ apiKey: Type.String({ maxLength: 256 }) });
export type VerifyRequest = Static<typeof VerifyRequest>;

/**
 * Why a key was refused. VERIFY_UNAVAILABLE means "could not decide" (the
 * keys database is down and the key is not cached): callers answer 503, not 401.
 */
export const VerifyFailure = Type.Union([
  Type.Literal("MALFORMED"),
  Type.Literal("KEY_NOT_FOUND"),
  Type.Literal("KEY_REVOKED"),
  Type.Literal("VERIFY_UNAVAILABLE"),
]);
export type VerifyFailure = Static<typeof VerifyFailure>;

export const VerifyReply = Type.Union([
  Type.Object({ valid: Type.Literal(true), keyId: Type.String(), ownerId: Type.String() }),
  Type.Object({ valid: Type.Literal(false), code: VerifyFailure }),
]);
export type VerifyReply = Static<typeof VerifyReply>;

/** keys.events.revoked: a key stopped being valid; every cache drops it. */
export const KeyRevokedEvent = Type.Object({
  keyId: Type.String(),
  /** hex SHA-256 of the key, so caches keyed by hash drop it directly. */
  keyHash: Type.String(),
  ownerId: Type.String(),
  revokedAt: Type.String(),
});
export type KeyRevokedEvent = Static<typeof KeyRevokedEvent>;

/** keys.events.owner-changed: the owner's active key is no longer what a cache may hold. */
export const OwnerKeyChangedEvent = Type.Object({ ownerId: Type.String({ minLength: 1, maxLength: 255 }) });
export type OwnerKeyChangedEvent = Static<typeof OwnerKeyChangedEvent>;

/** usage.logs.query request (the owner comes from the edge's verified JWT). */
export const LogsQueryRequest = Type.Object({
  ownerId: Type.String({ minLength: 1, maxLength: 255 }),
  page: Type.Integer({ minimum: 1, maximum: 999_999_999 }),
  limit: Type.Integer({ minimum: 1, maximum: 100 }),
});
export type LogsQueryRequest = Static<typeof LogsQueryRequest>;

export const LogsQueryReply = Type.Union([
  Type.Object({ ok: Type.Literal(true), data: Type.Array(LogEntry), total: Type.Integer() }),
  Type.Object({ ok: Type.Literal(false), code: Type.String(), message: Type.String() }),
]);
export type LogsQueryReply = Static<typeof LogsQueryReply>;
