/**
 * The token cache (one bounded lru-cache store): it stays within its bound,
 * evicts the least recently used token first, and a token's exp still ends a hit.
 */
import { describe, expect, test } from "bun:test";
import { TokenCache } from "./token-cache";

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

describe("token cache lifetime", () => {
  test("a hit ends at exp to the millisecond", () => {
    let now = 0;
    const c = new TokenCache({ maxAgeMs: 60_000, now: () => now });
    c.set("t", "o", 30); // exp 30 s
    now = 29_999;
    expect(c.get("t")).toBe("o");
    now = 30_000;
    expect(c.get("t")).toBeUndefined();
  });

  test("a far exp is cut to maxAge after caching", () => {
    let now = 1_000;
    const c = new TokenCache({ maxAgeMs: 60_000, now: () => now });
    c.set("t", "o", 1_000_000);
    now = 60_999;
    expect(c.get("t")).toBe("o");
    now = 61_000;
    expect(c.get("t")).toBeUndefined();
  });

  test("an exp already past, or now, is never stored; a missing exp gets maxAge", () => {
    let now = 50_000;
    const c = new TokenCache({ maxAgeMs: 60_000, now: () => now });
    c.set("past", "o", 49);
    c.set("now", "o", 50);
    c.set("no-exp", "o", undefined);
    expect(c.size).toBe(1);
    expect(c.get("past")).toBeUndefined();
    expect(c.get("now")).toBeUndefined();
    now = 109_999;
    expect(c.get("no-exp")).toBe("o");
  });

  test("hits and misses are counted; an expired entry is a miss and is removed", () => {
    let now = 0;
    const c = new TokenCache({ maxAgeMs: 1_000, now: () => now });
    c.set("t", "o", undefined);
    c.get("t");
    c.get("other");
    now = 1_000;
    c.get("t");
    expect({ hits: c.hits, misses: c.misses, size: c.size }).toEqual({ hits: 1, misses: 2, size: 0 });
  });
});
