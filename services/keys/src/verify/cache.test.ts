/**
 * The verify cache (one bounded lru-cache store): it stays within its bound,
 * evicts the least recently used entry (not the oldest insertion), and keeps
 * its id index and generation right on top.
 */
import { describe, expect, test } from "bun:test";
import { type CacheEntry, VerifyCache } from "./cache";

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
