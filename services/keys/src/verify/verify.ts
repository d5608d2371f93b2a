import { hashKey, isWellFormedKey, KEY_LENGTH, type VerifyReply } from "@riskinmind/contracts";
import { isDbUnavailable, type Logger, type Sql } from "@riskinmind/runtime";
import { markDbDown, type DbHealth } from "../db-health";
import { findByHash } from "../keys/repo";
import { keyToCacheKey, type CacheEntry, type VerifyCache, type VerifyResult } from "./cache";

export interface VerifyDeps {
  sql: Sql;
  cache: VerifyCache;
  log: Logger;
  /** Key ids seen valid since the last last_used_at flush. */
  seen: Set<string>;
  config: { VERIFY_CACHE_TTL_MS: number; VERIFY_NEGATIVE_TTL_MS: number; VERIFY_STALE_MAX_MS: number };
  /** Until when the database is presumed down (skips the 2 s connect timeout per request). */
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
  VERIFY_UNAVAILABLE: refusal("VERIFY_UNAVAILABLE"),
} as const;

/**
 * Decides whether a key is good. A fresh cache hit answers synchronously (no
 * database read); otherwise one indexed read by hash. While Postgres is down
 * a cached answer keeps being served until VERIFY_STALE_MAX_MS after the
 * database last confirmed it; an uncached key gets VERIFY_UNAVAILABLE.
 */
export function verifyKey(deps: VerifyDeps, apiKey: string): VerifyAnswer | Promise<VerifyAnswer> {
  // The length check bounds the hashing below; it is the checksum's first step anyway.
  if (apiKey.length !== KEY_LENGTH) return REFUSED.MALFORMED;
  // Cache first: every cached key passed the checksum when it was cached, so a
  // hit (the hot path) skips it. A different string cannot share its SHA-256.
  const ck = keyToCacheKey(apiKey);
  const entry = deps.cache.get(ck);
  const now = Date.now();
  if (entry !== undefined && now < entry.freshUntil) {
    if (entry.keyId !== null) deps.seen.add(entry.keyId);
    return entry;
  }
  // The checksum refuses typos and junk without touching the database.
  if (entry === undefined && !isWellFormedKey(apiKey)) return REFUSED.MALFORMED;
  if (now < deps.db.downUntil) return stale(deps, entry, now);
  return fromDatabase(deps, apiKey, ck, entry);
}

async function fromDatabase(deps: VerifyDeps, apiKey: string, ck: string, entry: CacheEntry | undefined): Promise<VerifyAnswer> {
  const generation = deps.cache.generation;
  // The stored form, from the contract's one definition (a second hash on a miss is noise next to the read).
  const digest = hashKey(apiKey);
  let row;
  try {
    row = await findByHash(deps.sql, digest);
  } catch (err) {
    if (isDbUnavailable(err)) markDbDown(deps.db);
    else deps.log.error({ err: { message: (err as Error).message } }, "verify lookup failed");
    return stale(deps, entry, Date.now());
  }
  const now = Date.now();
  const { VERIFY_CACHE_TTL_MS, VERIFY_NEGATIVE_TTL_MS } = deps.config;
  let fresh: CacheEntry;
  if (row === undefined) {
    fresh = { ...REFUSED.KEY_NOT_FOUND, keyId: null, freshUntil: now + VERIFY_NEGATIVE_TTL_MS, confirmedAt: now };
  } else if (row.status !== "ACTIVE") {
    // Revocation is final, so a refusal may be kept as long as a valid answer.
    fresh = { ...REFUSED.KEY_REVOKED, keyId: null, freshUntil: now + VERIFY_CACHE_TTL_MS, confirmedAt: now };
  } else {
    const reply = encoder.encode(JSON.stringify({ valid: true, keyId: row.id, ownerId: row.owner_id } satisfies VerifyReply));
    fresh = { result: "valid", reply, keyId: row.id, freshUntil: now + VERIFY_CACHE_TTL_MS, confirmedAt: now };
    deps.seen.add(row.id);
  }
  // A revocation that landed while we read must win over what we read.
  if (deps.cache.generation === generation) deps.cache.set(ck, fresh);
  return fresh;
}

function stale(deps: VerifyDeps, entry: CacheEntry | undefined, now: number): VerifyAnswer {
  if (entry !== undefined && now - entry.confirmedAt <= deps.config.VERIFY_STALE_MAX_MS) {
    if (entry.keyId !== null) deps.seen.add(entry.keyId);
    return entry;
  }
  return REFUSED.VERIFY_UNAVAILABLE;
}
