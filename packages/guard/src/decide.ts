/**
 * The whole judgement of one guarded call, in the order a caller learns of
 * it: the key (401 INVALID_API_KEY / 503), then expiry (401 KEY_EXPIRED), the
 * caller's address (403 IP_NOT_ALLOWED), the route's scope (403
 * INSUFFICIENT_SCOPE), and last the rate limit and quota (429 RATE_LIMITED /
 * QUOTA_EXCEEDED), so a refused call never spends units.
 */
import type { ErrorCode, IpRange, KeyMode } from "@riskinmind/contracts";
import { clientAddress } from "./client-address";
import type { LimitOutcome, Limits, RateHeaders } from "./limits";
import { checkPolicy, POLICY_REFUSALS, type RouteNeeds } from "./policy";
import type { CachedVerdict } from "./verify";
import type { GuardResult } from "./types";

/** What the guard gives a protected route. */
export interface ApiKeyIdentity {
  readonly keyId: string;
  readonly ownerId: string;
  /** "test" for sk_test_ keys: the route should answer with sandbox data. */
  readonly mode: KeyMode;
}

/** Where the caller is: Bun's server knows the socket's peer (absent under `app.handle`: address unknown). */
export interface PeerSource {
  requestIP(r: Request): { address: string } | null;
}

export type Decision = { ok: true; apiKey: ApiKeyIdentity; headers: Record<string, string> | null } | { ok: false; code: ErrorCode; message: string; headers: Record<string, string> | null };

// The limiter could not answer: like an unreachable keys.verify, "cannot decide" is a 503, not a refusal of the key.
const UNDECIDED: Decision = { ok: false, code: "VERIFY_UNAVAILABLE", message: "API key limits are unavailable; try again shortly.", headers: null };

const MESSAGES = {
  RATE_LIMITED: "Rate limit exceeded for this API key; retry after the time in Retry-After.",
  QUOTA_EXCEEDED: "This API key's quota for the period is spent; retry after the time in Retry-After.",
} as const;

/** The RateLimit-* headers (IETF draft names, values in units and seconds). */
export function rateHeaders(r: RateHeaders | null, into: Record<string, string> = {}): Record<string, string> | null {
  if (r === null) return null;
  into["ratelimit-limit"] = String(r.limit);
  into["ratelimit-remaining"] = String(Math.max(0, r.remaining));
  into["ratelimit-reset"] = String(Math.max(0, Math.ceil(r.resetSeconds)));
  return into;
}

export function createDecider(limits: Limits, trusted: readonly IpRange[]) {
  /** Units are counted only for a key that has a limit; the outcome's headers exist only when it has a rate limit. */
  function afterLimits(v: CachedVerdict, o: LimitOutcome): Decision {
    if (o.ok) return { ok: true, apiKey: identityOf(v), headers: rateHeaders(o.rate) };
    const headers = rateHeaders(o.rate) ?? {};
    headers["retry-after"] = String(Math.max(1, Math.ceil(o.retryAfterSeconds)));
    return { ok: false, code: o.code, message: MESSAGES[o.code], headers };
  }

  /** A policy refusal still tells a rate-limited key where it stands, without asking the network or spending a unit. */
  function refuse(v: CachedVerdict, code: keyof typeof POLICY_REFUSALS, now: number): Decision {
    const r = POLICY_REFUSALS[code];
    const limit = v.policy.limit;
    return { ok: false, code: r.code, message: r.message, headers: limit === null ? null : rateHeaders(limits.peek(limit, now)) };
  }

  /** Judges a verified key for a route and a caller; synchronous unless the limiter must ask the network. */
  function decide(verdict: GuardResult, needs: RouteNeeds, request: Request, server: PeerSource | null | undefined, now: number): Decision | Promise<Decision> {
    if (!verdict.ok) return { ok: false, code: verdict.code, message: verdict.message, headers: null };
    const p = verdict.policy;
    // The address is worked out only for a key that has an allowlist: most don't, and the hot path stays free of it.
    const ip = p.allow === null ? null : clientAddress(server?.requestIP(request)?.address, trusted.length === 0 ? null : request.headers.get("x-forwarded-for"), trusted);
    const refusal = checkPolicy(p, now, ip, needs);
    if (refusal !== null) return refuse(verdict, refusal, now);
    if (p.limit === null) return { ok: true, apiKey: identityOf(verdict), headers: null };
    const o = limits.take(p.limit, needs.cost, now);
    return o instanceof Promise
      ? o.then(
          (x) => afterLimits(verdict, x),
          () => UNDECIDED,
        )
      : afterLimits(verdict, o);
  }

  return { decide };
}

// One identity object per cached verdict: a cached hit allocates nothing for it.
const identities = new WeakMap<CachedVerdict, ApiKeyIdentity>();
function identityOf(v: CachedVerdict): ApiKeyIdentity {
  let id = identities.get(v);
  if (id === undefined) {
    id = { keyId: v.keyId, ownerId: v.ownerId, mode: v.policy.mode };
    identities.set(v, id);
  }
  return id;
}
