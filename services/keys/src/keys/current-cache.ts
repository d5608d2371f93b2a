import { KEY_MODES, type CurrentKey, type KeyMode } from "@riskinmind/contracts";
import { LRUCache } from "lru-cache";

/** One entry per key slot: an owner's live key and test key are cached apart. */
type Slot = { ownerId: string; mode: KeyMode };
const slotKey = (ownerId: string, mode: KeyMode): string => `${mode}:${ownerId}`;

/**
 * What `GET /api/v1/keys/` answers per owner and mode: the active key as shown, or
 * null for "no active key". Bounded (least recently used evicted first), each entry fresh
 * for `ttlMs` (0 disables the cache).
 *
 * Invalidation: the replica that changes an owner's key drops the entry
 * after commit and broadcasts keys.cache.owner-changed so every replica
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
  get({ ownerId, mode }: Slot, now: number): CurrentKey | null | undefined {
    const k = slotKey(ownerId, mode);
    const e = this.entries.get(k);
    if (e === undefined) return undefined;
    if (now >= e.freshUntil) {
      this.entries.delete(k);
      return undefined;
    }
    this.hits++;
    return e.view;
  }

  /** Stores what a read returned, unless an invalidation happened since the read started; `maxFreshMs` shortens the ttl for this entry. */
  set({ ownerId, mode }: Slot, view: CurrentKey | null, readGeneration: number, now: number, maxFreshMs?: number): void {
    if (this.ttlMs === 0 || readGeneration !== this.generation) return;
    const ms = maxFreshMs === undefined ? this.ttlMs : Math.min(this.ttlMs, maxFreshMs);
    if (ms <= 0) return;
    this.entries.set(slotKey(ownerId, mode), { view, freshUntil: now + ms });
  }

  /** Forgets one owner's answers, both modes (its key was issued, rotated, revoked or changed). */
  drop(ownerId: string): void {
    this.generation++;
    for (const mode of KEY_MODES) this.entries.delete(slotKey(ownerId, mode));
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
    const held = KEY_MODES.map((mode) => [slotKey(ownerId, mode), this.entries.get(slotKey(ownerId, mode))] as const);
    const mine = held.find(([, e]) => e?.view?.keyId === keyId);
    if (mine) {
      const e = mine[1]!;
      e.view = { ...e.view!, lastUsedAt };
      return;
    }
    // Used, yet not what we hold as either of the owner's keys: our entries may be the stale ones.
    for (const [k, e] of held) if (e !== undefined) this.entries.delete(k);
  }

  stats(): { size: number; hits: number; dbReads: number; generation: number } {
    return { size: this.entries.size, hits: this.hits, dbReads: this.dbReads, generation: this.generation };
  }
}
