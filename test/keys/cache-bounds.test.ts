/**
 * The keys service's in-memory caches share one bounded store (lru-cache):
 * each stays within its bound, evicts the least recently used entry (not the
 * oldest insertion), and keeps its own invalidation rules on top.
 */
import { describe, expect, test } from "bun:test";
import type { CurrentKey } from "@riskinmind/contracts";
import { TokenCache } from "../../services/keys/src/auth/token-cache";
import { CurrentKeyCache } from "../../services/keys/src/keys/current-cache";
import { VerifyCache, type CacheEntry } from "../../services/keys/src/verify/cache";

const verifyEntry = (keyId: string | null): CacheEntry => ({
  result: keyId ? "valid" : "KEY_NOT_FOUND",
  reply: new Uint8Array([1]),
  keyId,
  freshUntil: 1_000,
  confirmedAt: 0,
});

const view = (keyId: string): CurrentKey => ({
  keyId,
  keySnippet: "sk_live_...abcd",
  status: "ACTIVE",
  createdAt: "2026-01-01T00:00:00.000Z",
  label: null,
  lastUsedAt: null,
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

describe("token cache", () => {
  test("bounded, least recently used out first, and exp still ends a hit", () => {
    let now = 0;
    const c = new TokenCache({ max: 2, maxAgeMs: 60_000, now: () => now });
    c.set("t1", "o1", 10);
    c.set("t2", "o2", 100);
    expect(c.get("t1")).toBe("o1");
    c.set("t3", "o3", 100);
    expect(c.size).toBe(2);
    expect(c.get("t2")).toBeUndefined();
    now = 10_000; // t1's exp (10 s)
    expect(c.get("t1")).toBeUndefined();
    expect(c.get("t3")).toBe("o3");
  });
});

describe("current-key cache", () => {
  test("bounded, least recently used out first; a read older than an invalidation is not stored", () => {
    const c = new CurrentKeyCache(2, 30_000);
    c.set("o1", view("key_1"), c.generation, 0);
    c.set("o2", null, c.generation, 0);
    expect(c.get("o1", 1)?.keyId).toBe("key_1");
    c.set("o3", view("key_3"), c.generation, 1);
    expect(c.size).toBe(2);
    expect(c.get("o2", 2)).toBeUndefined();
    expect(c.get("o1", 2)?.keyId).toBe("key_1");
    const gen = c.generation;
    c.drop("o3");
    c.set("o3", view("key_3"), gen, 3);
    expect(c.get("o3", 4)).toBeUndefined();
    c.touch("o1", "key_1", "2026-01-02T00:00:00.000Z");
    expect(c.get("o1", 5)?.lastUsedAt).toBe("2026-01-02T00:00:00.000Z");
  });
});
