import { describe, expect, test } from "bun:test";
import { hashKey, subjects } from "@riskinmind/contracts";
import { newApiKey } from "../../services/keys/src/keys/mint";
import { type KeysInstance, useKeysStack, newOwner, waitFor, issueKey } from "@riskinmind/testkit";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000" });

async function issue(inst: KeysInstance = env.a) {
  const o = await newOwner();
  const k = await issueKey(inst, o);
  return { ...o, ...k };
}

/** Flips one character of the random part, keeping the alphabet, so the checksum no longer matches. */
function mistype(key: string): string {
  const i = 20;
  return key.slice(0, i) + (key[i] === "a" ? "b" : "a") + key.slice(i + 1);
}

describe("keys.verify over NATS", () => {
  test("a valid key → {valid:true, keyId, ownerId}", async () => {
    const k = await issue();
    expect(await env.verify(k.apiKey)).toMatchObject({ valid: true, keyId: k.keyId, ownerId: k.sub });
    // And again from the cache, same answer.
    expect(await env.verify(k.apiKey)).toMatchObject({ valid: true, keyId: k.keyId, ownerId: k.sub });
  });

  test("a well-formed key that was never issued → KEY_NOT_FOUND", async () => {
    expect(await env.verify(newApiKey())).toEqual({ valid: false, code: "KEY_NOT_FOUND" });
  });

  test("the hash of anything that is not an issued key (a mistyped key, junk) → KEY_NOT_FOUND: the checksum is the guard's check, this service never sees the key", async () => {
    const k = await issue();
    expect(await env.verify(mistype(k.apiKey))).toEqual({ valid: false, code: "KEY_NOT_FOUND" });
    expect(await env.verify("sk_live_short")).toEqual({ valid: false, code: "KEY_NOT_FOUND" });
    expect(await env.verify(k.apiKey + "x")).toEqual({ valid: false, code: "KEY_NOT_FOUND" });
    // The issued key itself, by the same route: only the exact hash opens.
    expect(await env.verify(k.apiKey)).toMatchObject({ valid: true, keyId: k.keyId, ownerId: k.sub });
  });

  test("malformed requests always get a MALFORMED reply: not JSON, wrong shape, wrong type, not a lowercase 64-hex hash, extra fields, the plaintext key", async () => {
    const k = await issue();
    const hex = hashKey(k.apiKey).toString("hex");
    const raw = [
      "not json",
      "",
      "[]",
      "null",
      "42",
      '{"key":"x"}',
      '{"keyHash":42}',
      '{"keyHash":null}',
      JSON.stringify({ keyHash: [hex] }),
      JSON.stringify({ keyHash: hex.toUpperCase() }),
      JSON.stringify({ keyHash: hex.slice(1) }),
      JSON.stringify({ keyHash: hex + "0" }),
      JSON.stringify({ keyHash: hex.slice(0, -1) + "g" }),
      JSON.stringify({ keyHash: hashKey(k.apiKey).toString("base64") }),
      JSON.stringify({ keyHash: "x".repeat(100_000) }),
      // The old request shape, and the key sent alongside its hash: both refused, so such a caller fails loudly.
      JSON.stringify({ apiKey: k.apiKey }),
      JSON.stringify({ keyHash: hex, apiKey: k.apiKey }),
      JSON.stringify([{ keyHash: hex }]),
      JSON.stringify({ keyHash: hex }) + "x",
      "\u0000\u0001",
    ];
    for (const r of raw) expect({ r, reply: await env.verify(undefined, r) }).toEqual({ r, reply: { valid: false, code: "MALFORMED" } });
    expect(await env.verify(undefined, new Uint8Array([0xff, 0xfe, 0x00]))).toEqual({ valid: false, code: "MALFORMED" });
    // The well-formed request for that very hash is answered: what was refused above was the shape.
    expect(await env.verify(undefined, JSON.stringify({ keyHash: hex }))).toMatchObject({ valid: true, keyId: k.keyId, ownerId: k.sub });
  });

  test("a revoked key is refused as soon as revoke has returned, even if it was cached", async () => {
    const k = await issue();
    expect((await env.verify(k.apiKey)).valid).toBe(true); // now cached
    expect((await env.a.call("POST", "/api/v1/keys/revoke", { headers: k.headers })).status).toBe(200);
    expect(await env.verify(k.apiKey)).toEqual({ valid: false, code: "KEY_REVOKED" });
  });

  test("a key replaced by regenerate is refused as soon as regenerate has returned, even if it was cached", async () => {
    const k = await issue();
    expect((await env.verify(k.apiKey)).valid).toBe(true);
    expect((await env.a.call("POST", "/api/v1/keys/regenerate", { headers: k.headers })).status).toBe(200);
    expect(await env.verify(k.apiKey)).toEqual({ valid: false, code: "KEY_REVOKED" });
  });

  test("the revocation is announced on keys.cache.revoked with id, hex hash and owner", async () => {
    const k = await issue();
    const sub = env.nc.subscribe(subjects(env.topo).keyRevoked, { max: 1 });
    await env.nc.flush();
    const got = (async () => {
      for await (const m of sub) return JSON.parse(new TextDecoder().decode(m.data));
    })();
    await env.a.call("POST", "/api/v1/keys/revoke", { headers: k.headers });
    const ev = await got;
    expect(ev).toMatchObject({ keyId: k.keyId, ownerId: k.sub, keyHash: new Bun.CryptoHasher("sha256").update(k.apiKey).digest("hex") });
    expect(Number.isNaN(Date.parse(ev.revokedAt))).toBe(false);
  });

  test("two replicas sharing a topology: a key revoked through one is refused by the other within a second", async () => {
    const b = await env.start();
    const k = await issue(env.a);
    // Only B answers keys.verify while A's responders are stopped: B caches the key as valid (60 s TTL).
    await env.a.service.stop();
    expect(await env.verify(k.apiKey)).toMatchObject({ valid: true, keyId: k.keyId, ownerId: k.sub });
    await env.a.service.start();
    expect((await env.a.call("POST", "/api/v1/keys/revoke", { headers: k.headers })).status).toBe(200);
    await env.a.service.stop(); // B alone again: only the broadcast event can make it refuse now
    try {
      await waitFor(async () => (await env.verify(k.apiKey)).valid === false, 1_000, "replica B refusing the revoked key");
      expect(await env.verify(k.apiKey)).toEqual({ valid: false, code: "KEY_REVOKED" });
    } finally {
      await b.close();
      await env.a.service.start();
    }
  });
});

