import type { VerifyReply } from "@riskinmind/contracts";
import { isDbUnavailable, type Logger, type Sql, errFields } from "@riskinmind/runtime";
import type { DbHealth } from "../db-health";
import { findByHash, type HashLookup } from "../keys/repo";
import type { CacheEntry, VerifyCache, VerifyResult } from "./cache";
import type { LastUsed } from "./last-used";

export interface VerifyDeps {
  sql: Sql;
  cache: VerifyCache;
  log: Logger;
  /** Told of every key found valid (last_used_at). */
  lastUsed: Pick<LastUsed, "note">;
  config: { VERIFY_CACHE_TTL_MS: number; VERIFY_NEGATIVE_TTL_MS: number; VERIFY_STALE_MAX_MS: number };
  /** Whether the database is presumed down (skips the 2 s connect timeout per request). */
  db: DbHealth;
}

export interface VerifyAnswer {
  result: VerifyResult;
  reply: Uint8Array;
}

const encoder = new TextEncoder();
const refusal = (code: Exclude<VerifyResult, "valid">): VerifyAnswer => ({
  result: code,
  reply: encoder.encode(JSON.stringify({ valid: false, code } satisfies VerifyReply)),
});
/** Refusals never change: encoded once at load. */
export const REFUSED = {
  MALFORMED: refusal("MALFORMED"),
  KEY_NOT_FOUND: refusal("KEY_NOT_FOUND"),
  KEY_REVOKED: refusal("KEY_REVOKED"),
  KEY_EXPIRED: refusal("KEY_EXPIRED"),
  VERIFY_UNAVAILABLE: refusal("VERIFY_UNAVAILABLE"),
} as const;

/**
 * Decides whether a key is good, from its SHA-256 (lowercase hex, already
 * checked against the contract's pattern). This service never sees the key
 * itself, so it cannot check the key's checksum: the guard does that before it
 * asks, and a hash of anything that is not an issued key is simply not found
 * (KEY_NOT_FOUND, cached for VERIFY_NEGATIVE_TTL_MS). A fresh cache hit
 * answers synchronously (no database read); otherwise one indexed read by
 * hash. While Postgres is down a cached answer keeps being served until
 * VERIFY_STALE_MAX_MS after the database last confirmed it; an uncached key
 * gets VERIFY_UNAVAILABLE.
 */
export function verifyKey(deps: VerifyDeps, { keyHash }: { keyHash: string }): VerifyAnswer | Promise<VerifyAnswer> {
  // The hex is the cache key as is: the hot path is one Map lookup.
  const entry = deps.cache.get(keyHash);
  const now = Date.now();
  if (entry !== undefined && now < entry.freshUntil) {
    if (entry.keyId !== null) deps.lastUsed.note(entry.keyId);
    return entry;
  }
  if (deps.db.isDown(now)) return stale(deps, entry, now);
  return fromDatabase(deps, keyHash, entry);
}

async function fromDatabase(deps: VerifyDeps, keyHash: string, entry: CacheEntry | undefined): Promise<VerifyAnswer> {
  const generation = deps.cache.generation;
  // The stored form: the 32-byte digest the hex spells.
  const digest = Buffer.from(keyHash, "hex");
  let row: HashLookup | undefined;
  try {
    row = await findByHash(deps.sql, digest);
  } catch (err) {
    if (isDbUnavailable(err)) deps.db.markDown();
    else deps.log.error({ ...errFields(err) }, "verify lookup failed");
    return stale(deps, entry, Date.now());
  }
  const now = Date.now();
  const fresh = decide(row, now, deps.config);
  if (fresh.keyId !== null) deps.lastUsed.note(fresh.keyId);
  // A revocation that landed while we read must win over what we read.
  if (deps.cache.generation === generation) deps.cache.set(keyHash, fresh);
  return fresh;
}

/**
 * The answer for what the database holds. A valid answer carries the key's
 * policy for the guard and is cached no longer than the key works (its expiry,
 * or its grace end for a rotated-out key); after that the key is KEY_EXPIRED.
 * A PATCH, revocation or rotation drops the entry at once (keys.cache.*).
 */
export function decide(row: HashLookup | undefined, now: number, config: VerifyDeps["config"]): CacheEntry {
  const { VERIFY_CACHE_TTL_MS, VERIFY_NEGATIVE_TTL_MS } = config;
  if (row === undefined) return { ...REFUSED.KEY_NOT_FOUND, keyId: null, freshUntil: now + VERIFY_NEGATIVE_TTL_MS, confirmedAt: now };
  // A revoked key is refused for good, unless a rotation gave it a grace period; when that ends it is expired.
  const ends = endOf(row);
  if (row.status !== "ACTIVE" && row.grace_until === null) return { ...REFUSED.KEY_REVOKED, keyId: null, freshUntil: now + VERIFY_CACHE_TTL_MS, confirmedAt: now };
  if (ends !== null && ends <= now) return { ...REFUSED.KEY_EXPIRED, keyId: null, freshUntil: now + VERIFY_CACHE_TTL_MS, confirmedAt: now };
  const reply: VerifyReply = {
    valid: true,
    keyId: row.id,
    ownerId: row.owner_id,
    mode: row.mode,
    expiresAt: ends,
    scopes: row.scopes,
    ipAllowlist: row.ip_allowlist,
    rateLimit: row.rate_limit !== null && row.rate_window_s !== null ? { limit: row.rate_limit, windowSeconds: row.rate_window_s } : null,
    quota: row.quota_limit !== null && row.quota_period !== null ? { limit: row.quota_limit, period: row.quota_period } : null,
  };
  const ttlEnd = now + VERIFY_CACHE_TTL_MS;
  return { result: "valid", reply: encoder.encode(JSON.stringify(reply)), keyId: row.id, freshUntil: ends !== null && ends < ttlEnd ? ends : ttlEnd, confirmedAt: now };
}

/** When the key stops working (epoch ms): its expiry, or for a rotated-out key its grace end if sooner; null = never. */
function endOf(row: HashLookup): number | null {
  const expires = row.expires_at?.getTime() ?? null;
  if (row.status === "ACTIVE") return expires;
  const grace = row.grace_until?.getTime() ?? null;
  if (grace === null) return expires;
  return expires !== null && expires < grace ? expires : grace;
}

function stale(deps: VerifyDeps, entry: CacheEntry | undefined, now: number): VerifyAnswer {
  if (entry !== undefined && now - entry.confirmedAt <= deps.config.VERIFY_STALE_MAX_MS) {
    if (entry.keyId !== null) deps.lastUsed.note(entry.keyId);
    return entry;
  }
  return REFUSED.VERIFY_UNAVAILABLE;
}
