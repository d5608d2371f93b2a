/**
 * The current-key cache (one bounded lru-cache store): it stays within its
 * bound, evicts the least recently used owner first, and never stores a read
 * that started before an invalidation.
 */
import { describe, expect, test } from "bun:test";
import type { CurrentKey } from "@riskinmind/contracts";
import { CurrentKeyCache } from "./current-cache";

const view = (keyId: string): CurrentKey => ({
  keyId,
  keySnippet: "sk_live_...abcd",
  status: "ACTIVE",
  createdAt: "2026-01-01T00:00:00.000Z",
  label: null,
  lastUsedAt: null,
  mode: "live",
  expiresAt: null,
  scopes: ["*"],
  ipAllowlist: [],
  rateLimit: null,
  quota: null,
  previousKey: null,
});

describe("current-key cache", () => {
  test("bounded, least recently used out first; a read older than an invalidation is not stored", () => {
    const c = new CurrentKeyCache(2, 30_000);
    c.set({ ownerId: "o1", mode: "live" }, view("key_1"), c.generation, 0);
    c.set({ ownerId: "o2", mode: "live" }, null, c.generation, 0);
    expect(c.get({ ownerId: "o1", mode: "live" }, 1)?.keyId).toBe("key_1");
    c.set({ ownerId: "o3", mode: "live" }, view("key_3"), c.generation, 1);
    expect(c.size).toBe(2);
    expect(c.get({ ownerId: "o2", mode: "live" }, 2)).toBeUndefined();
    expect(c.get({ ownerId: "o1", mode: "live" }, 2)?.keyId).toBe("key_1");
    const gen = c.generation;
    c.drop("o3");
    c.set({ ownerId: "o3", mode: "live" }, view("key_3"), gen, 3);
    expect(c.get({ ownerId: "o3", mode: "live" }, 4)).toBeUndefined();
    c.touch("o1", "key_1", "2026-01-02T00:00:00.000Z");
    expect(c.get({ ownerId: "o1", mode: "live" }, 5)?.lastUsedAt).toBe("2026-01-02T00:00:00.000Z");
  });
});

describe("current-key cache freshness and invalidation", () => {
  test("an answer is fresh for ttl to the millisecond, then gone", () => {
    const c = new CurrentKeyCache(10, 30_000);
    c.set({ ownerId: "o", mode: "live" }, view("key_1"), c.generation, 1_000);
    expect(c.get({ ownerId: "o", mode: "live" }, 30_999)?.keyId).toBe("key_1");
    expect(c.get({ ownerId: "o", mode: "live" }, 31_000)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  test("'no active key' is cached as null, distinct from 'not cached'", () => {
    const c = new CurrentKeyCache(10, 30_000);
    c.set({ ownerId: "o", mode: "live" }, null, c.generation, 0);
    expect(c.get({ ownerId: "o", mode: "live" }, 1)).toBeNull();
    expect(c.get({ ownerId: "other", mode: "live" }, 1)).toBeUndefined();
  });

  test("a ttl of 0 disables the cache", () => {
    const c = new CurrentKeyCache(10, 0);
    c.set({ ownerId: "o", mode: "live" }, view("key_1"), c.generation, 0);
    expect(c.size).toBe(0);
    expect(c.get({ ownerId: "o", mode: "live" }, 0)).toBeUndefined();
  });

  test("clear forgets every owner and refuses reads that started before it", () => {
    const c = new CurrentKeyCache(10, 30_000);
    c.set({ ownerId: "o1", mode: "live" }, view("key_1"), c.generation, 0);
    const before = c.generation;
    c.clear();
    expect(c.size).toBe(0);
    c.set({ ownerId: "o1", mode: "live" }, view("key_1"), before, 1);
    expect(c.get({ ownerId: "o1", mode: "live" }, 2)).toBeUndefined();
  });

  test("a last-used write for another key than the cached one drops the owner's entry (ours may be stale)", () => {
    const c = new CurrentKeyCache(10, 30_000);
    c.set({ ownerId: "o", mode: "live" }, view("key_old"), c.generation, 0);
    c.touch("o", "key_new", "2026-01-02T00:00:00.000Z");
    expect(c.get({ ownerId: "o", mode: "live" }, 1)).toBeUndefined();
  });

  test("a last-used write moves the generation, so a read in flight cannot put the older value back", () => {
    const c = new CurrentKeyCache(10, 30_000);
    c.set({ ownerId: "o", mode: "live" }, view("key_1"), c.generation, 0);
    const readStarted = c.generation;
    c.touch("o", "key_1", "2026-01-02T00:00:00.000Z");
    c.set({ ownerId: "o", mode: "live" }, view("key_1"), readStarted, 1); // the in-flight read, lastUsedAt still null
    expect(c.get({ ownerId: "o", mode: "live" }, 2)?.lastUsedAt).toBe("2026-01-02T00:00:00.000Z");
  });

  test("stats count hits (not misses) and report size and generation", () => {
    const c = new CurrentKeyCache(10, 30_000);
    c.set({ ownerId: "o", mode: "live" }, view("key_1"), c.generation, 0);
    c.get({ ownerId: "o", mode: "live" }, 1);
    c.get({ ownerId: "o", mode: "live" }, 2);
    c.get({ ownerId: "missing", mode: "live" }, 3);
    c.drop("x");
    expect(c.stats()).toEqual({ size: 1, hits: 2, dbReads: 0, generation: 1 });
  });
});
