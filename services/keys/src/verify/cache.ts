import type { VerifyFailure } from "@riskinmind/contracts";
import { LRUCache } from "lru-cache";

export type VerifyResult = "valid" | VerifyFailure;

/**
 * The verification cache: answers keyed by the key's SHA-256 as lowercase hex,
 * the very string a keys.verify request carries (so a request needs no
 * conversion before the lookup: turning 64 hex chars into a 32-char latin1
 * string cost about as much as parsing the request), bounded, the least
 * recently used entry evicted first (lru-cache), so keys in steady use stay
 * while one-off lookups make room. Entries carry their reply pre-encoded so a hit costs no
 * JSON work. `generation` changes on every invalidation so a database read
 * that raced a revocation does not write its stale answer back.
 */
export interface CacheEntry {
  /** The outcome, for metrics: "valid" or the refusal code. */
  result: VerifyResult;
  /** The encoded VerifyReply to send as is. */
  reply: Uint8Array;
  /** Set for a valid key (the last-used tracker and invalidation need it). */
  keyId: string | null;
  /** Until when the entry is served without asking the database. */
  freshUntil: number;
  /** When the database last confirmed it: bounds stale serving during an outage. */
  confirmedAt: number;
}

export class VerifyCache {
  private readonly entries: LRUCache<string, CacheEntry>;
  private readonly hashById = new Map<string, string>();
  generation = 0;

  /** Entries held (the bound is what the tests check). */
  get size(): number {
    return this.entries.size;
  }

  constructor(max: number) {
    this.entries = new LRUCache<string, CacheEntry>({
      max,
      // Evicted, replaced or dropped: the id index must not point at a hash that is gone.
      dispose: (entry, hash) => {
        if (entry.keyId && this.hashById.get(entry.keyId) === hash) this.hashById.delete(entry.keyId);
      },
    });
  }

  get(hash: string): CacheEntry | undefined {
    return this.entries.get(hash);
  }

  set(hash: string, entry: CacheEntry): void {
    this.entries.set(hash, entry);
    if (entry.keyId) this.hashById.set(entry.keyId, hash);
  }

  /** Drops a key by id and/or hash (both are known from a revocation). */
  drop(keyId: string | null, hash: string | null): void {
    this.generation++;
    const byId = keyId ? this.hashById.get(keyId) : undefined;
    if (keyId) this.hashById.delete(keyId);
    if (byId) this.entries.delete(byId);
    if (hash) this.entries.delete(hash);
  }

  /** Forgets everything, e.g. after a NATS reconnect when revocations may have been missed. */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.hashById.clear();
  }
}

/** The cache's key for a raw SHA-256 digest (as the database stores it): its lowercase hex, as keys.verify and revocation events carry it. */
export const hashToCacheKey = (digest: Buffer): string => digest.toString("hex");
