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
