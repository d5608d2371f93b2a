/**
 * A key's policy as the guard enforces it: compiled once when a verdict is
 * cached (scopes into a Set, the allowlist into parsed ranges, the limiter's
 * input prebuilt), so the per-request check is a few comparisons and no
 * allocation on the accepting path.
 */
import { ALL_SCOPES, DEFAULT_MODE, ipInRange, parseIpRange, type IpRange, type KeyMode, type QuotaPolicy, type RateLimitPolicy } from "@riskinmind/contracts";
import type { LimitPolicy } from "./limits";

/** The policy fields of a valid keys.verify reply (all optional: an older keys service sends none). */
export interface VerifiedPolicyFields {
  mode?: KeyMode;
  expiresAt?: number | null;
  scopes?: string[];
  ipAllowlist?: string[];
  rateLimit?: RateLimitPolicy | null;
  quota?: QuotaPolicy | null;
}

export interface CompiledPolicy {
  readonly mode: KeyMode;
  /** Epoch ms; Infinity when the key never expires. */
  readonly expiresAt: number;
  /** True when the key holds "*": every scope. */
  readonly allScopes: boolean;
  readonly scopes: ReadonlySet<string>;
  /** Null when any address may use the key. */
  readonly allow: readonly IpRange[] | null;
  /** What limits.take needs; null when the key has neither a rate limit nor a quota (nothing to count). */
  readonly limit: LimitPolicy | null;
  readonly rateLimit: RateLimitPolicy | null;
}

/** What a route asks of a key: a scope (none = any valid key) and how many units a call costs. */
export interface RouteNeeds {
  readonly scope: string | null;
  readonly cost: number;
}

export const NO_NEEDS: RouteNeeds = { scope: null, cost: 1 };

/** Compiles the policy of a verify reply for the key with that hash and owner. */
export function compilePolicy(p: VerifiedPolicyFields, ownerId: string, keyHash: string): CompiledPolicy {
  const scopes = p.scopes ?? [ALL_SCOPES];
  const allow: IpRange[] = [];
  for (const entry of p.ipAllowlist ?? []) {
    const r = parseIpRange(entry);
    // The keys service stores canonical entries only; one it sent that we cannot read must not widen the list.
    if (r !== null) allow.push(r);
    else allow.push(NOTHING);
  }
  const mode = p.mode ?? DEFAULT_MODE;
  const rateLimit = p.rateLimit ?? null;
  const quota = p.quota ?? null;
  return {
    mode,
    expiresAt: typeof p.expiresAt === "number" ? p.expiresAt : Number.POSITIVE_INFINITY,
    allScopes: scopes.includes(ALL_SCOPES),
    scopes: new Set(scopes),
    allow: (p.ipAllowlist ?? []).length === 0 ? null : allow,
    limit: rateLimit === null && quota === null ? null : { ownerId, mode, keyHash, rateLimit, quota },
    rateLimit,
  };
}

// A range no parsed address falls in (parseIp never yields a value above 2^128 - 1).
const NOTHING: IpRange = { network: 1n << 128n, bits: 128 };

/** The policy of a key that sent none: live, no expiry, every scope, any address, no limits. */
export const OPEN_POLICY: CompiledPolicy = compilePolicy({}, "", "");

export type PolicyRefusalCode = "KEY_EXPIRED" | "IP_NOT_ALLOWED" | "INSUFFICIENT_SCOPE";

export const POLICY_REFUSALS = {
  KEY_EXPIRED: { code: "KEY_EXPIRED", message: "API key has expired." },
  IP_NOT_ALLOWED: { code: "IP_NOT_ALLOWED", message: "This API key may not be used from this address." },
  INSUFFICIENT_SCOPE: { code: "INSUFFICIENT_SCOPE", message: "This API key lacks the scope this route needs." },
} as const satisfies Record<PolicyRefusalCode, { code: PolicyRefusalCode; message: string }>;

/**
 * The checks that need no counting, in the order a caller learns of them:
 * expiry, then the caller's address, then the route's scope. `ip` is the
 * caller's parsed address (null when unknown: a key with an allowlist then
 * refuses, since an address we cannot see is not one we can allow).
 */
export function checkPolicy(p: CompiledPolicy, now: number, ip: bigint | null, needs: RouteNeeds): PolicyRefusalCode | null {
  if (p.expiresAt <= now) return "KEY_EXPIRED";
  if (p.allow !== null && !allowed(p.allow, ip)) return "IP_NOT_ALLOWED";
  if (needs.scope !== null && !p.allScopes && !p.scopes.has(needs.scope)) return "INSUFFICIENT_SCOPE";
  return null;
}

function allowed(ranges: readonly IpRange[], ip: bigint | null): boolean {
  if (ip === null) return false;
  for (const r of ranges) if (ipInRange(ip, r)) return true;
  return false;
}
