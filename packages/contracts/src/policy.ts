import { Type, type Static } from "@sinclair/typebox";
import { canonicalIpRange } from "./ip";
import type { KeyMode } from "./key-format";
import { Text } from "./text";

/**
 * Key policies: what an owner may restrict a key to, checked where the key is
 * used (the guard), set through the management API. Every bound here is part
 * of the public contract (400 VALIDATION_ERROR beyond it).
 */
export const POLICY_LIMITS = {
  scopesMax: 32,
  ipAllowlistMax: 100,
  rateLimitMax: 1_000_000,
  windowSecondsMax: 3_600,
  quotaMax: 1_000_000_000,
  /** expiresAt at most this many calendar years ahead. */
  expiresYearsMax: 3,
  gracePeriodSecondsMax: 604_800,
} as const;

const Timestamp = Type.String({ format: "date-time", examples: ["2027-01-01T00:00:00.000Z"] });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const KeyModeSchema = Type.Union([Type.Literal("live"), Type.Literal("test")], { description: "live (default) or test (`sk_test_` keys)" });

/** `*` (every scope) or a lowercase name such as `loans:predict`. */
export const SCOPE_PATTERN = "^(\\*|[a-z][a-z0-9_.:-]{0,63})$";
export const ALL_SCOPES = "*";
export const Scope = Type.String({ pattern: SCOPE_PATTERN, examples: ["loans:predict"] });

export const RateLimitPolicy = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: POLICY_LIMITS.rateLimitMax, description: "calls accepted per window" }),
    windowSeconds: Type.Integer({ minimum: 1, maximum: POLICY_LIMITS.windowSecondsMax, description: "fixed windows aligned to the Unix epoch" }),
  },
  { additionalProperties: false },
);
export type RateLimitPolicy = Static<typeof RateLimitPolicy>;

export const QuotaPeriod = Type.Union([Type.Literal("day"), Type.Literal("month")]);
export type QuotaPeriod = Static<typeof QuotaPeriod>;

export const QuotaPolicy = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: POLICY_LIMITS.quotaMax, description: "units per period" }),
    period: QuotaPeriod,
  },
  { additionalProperties: false },
);
export type QuotaPolicy = Static<typeof QuotaPolicy>;

/** The policy fields a body may carry (generate, regenerate, PATCH); `null` means "none" (PATCH: clear it). */
const policyInput = {
  expiresAt: Type.Optional(Nullable(Timestamp)),
  scopes: Type.Optional(Nullable(Type.Array(Scope, { minItems: 1, maxItems: POLICY_LIMITS.scopesMax, uniqueItems: true }))),
  ipAllowlist: Type.Optional(Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 64, examples: ["203.0.113.0/24"] }), { maxItems: POLICY_LIMITS.ipAllowlistMax }))),
  rateLimit: Type.Optional(Nullable(RateLimitPolicy)),
  quota: Type.Optional(Nullable(QuotaPolicy)),
};

const label = Text({ minLength: 1, maxLength: 100 });

export const GenerateBody = Type.Object({ label: Type.Optional(label), ...policyInput }, { additionalProperties: false, $id: "GenerateBody" });
export type GenerateBody = Static<typeof GenerateBody>;

export const RegenerateBody = Type.Object(
  {
    label: Type.Optional(label),
    ...policyInput,
    gracePeriodSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: POLICY_LIMITS.gracePeriodSecondsMax, description: "how long the old key keeps working (default 0: revoked at once)" })),
  },
  { additionalProperties: false, $id: "RegenerateBody" },
);
export type RegenerateBody = Static<typeof RegenerateBody>;

/** PATCH: any field, `null` clears it (label too). */
export const PatchBody = Type.Object({ label: Type.Optional(Type.Union([label, Type.Null()])), ...policyInput }, { additionalProperties: false, $id: "PatchKeyBody" });
export type PatchBody = Static<typeof PatchBody>;

