import { LRUCache } from "lru-cache";
import type { NatsConnection, Subscription } from "nats";
import { check, parseJson, subjects, type Topology } from "@riskinmind/contracts";
import type { GuardLogger } from "./types";

/** What the guard remembers of a key the keys service said is valid. */
export interface CachedKey {
  readonly keyId: string;
  readonly ownerId: string;
}

interface Entry<V> {
  readonly key: V;
  readonly expiresAt: number;
  readonly storedAt: number;
}

export interface VerifyCacheOptions {
  ttlMs: number;
  max: number;
}

/**
 * Valid answers only, keyed by the hex SHA-256 of the key (the plaintext key
 * is never kept). Bounded: when full, the least recently used entry goes
 * (lru-cache, O(1) with a few index writes on the hot read), so keys in
 * steady use stay cached while one-off callers make room.
 *
 * `epoch` moves on every invalidation. A verification that started before an
 * invalidation must not be cached when its reply lands after it: the reply may
 * predate the revocation, and caching it would keep a revoked key alive for a
 * whole TTL instead of refusing it within a second.
 */
export class VerifyCache<V extends CachedKey = CachedKey> {
  private readonly byHash: LRUCache<string, Entry<V>>;
  private readonly hashByKeyId = new Map<string, string>();
  epoch = 0;
  /** Entries stored at or before this instant must be confirmed again before a plain hit. */
  private suspectBefore = -1;
  hits = 0;
  misses = 0;
  evictions = 0;
  invalidations = 0;

  constructor(private readonly opts: VerifyCacheOptions) {
    this.byHash = new LRUCache<string, Entry<V>>({
      max: opts.max,
      // Evicted, replaced or deleted: the id index must not point at a hash that is gone.
      dispose: (e, hash, reason) => {
        if (reason === "evict") this.evictions++;
        if (this.hashByKeyId.get(e.key.keyId) === hash) this.hashByKeyId.delete(e.key.keyId);
      },
    });
  }

  /**
   * The cached key for a hash, or undefined: expired entries are dropped on
   * read; suspect ones (see markSuspect) are kept but count as a miss.
   */
  get(hash: string, now: number): V | undefined {
    const e = this.byHash.get(hash);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    if (e.expiresAt <= now) {
      this.delete(hash);
      this.misses++;
      return undefined;
    }
    if (e.storedAt <= this.suspectBefore) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return e.key;
  }

  /** An unexpired entry even when suspect: the answer of last resort while verification is unreachable. */
  peek(hash: string, now: number): V | undefined {
    const e = this.byHash.get(hash);
    return e !== undefined && e.expiresAt > now ? e.key : undefined;
  }

  /** Stores a valid answer unless an invalidation happened since `epoch` was read. */
  set(hash: string, key: V, now: number, epochAtStart: number): void {
    if (epochAtStart !== this.epoch) return;
    this.byHash.set(hash, { key, expiresAt: now + this.opts.ttlMs, storedAt: now });
    this.hashByKeyId.set(key.keyId, hash);
  }

  /** Drops a key by its hash and/or its id (a revocation event carries both). */
  revoke(hash: string | undefined, keyId: string | undefined): void {
    this.epoch++;
    this.invalidations++;
    if (hash !== undefined) this.delete(hash);
    if (keyId !== undefined) {
      const h = this.hashByKeyId.get(keyId);
      if (h !== undefined) this.delete(h);
    }
  }

  /**
   * After a reconnect revocations may have been missed: every entry must be
   * confirmed by keys.verify before it is trusted again, but while verification
   * is unreachable (the keys service reconnecting too) an unexpired entry is
   * still served rather than refusing a key that was good a moment ago.
   */
  markSuspect(now: number): void {
    this.epoch++;
    this.invalidations++;
    // Strictly after anything stored so far, even within the same millisecond.
    this.suspectBefore = now;
    for (const e of this.byHash.values()) if (e.storedAt > this.suspectBefore) this.suspectBefore = e.storedAt;
  }

  get size(): number {
    return this.byHash.size;
  }

  private delete(hash: string): void {
    this.byHash.delete(hash);
  }
}

/**
 * Keeps a cache honest against the bus: every guard (no queue group, so each
 * one hears every event) drops a revoked key, and after a reconnect every
 * cached key is verified again, because events sent while we were away are
 * gone for good.
 */
export function watchInvalidations<V extends CachedKey>(nc: NatsConnection, topology: Topology, cache: VerifyCache<V>, log?: GuardLogger): { stop(): void } {
  let ignored = 0;
  // A revocation and a policy change (keys.cache.changed) are the same to a
  // cache: the verdict it holds is wrong now, so drop it and ask again.
  const listen = (subject: string, valid: (e: unknown) => e is { keyHash: string; keyId: string }): Subscription =>
    nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        const event = parseJson(msg.data);
        if (!valid(event)) {
          // Counted and logged once: a stream of bad events must not flood the log.
          if (ignored++ === 0) log?.warn({ subject: msg.subject }, "guard: ignoring malformed key event");
          return;
        }
        cache.revoke(event.keyHash.toLowerCase(), event.keyId);
      },
    });
  const s = subjects(topology);
  const subs = [listen(s.keyRevoked, (e) => check.keyRevoked.Check(e)), listen(s.keyChanged, (e) => check.keyChanged.Check(e))];
  const status = nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
  (async () => {
    for await (const s of status) {
      if (s.type === "reconnect") {
        cache.markSuspect(Date.now());
        log?.warn({ nats: s.type }, "guard: NATS reconnected, cached keys will be verified again");
      }
    }
  })().catch(() => {});
  return {
    stop() {
      for (const sub of subs) sub.unsubscribe();
      status.stop?.();
    },
  };
}
