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