/** The policy part of a body, as the keys service applies it (label apart). */
export type PolicyInput = Omit<GenerateBody, "label">;

/** `?mode=` on every key route and /logs (default live). */
export const ModeQuery = Type.Object({ mode: Type.Optional(KeyModeSchema) });

/**
 * What the schema cannot say: expiresAt in the future and at most 3 years
 * ahead, every allowlist entry an address or CIDR. The message names the
 * field; null when the input is acceptable.
 */
export function policyProblem(input: PolicyInput, now: number): string | null {
  if (typeof input.expiresAt === "string") {
    const t = Date.parse(input.expiresAt);
    if (!(t > now)) return "expiresAt must be in the future.";
    const max = new Date(now);
    max.setUTCFullYear(max.getUTCFullYear() + POLICY_LIMITS.expiresYearsMax);
    if (t > max.getTime()) return `expiresAt must be at most ${POLICY_LIMITS.expiresYearsMax} years ahead.`;
  }
  for (const entry of input.ipAllowlist ?? []) {
    if (canonicalIpRange(entry) === null) return "ipAllowlist entries must be IPv4 or IPv6 addresses or CIDR ranges (no host bits past the prefix).";
  }
  return null;
}

/**
 * The quota period holding `now`: a daily quota runs 00:00–24:00 UTC; a
 * monthly one from the anchor day (the day of the month the quota was set,
 * 1..31, clamped to each month's last day) 00:00 UTC, like a billing date.
 */
export function quotaWindow(period: QuotaPeriod, anchorDay: number, now: number): { start: number; end: number } {
  const d = new Date(now);
  if (period === "day") {
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return { start, end: start + 86_400_000 };
  }
  const at = (y: number, m: number) => {
    const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    return Date.UTC(y, m, Math.min(anchorDay, last));
  };
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth();
  if (at(y, m) > now) {
    m -= 1;
    if (m < 0) {
      m = 11;
      y -= 1;
    }
  }
  const start = at(y, m);
  const end = m === 11 ? at(y + 1, 0) : at(y, m + 1);
  return { start, end };
}

/** The fixed rate-limit window holding `now` (aligned to the Unix epoch). */
export function rateWindow(windowSeconds: number, now: number): { start: number; end: number } {
  const size = windowSeconds * 1000;
  const start = Math.floor(now / size) * size;
  return { start, end: start + size };
}

/** What `GET /api/v1/keys/` shows of a policy, beside the spec's fields. */
export const PolicyView = Type.Object({
  mode: KeyModeSchema,
  expiresAt: Nullable(Timestamp),
  scopes: Type.Array(Type.String(), { description: '["*"] = every scope' }),
  ipAllowlist: Type.Array(Type.String(), { description: "[] = any address" }),
  rateLimit: Nullable(RateLimitPolicy),
  quota: Nullable(
    Type.Object({
      limit: Type.Integer(),
      period: QuotaPeriod,
      used: Type.Integer({ description: "units accepted in the current period (at most a few seconds behind)" }),
      resetsAt: Timestamp,
    }),
  ),
  previousKey: Nullable(Type.Object({ keyId: Type.String(), keySnippet: Type.String(), expiresAt: Timestamp }, { description: "the key this one replaced, while its rotation grace period runs" })),
});
export type PolicyView = Static<typeof PolicyView>;

/** The policy a verification hands the guard (times as epoch ms). */
export const VerifiedPolicy = {
  mode: Type.Optional(KeyModeSchema),
  expiresAt: Type.Optional(Nullable(Type.Number())),
  scopes: Type.Optional(Type.Array(Type.String())),
  ipAllowlist: Type.Optional(Type.Array(Type.String())),
  rateLimit: Type.Optional(Nullable(RateLimitPolicy)),
  quota: Type.Optional(Nullable(QuotaPolicy)),
};

export const DEFAULT_MODE: KeyMode = "live";
