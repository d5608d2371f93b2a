import { Type, type Static } from "@sinclair/typebox";
import { KEY_HASH_PATTERN } from "./nats";
import { POLICY_LIMITS } from "./policy";

/**
 * keys.limits.take: a guard leases rate-limit and quota units in batches from
 * the central counters of a key's slot (owner + mode), so that the hot path
 * spends local units and the network is asked about once per batch. The guard
 * asks by the key's SHA-256, never by key id: only a holder of the key can
 * spend (or release) its units.
 */

/** Epoch milliseconds of a window or period start, as a reply gave it. */
const EpochMs = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });
const Units = (max: number) => Type.Integer({ minimum: 0, maximum: max });

/**
 * What a guard asks of one kind of limit: `want` more units for the current
 * window (rate) or period (quota); optionally it gives back `release` unused
 * units of the lease that started at `start` (a guard gone idle), and for a
 * quota reports `used`, units actually spent from that lease since its last
 * report (what GET /api/v1/keys/ shows as quota.used).
 */
export const LimitDraw = (max: number) =>
  Type.Object(
    {
      want: Units(max),
      start: Type.Optional(EpochMs),
      release: Type.Optional(Units(max)),
      used: Type.Optional(Units(max)),
    },
    { additionalProperties: false },
  );

export const LimitsTakeRequest = Type.Object(
  {
    keyHash: Type.String({ pattern: KEY_HASH_PATTERN }),
    rate: Type.Optional(LimitDraw(POLICY_LIMITS.rateLimitMax)),
    quota: Type.Optional(LimitDraw(POLICY_LIMITS.quotaMax)),
  },
  { additionalProperties: false },
);
export type LimitsTakeRequest = Static<typeof LimitsTakeRequest>;

/**
 * A lease: `granted` units of the window/period [start, end) (epoch ms, the
 * keys service's clock), `left` units of `limit` nobody holds yet. Never more
 * is granted than the limit leaves, so the sum of all leases is ≤ limit.
 */
export const LimitLease = Type.Object({
  granted: Type.Integer({ minimum: 0 }),
  left: Type.Integer({ minimum: 0 }),
  limit: Type.Integer({ minimum: 1 }),
  start: Type.Integer(),
  end: Type.Integer(),
});
export type LimitLease = Static<typeof LimitLease>;

/**
 * Why no lease: KEY_REFUSED (no such key, revoked past its grace, or expired:
 * one code, since the guard's own verification tells which), VALIDATION_ERROR
 * (not a valid request), DATABASE_UNAVAILABLE, INTERNAL.
 */
export const LimitsFailure = Type.Union([Type.Literal("KEY_REFUSED"), Type.Literal("VALIDATION_ERROR"), Type.Literal("DATABASE_UNAVAILABLE"), Type.Literal("INTERNAL")]);
export type LimitsFailure = Static<typeof LimitsFailure>;

/**
 * The answer. `rate`/`quota` are present when the key has that limit (whether
 * or not the request drew on it), absent when it has none; `now` is the keys
 * service's clock, so a guard can place windows on the same time line.
 */
export const LimitsTakeReply = Type.Union([
  Type.Object({ ok: Type.Literal(true), now: Type.Integer(), rate: Type.Optional(LimitLease), quota: Type.Optional(LimitLease) }),
  Type.Object({ ok: Type.Literal(false), code: LimitsFailure, message: Type.String() }),
]);
export type LimitsTakeReply = Static<typeof LimitsTakeReply>;
