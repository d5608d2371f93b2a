/**
 * The verify cache (one bounded lru-cache store): it stays within its bound,
 * evicts the least recently used entry (not the oldest insertion), and keeps
 * its id index and generation right on top.
 */
import { describe, expect, test } from "bun:test";
import { type CacheEntry, hashToCacheKey, VerifyCache } from "./cache";

const verifyEntry = (keyId: string | null): CacheEntry => ({
  result: keyId ? "valid" : "KEY_NOT_FOUND",
  reply: new Uint8Array([1]),
  keyId,
  freshUntil: 1_000,
  confirmedAt: 0,
});

describe("verify cache", () => {
  test("bounded; a key read recently outlives one inserted later but never read", () => {
    const c = new VerifyCache(2);
    c.set("a", verifyEntry("key_a"));
    c.set("b", verifyEntry("key_b"));
    expect(c.get("a")?.keyId).toBe("key_a");
    c.set("c", verifyEntry("key_c"));
    expect(c.size).toBe(2);
    expect(c.get("b")).toBeUndefined();
    expect(c.get("a")?.keyId).toBe("key_a");
  });

  test("an evicted key's id no longer maps to a hash: dropping it by id leaves the others", () => {
    const c = new VerifyCache(1);
    c.set("a", verifyEntry("key_a"));
    c.set("b", verifyEntry("key_b"));
    const before = c.generation;
    c.drop("key_a", null);
    expect(c.generation).toBe(before + 1);
    expect(c.get("b")?.keyId).toBe("key_b");
    c.drop("key_b", null);
    expect(c.size).toBe(0);
  });
});

describe("verify cache invalidation", () => {
  test("re-storing a key under the same hash (a refresh after its TTL) keeps it droppable by id", () => {
    const c = new VerifyCache(10);
    c.set("a", verifyEntry("key_a"));
    c.set("a", verifyEntry("key_a"));
    c.drop("key_a", null);
    expect(c.get("a")).toBeUndefined();
  });

  test("a hash re-stored for another key id no longer answers to the old id", () => {
    const c = new VerifyCache(10);
    c.set("a", verifyEntry("key_old"));
    c.set("a", verifyEntry("key_new"));
    c.drop("key_old", null);
    expect(c.get("a")?.keyId).toBe("key_new");
    c.drop("key_new", null);
    expect(c.size).toBe(0);
  });

  test("drop by hash alone works, and a negative answer (no key id) is dropped by hash", () => {
    const c = new VerifyCache(10);
    c.set("a", verifyEntry("key_a"));
    c.set("n", verifyEntry(null));
    c.drop(null, "a");
    c.drop(null, "n");
    expect(c.size).toBe(0);
  });

  test("every invalidation moves the generation, even one that finds nothing to drop", () => {
    const c = new VerifyCache(10);
    const g = c.generation;
    c.drop("key_unknown", "unknown-hash");
    c.drop(null, null);
    c.clear();
    expect(c.generation).toBe(g + 3);
  });

  test("clear forgets every entry and every id", () => {
    const c = new VerifyCache(10);
    c.set("a", verifyEntry("key_a"));
    c.set("b", verifyEntry("key_b"));
    c.clear();
    expect(c.size).toBe(0);
    c.set("b2", verifyEntry("key_b"));
    c.drop("key_a", null);
    expect(c.get("b2")?.keyId).toBe("key_b");
  });

  test("the cache key of a stored digest is its lowercase hex, as keys.verify carries it", () => {
    const digest = Buffer.from("00ff10ab".repeat(8), "hex");
    expect(hashToCacheKey(digest)).toBe("00ff10ab".repeat(8));
    expect(hashToCacheKey(Buffer.from("ABCDEF", "hex"))).toBe("abcdef");
  });
});
