/**
 * The guard's verification cache: keyed by the key's SHA-256 (never the key),
 * bounded, expiring, and emptied of a key when a revocation event for it
 * arrives over real NATS, while malformed events change nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { NatsConnection } from "nats";
import { hashKey, subjects, type KeyRevokedEvent } from "@riskinmind/contracts";
import { newApiKey } from "../../services/keys/src/keys/mint";
import { keyHashHex, VerifyCache, type CachedKey } from "@riskinmind/guard";
import { watchInvalidations } from "../../packages/guard/src/cache";
import { connectTestNats, silentLog, testTopology, waitFor } from "@riskinmind/testkit";

/** The guard's connection (its own identity) and the test side's, which plays the keys service's broadcasts. */
let guardNc: NatsConnection;
let nc: NatsConnection;
beforeAll(async () => {
  guardNc = await connectTestNats("guard");
  nc = await connectTestNats();
});
afterAll(async () => {
  await guardNc.close();
  await nc.close();
});

const entry = (i: number): CachedKey => ({ keyId: `key_${i}`, ownerId: `owner_${i}` });

describe("verification cache", () => {
  test("after a reconnect every entry is suspect: a plain hit misses (so it is verified again), yet it stays available as the last resort until it expires", () => {
    const cache = new VerifyCache<CachedKey>({ ttlMs: 1000, max: 10 });
    cache.set("a", entry(1), 100, cache.epoch);
    expect(cache.get("a", 200)).toEqual(entry(1));
    cache.markSuspect(300);
    expect(cache.get("a", 301)).toBeUndefined();
    expect(cache.peek("a", 301)).toEqual(entry(1));
    // A fresh confirmation makes it a plain hit again.
    cache.set("a", entry(1), 302, cache.epoch);
    expect(cache.get("a", 303)).toEqual(entry(1));
    // The last resort ends with the TTL.
    cache.markSuspect(400);
    expect(cache.peek("a", 302 + 1000)).toBeUndefined();
  });

  test("a verification that started before the reconnect is not cached as confirmed", () => {
    const cache = new VerifyCache<CachedKey>({ ttlMs: 1000, max: 10 });
    const epochAtStart = cache.epoch;
    cache.markSuspect(10);
    cache.set("b", entry(2), 11, epochAtStart);
    expect(cache.get("b", 12)).toBeUndefined();
    expect(cache.peek("b", 12)).toBeUndefined();
  });

  test("the cache key is the hex SHA-256 the contracts define (hashKey), not the key", () => {
    const k = newApiKey();
    expect(keyHashHex(k)).toBe(hashKey(k).toString("hex"));
    expect(keyHashHex(k)).not.toContain(k.slice(8, 20));
  });

  test("entries expire after the TTL", () => {
    const c = new VerifyCache({ ttlMs: 1_000, max: 10 });
    c.set("h1", entry(1), 0, c.epoch);
    expect(c.get("h1", 999)).toEqual(entry(1));
    expect(c.get("h1", 1_000)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  test("the cache never holds more than its bound; the least recently used entry goes first", () => {
    const c = new VerifyCache({ ttlMs: 60_000, max: 3 });
    for (let i = 0; i < 3; i++) c.set(`h${i}`, entry(i), 0, c.epoch);
    // h0 is the oldest insertion but was just used: h1 goes instead (FIFO would drop h0).
    expect(c.get("h0", 1)).toEqual(entry(0));
    c.set("h3", entry(3), 1, c.epoch);
    c.set("h4", entry(4), 1, c.epoch);
    expect(c.size).toBe(3);
    expect(c.get("h1", 2)).toBeUndefined();
    expect(c.get("h2", 2)).toBeUndefined();
    expect(c.get("h0", 2)).toEqual(entry(0));
    expect(c.get("h4", 2)).toEqual(entry(4));
    expect(c.evictions).toBe(2);
  });

  test("an evicted entry leaves no id behind: a later revocation by that id touches nothing else", () => {
    const c = new VerifyCache({ ttlMs: 60_000, max: 1 });
    c.set("h1", entry(1), 0, c.epoch);
    c.set("h2", entry(2), 0, c.epoch);
    c.revoke(undefined, "key_1");
    expect(c.get("h2", 1)).toEqual(entry(2));
    // The same key re-stored under a new hash: revoking by id drops the new one.
    c.set("h2b", entry(2), 1, c.epoch);
    c.revoke(undefined, "key_2");
    expect(c.size).toBe(0);
  });

  test("a revocation drops the key by id even when the event's hash does not match", () => {
    const c = new VerifyCache({ ttlMs: 60_000, max: 10 });
    c.set("h1", entry(1), 0, c.epoch);
    c.revoke("other-hash", "key_1");
    expect(c.get("h1", 1)).toBeUndefined();
  });

  test("a verify reply that started before a revocation is not cached (it may predate it)", () => {
    const c = new VerifyCache({ ttlMs: 60_000, max: 10 });
    const epochAtStart = c.epoch;
    c.revoke(undefined, "key_unrelated");
    c.set("h1", entry(1), 0, epochAtStart);
    expect(c.get("h1", 1)).toBeUndefined();
  });

  test("a key-revoked event on NATS drops the cached key; malformed events are ignored", async () => {
    const topo = testTopology();
    const c = new VerifyCache({ ttlMs: 60_000, max: 10 });
    const w = watchInvalidations(guardNc, topo, c, silentLog);
    try {
      await guardNc.flush();
      const k1 = newApiKey();
      const k2 = newApiKey();
      c.set(keyHashHex(k1), entry(1), Date.now(), c.epoch);
      c.set(keyHashHex(k2), entry(2), Date.now(), c.epoch);
      const subject = subjects(topo).keyRevoked;
      nc.publish(subject, "not json");
      nc.publish(subject, JSON.stringify({ keyId: "key_2" })); // missing fields: ignored
      const ev: KeyRevokedEvent = { keyId: "key_1", keyHash: keyHashHex(k1), ownerId: "owner_1", revokedAt: new Date().toISOString() };
      nc.publish(subject, JSON.stringify(ev));
      await waitFor(() => c.get(keyHashHex(k1), Date.now()) === undefined, 5_000, "k1 dropped");
      expect(c.get(keyHashHex(k2), Date.now())).toEqual(entry(2));
      expect(c.invalidations).toBe(1);
    } finally {
      w.stop();
    }
  });
});