describe("verification while Postgres is down", () => {
  test("a cached key keeps working within VERIFY_STALE_MAX_MS; an uncached key gets VERIFY_UNAVAILABLE", async () => {
    // TTL 0: every verify would ask Postgres, so only the stale rule can answer once it is gone.
    const c = await env.start({ VERIFY_CACHE_TTL_MS: "0", VERIFY_STALE_MAX_MS: "600000" });
    const k = await issue(c);
    await env.a.service.stop();
    try {
      expect((await env.verify(k.apiKey)).valid).toBe(true);
      await c.sql.end({ timeout: 1 }); // this replica's database is now unreachable
      expect(await env.verify(k.apiKey)).toMatchObject({ valid: true, keyId: k.keyId, ownerId: k.sub });
      expect(await env.verify(newApiKey())).toEqual({ valid: false, code: "VERIFY_UNAVAILABLE" });
    } finally {
      await c.service.stop();
      await env.a.service.start();
    }
  });

  test("past VERIFY_STALE_MAX_MS a cached key is no longer vouched for", async () => {
    const c = await env.start({ VERIFY_CACHE_TTL_MS: "0", VERIFY_STALE_MAX_MS: "0" });
    const k = await issue(c);
    await env.a.service.stop();
    try {
      expect((await env.verify(k.apiKey)).valid).toBe(true);
      await c.sql.end({ timeout: 1 });
      await Bun.sleep(5); // let the 0 ms stale window pass
      expect(await env.verify(k.apiKey)).toEqual({ valid: false, code: "VERIFY_UNAVAILABLE" });
    } finally {
      await c.service.stop();
      await env.a.service.start();
    }
  });
});
