import type { CurrentKey } from "@riskinmind/contracts";
import { LRUCache } from "lru-cache";

/**
 * What `GET /api/v1/keys/` answers per owner: the active key as shown, or
 * null for "no active key". Bounded (least recently used evicted first), each entry fresh
 * for `ttlMs` (0 disables the cache).
 *
 * Invalidation: the replica that changes an owner's key drops the entry
 * after commit and broadcasts keys.events.owner-changed so every replica
 * drops it too; a NATS reconnect clears everything (events may have been
 * missed). `generation` moves on every invalidation, so a database read that
 * started before one never writes its (possibly old) row back.
 *
 * `lastUsedAt` is patched in place when this replica's last-used flusher
 * writes; what other replicas' flushers write shows up within `ttlMs`.
 */
export class CurrentKeyCache {
  private readonly entries: LRUCache<string, { view: CurrentKey | null; freshUntil: number }>;
  generation = 0;
  hits = 0;
  /** Reads of the owner's active key from Postgres (misses, expired entries, cache disabled). */
  dbReads = 0;

  /** Entries held (the bound is what the tests check). */
  get size(): number {
    return this.entries.size;
  }

  constructor(
    max: number,
    private readonly ttlMs: number,
  ) {
    this.entries = new LRUCache({ max });
  }

  /** The cached answer (null: no active key), or undefined when there is none or it expired. */
  get(ownerId: string, now: number): CurrentKey | null | undefined {
    const e = this.entries.get(ownerId);
    if (e === undefined) return undefined;
    if (now >= e.freshUntil) {
      this.entries.delete(ownerId);
      return undefined;
    }
    this.hits++;
    return e.view;
  }

  /** Stores what a read returned, unless an invalidation happened since the read started. */
  set(ownerId: string, view: CurrentKey | null, readGeneration: number, now: number): void {
    if (this.ttlMs === 0 || readGeneration !== this.generation) return;
    this.entries.set(ownerId, { view, freshUntil: now + this.ttlMs });
  }

  /** Forgets one owner's answer (its key was issued, rotated or revoked). */
  drop(ownerId: string): void {
    this.generation++;
    this.entries.delete(ownerId);
  }

  /** Forgets everything: after a NATS reconnect, or when Postgres is found down. */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  /** A last-used flush wrote `lastUsedAt` for this key: show it without a new read. */
  touch(ownerId: string, keyId: string, lastUsedAt: string): void {
    // A read in flight may hold the older value: it must not overwrite this one.
    this.generation++;
    const e = this.entries.get(ownerId);
    if (e === undefined) return;
    if (e.view?.keyId === keyId) e.view = { ...e.view, lastUsedAt };
    // Used, yet not what we hold as the owner's key: our entry may be the stale one.
    else this.entries.delete(ownerId);
  }

  stats(): { size: number; hits: number; dbReads: number; generation: number } {
    return { size: this.entries.size, hits: this.hits, dbReads: this.dbReads, generation: this.generation };
  }
}
