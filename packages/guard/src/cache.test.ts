/**
 * The guard's verification cache, in memory only (its NATS side, revocation
 * broadcasts and reconnects, is test/guard/cache.test.ts): the counters a
 * service's metrics read, the id index kept right through replacements, and
 * the reconnect rule at its edges.
 */
import { describe, expect, test } from "bun:test";
import { type CachedKey, VerifyCache } from "./cache";

const key = (i: number): CachedKey => ({ keyId: `key_${i}`, ownerId: `owner_${i}` });

describe("guard verify cache", () => {
  test("hits and misses are counted: absent, expired and suspect entries are misses", () => {
    const c = new VerifyCache({ ttlMs: 100, max: 10 });
    c.set("a", key(1), 0, c.epoch);
    c.set("b", key(2), 0, c.epoch);
    c.get("a", 1); // hit
    c.get("zz", 1); // absent
    c.get("a", 100); // expired (and removed)
    c.markSuspect(50);
    c.get("b", 60); // suspect
    expect({ hits: c.hits, misses: c.misses }).toEqual({ hits: 1, misses: 3 });
    expect(c.size).toBe(1);
  });

  test("only evictions count as evictions, not replacements or revocations", () => {
    const c = new VerifyCache({ ttlMs: 1_000, max: 2 });
    c.set("a", key(1), 0, c.epoch);
    c.set("a", key(1), 1, c.epoch);
    c.set("b", key(2), 1, c.epoch);
    c.revoke("b", undefined);
    expect(c.evictions).toBe(0);
    c.set("c", key(3), 2, c.epoch);
    c.set("d", key(4), 2, c.epoch);
    expect(c.evictions).toBe(1);
  });

  test("re-confirming a key under the same hash keeps it revocable by id", () => {
    const c = new VerifyCache({ ttlMs: 1_000, max: 10 });
    c.set("a", key(1), 0, c.epoch);
    c.set("a", key(1), 10, c.epoch);
    c.revoke(undefined, "key_1");
    expect(c.peek("a", 11)).toBeUndefined();
  });

  test("every invalidation moves the epoch and is counted, even one that finds nothing", () => {
    const c = new VerifyCache({ ttlMs: 1_000, max: 10 });
    c.revoke(undefined, undefined);
    c.revoke("nothing", "key_none");
    c.markSuspect(0);
    expect({ epoch: c.epoch, invalidations: c.invalidations }).toEqual({ epoch: 3, invalidations: 3 });
  });

  test("after a reconnect, an entry stored at a later instant than the reconnect's (clock jitter) is suspect too", () => {
    const c = new VerifyCache({ ttlMs: 1_000, max: 10 });
    c.set("a", key(1), 500, c.epoch);
    c.markSuspect(400);
    expect(c.get("a", 501)).toBeUndefined();
    expect(c.peek("a", 501)).toEqual(key(1));
  });

  test("a confirmation after the reconnect is a plain hit again; entries stored before stay suspect", () => {
    const c = new VerifyCache({ ttlMs: 1_000, max: 10 });
    c.set("old", key(1), 100, c.epoch);
    c.markSuspect(200);
    c.set("new", key(2), 201, c.epoch);
    expect(c.get("new", 202)).toEqual(key(2));
    expect(c.get("old", 202)).toBeUndefined();
  });

  test("peek serves an unexpired entry only", () => {
    const c = new VerifyCache({ ttlMs: 100, max: 10 });
    c.set("a", key(1), 0, c.epoch);
    expect(c.peek("a", 99)).toEqual(key(1));
    expect(c.peek("a", 100)).toBeUndefined();
    expect(c.peek("zz", 0)).toBeUndefined();
  });
});
