import type { NatsConnection } from "nats";
import { check, isWellFormedKey, KEY_LENGTH, parseJson, subjects, type Topology, type VerifyRequest } from "@riskinmind/contracts";
import type { VerifyCache } from "./cache";
import { compilePolicy } from "./policy";
import type { GuardLogger, GuardResult } from "./types";

/** A valid verdict as cached, its policy compiled: the cache hands back this very object, so a hit allocates nothing. */
export type CachedVerdict = Extract<GuardResult, { ok: true }>;

/**
 * Hex SHA-256 of the key: the same value as contracts' `hashKey(key).toString("hex")`
 * (a test holds them equal), computed straight to hex, without the Buffer in between, on the hot path.
 */
export function keyHashHex(apiKey: string): string {
  return Bun.CryptoHasher.hash("sha256", apiKey, "hex") as string;
}

type Refusal = Extract<GuardResult, { ok: false }>;

// Built once: the refusals are constants, so refusing costs no allocation.
export const REFUSED = {
  missing: { ok: false, code: "INVALID_API_KEY", reason: "missing", message: "Missing API key: send it as 'Authorization: Bearer sk_...' or in the 'x-api-key' header." },
  malformed: { ok: false, code: "INVALID_API_KEY", reason: "malformed", message: "Invalid API key." },
  unknown: { ok: false, code: "INVALID_API_KEY", reason: "unknown", message: "Invalid API key." },
  revoked: { ok: false, code: "INVALID_API_KEY", reason: "revoked", message: "API key has been revoked." },
  expired: { ok: false, code: "KEY_EXPIRED", reason: "expired", message: "API key has expired." },
  unavailable: { ok: false, code: "VERIFY_UNAVAILABLE", reason: "unavailable", message: "API key verification is unavailable; try again shortly." },
} as const satisfies Record<string, Refusal>;

export interface VerifierStats {
  verifyRequests: number;
  verifyFailures: number;
  coalesced: number;
}

/**
 * Decides whether a key is good: locally when it can (shape, checksum, cache),
 * over `keys.verify` otherwise. Concurrent checks of one uncached key share a
 * single request, so a burst on a cold key costs one round trip.
 */
export function createVerifier(nc: NatsConnection, topology: Topology, cache: VerifyCache<CachedVerdict>, verifyTimeoutMs: number, log?: GuardLogger) {
  const subject = subjects(topology).verify;
  const pending = new Map<string, Promise<GuardResult>>();
  const counters: VerifierStats = { verifyRequests: 0, verifyFailures: 0, coalesced: 0 };
  let badReplies = 0;

  /** Asks keys.verify about a key by its hex SHA-256: the key itself never leaves this process. */
  async function ask(hash: string): Promise<GuardResult> {
    const epoch = cache.epoch;
    counters.verifyRequests++;
    let reply: unknown;
    try {
      const msg = await nc.request(subject, JSON.stringify({ keyHash: hash } satisfies VerifyRequest), { timeout: verifyTimeoutMs });
      reply = parseJson(msg.data);
    } catch {
      // Timeout, no responders, connection closed: we cannot decide, which is not "invalid".
      counters.verifyFailures++;
      return unreachable(hash);
    }
    if (!check.verifyReply.Check(reply)) {
      counters.verifyFailures++;
      if (badReplies++ === 0) log?.warn({ subject }, "guard: keys.verify answered with an unexpected shape");
      return unreachable(hash);
    }
    if (reply.valid) {
      // Compiled once here; every cached check reuses it.
      const policy = compilePolicy(reply, reply.ownerId, hash);
      cache.set(hash, { ok: true, keyId: reply.keyId, ownerId: reply.ownerId, cached: true, policy }, Date.now(), epoch);
      return { ok: true, keyId: reply.keyId, ownerId: reply.ownerId, cached: false, policy };
    }
    if (reply.code === "VERIFY_UNAVAILABLE") return unreachable(hash);
    // A definite refusal: a suspect entry for this key must not be served again.
    cache.revoke(hash, undefined);
    switch (reply.code) {
      case "KEY_REVOKED":
        return REFUSED.revoked;
      case "KEY_EXPIRED":
        return REFUSED.expired;
      case "MALFORMED":
        return REFUSED.malformed;
      default:
        return REFUSED.unknown;
    }
  }

  /** Could not decide: an entry awaiting re-verification (after a reconnect) is still served until it expires. */
  function unreachable(hash: string): GuardResult {
    return cache.peek(hash, Date.now()) ?? REFUSED.unavailable;
  }

  /** The verdict for a presented key (empty string = none presented). */
  function check_(apiKey: string): GuardResult | Promise<GuardResult> {
    if (apiKey === "") return REFUSED.missing;
    if (apiKey.length !== KEY_LENGTH) return REFUSED.malformed;
    // Cache first: only well-formed keys are ever cached, so a hit needs no
    // checksum; a miss gets the full check, which refuses typos and junk
    // without touching NATS. The keys service only ever sees the hash, so this
    // is the one place the checksum is checked.
    const hash = keyHashHex(apiKey);
    const hit = cache.get(hash, Date.now());
    if (hit !== undefined) return hit;
    if (!isWellFormedKey(apiKey)) return REFUSED.malformed;
    const inflight = pending.get(hash);
    if (inflight !== undefined) {
      counters.coalesced++;
      return inflight;
    }
    const p = ask(hash).finally(() => pending.delete(hash));
    pending.set(hash, p);
    return p;
  }

  return { check: check_, counters };
}
