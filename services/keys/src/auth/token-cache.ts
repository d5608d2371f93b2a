import { LRUCache } from "lru-cache";

/**
 * Verified JWTs, so a token seen again skips the signature check (jose runs it
 * through async WebCrypto, the largest cost of a management read).
 *
 * Why this is safe: an entry is only written after jose accepted the token
 * (signature against the secret or the JWKS, exp present and not past, nbf,
 * iss/aud when configured) and our own checks passed (lifetime within
 * JWT_MAX_TTL_SECONDS, `sub` storable text), and it is keyed by the whole
 * token string, signature included, so a token with any byte changed (a
 * forged or re-signed one) is a different key and a miss. Every one of those
 * checks gives the same answer for the same token later, except exp, which is
 * re-checked on every hit (an entry never outlives min(exp, now + 60 s)); a
 * refused token is never written, so it stays refused. Tokens cannot be
 * revoked one by one in this design anyway, so caching the verdict loses
 * nothing that was there. The token is a cache key only: never logged, never a
 * metric label.
 */
export interface TokenCacheOptions {
  /** Entries kept at most; the least recently used is evicted first. */
  max?: number;
  /** How long a verdict is reused at most, whatever exp says. */
  maxAgeMs?: number;
  now?: () => number;
}

interface Entry {
  sub: string;
  /** Date.now() before which the verdict holds: min(exp, cachedAt + maxAge). */
  until: number;
}

export class TokenCache {
  private readonly entries: LRUCache<string, Entry>;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  hits = 0;
  misses = 0;

  /** Entries held (the bound is what the tests check). */
  get size(): number {
    return this.entries.size;
  }

  constructor(opts: TokenCacheOptions = {}) {
    this.entries = new LRUCache<string, Entry>({ max: opts.max ?? 10_000 });
    this.maxAgeMs = opts.maxAgeMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** The owner of an already verified, still unexpired token, or undefined. */
  get(token: string): string | undefined {
    const e = this.entries.get(token);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    if (this.now() >= e.until) {
      // Expired (or aged out): the caller verifies afresh, and jose refuses a past exp.
      this.entries.delete(token);
      this.misses++;
      return undefined;
    }
    this.hits++;
    return e.sub;
  }

  /** Remembers a token that jose has just accepted; `exp` in epoch seconds as in the claim. */
  set(token: string, sub: string, exp: unknown): void {
    const now = this.now();
    let until = now + this.maxAgeMs;
    if (typeof exp === "number") until = Math.min(until, exp * 1000);
    if (!(until > now)) return;
    this.entries.set(token, { sub, until });
  }
}
