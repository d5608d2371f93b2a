/**
 * Key events (issue 13): what the keys service announces on the JetStream
 * stream of key events (`keys.events.<type>`), what webhooks deliver, and
 * what the audit log records. One vocabulary for all three.
 */
import { Type, type Static } from "@sinclair/typebox";
import { KeyModeSchema } from "./policy";

/**
 * Event types, as webhooks name them; the stream subject is
 * `keys.events.<type without "key.">` (keyEventSubject in subjects.ts). Quota thresholds
 * fire once per quota period each: at 80 % (`quota_warning`) and at 100 %
 * (`quota_exhausted`) of the limit.
 */
export const KEY_EVENT_TYPES = ["key.created", "key.rotated", "key.revoked", "key.updated", "key.expired", "key.leaked", "key.quota_warning", "key.quota_exhausted"] as const;
export type KeyEventType = (typeof KEY_EVENT_TYPES)[number];
export const KeyEventTypeSchema = Type.Union(KEY_EVENT_TYPES.map((t) => Type.Literal(t)) as [ReturnType<typeof Type.Literal<KeyEventType>>]);

/** The last token of a type's stream subject: `key.quota_warning` → `quota_warning`. */
export const eventSubjectToken = (type: KeyEventType): string => type.slice("key.".length);

/**
 * Who made a change: the owner (by JWT subject), the system (a sweep or a
 * threshold; `id` names which), or a reporter (a leak report's signing key,
 * or `revoke-by-value`).
 */
export const ACTOR_TYPES = ["owner", "system", "reporter"] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];
export const ActorSchema = Type.Object({
  type: Type.Union([Type.Literal("owner"), Type.Literal("system"), Type.Literal("reporter")]),
  id: Type.String(),
});
export type Actor = Static<typeof ActorSchema>;

/**
 * Audit actions: every change of a key. Each maps to at most one key event
 * (AUDIT_EVENT): a grace period's end is the old key's revocation in effect.
 */
export const AUDIT_ACTIONS = [
  "key.generated",
  "key.regenerated",
  "key.revoked",
  "key.updated",
  "key.grace_ended",
  "key.expired",
  "key.leak_revoked",
  "key.quota_warning",
  "key.quota_exhausted",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_EVENT: Record<AuditAction, KeyEventType> = {
  "key.generated": "key.created",
  "key.regenerated": "key.rotated",
  "key.revoked": "key.revoked",
  "key.updated": "key.updated",
  "key.grace_ended": "key.revoked",
  "key.expired": "key.expired",
  "key.leak_revoked": "key.leaked",
  "key.quota_warning": "key.quota_warning",
  "key.quota_exhausted": "key.quota_exhausted",
};

/**
 * One key event, as published on the stream and posted to webhooks (the
 * Standard Webhooks payload shape: id, type, timestamp, data). `id` is also
 * the JetStream message id (the stream drops a duplicate within its window)
 * and the `webhook-id` of every delivery, so a receiver can deduplicate.
 * `data` never holds a key, a hash of one, or a secret.
 */
export const KeyEventSchema = Type.Object({
  id: Type.String({ description: "evt_…: unique; the same on the stream and in every webhook delivery" }),
  type: KeyEventTypeSchema,
  timestamp: Type.String({ format: "date-time", description: "when the change committed" }),
  data: Type.Object({
    ownerId: Type.String(),
    keyId: Type.String(),
    mode: KeyModeSchema,
    /** The audit action behind it (`key.grace_ended` arrives as a `key.revoked` event). */
    action: Type.String(),
    actor: ActorSchema,
    /** What changed, as in the audit entry. */
    changes: Type.Record(Type.String(), Type.Unknown()),
  }),
});
export type KeyEvent = Static<typeof KeyEventSchema>;

/** One audit entry as GET /api/v1/keys/audit shows it. */
export const AuditEntrySchema = Type.Object({
  id: Type.String(),
  action: Type.String(),
  keyId: Type.String(),
  mode: KeyModeSchema,
  actor: ActorSchema,
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  at: Type.String({ format: "date-time" }),
  changes: Type.Record(Type.String(), Type.Unknown()),
  /** SHA-256 (hex) of the owner's previous entry; null for the first. */
  prevHash: Type.Union([Type.String(), Type.Null()]),
  /** SHA-256 (hex) of this entry (auditEntryHash), which the next entry carries as prevHash. */
  hash: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;
