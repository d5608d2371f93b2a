/**
 * The management caches: verified JWTs (token string → owner, until exp) and
 * each owner's current key (invalidated by the replica that changed it and,
 * through keys.cache.owner-changed, by every other replica).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { subjects } from "@riskinmind/contracts";
import { newApiKey } from "../../services/keys/src/keys/mint";
import { authHeader, type KeysInstance, useKeysStack, newOwner, token, waitFor } from "@riskinmind/testkit";

// No change poll: it re-announces recent changes (a new key included) at its own times, and would drop a cache these tests prove.
const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000", REVOCATION_POLL_MS: "0" });
let a: KeysInstance;
let b: KeysInstance;
beforeAll(async () => {
  a = env.a;
  b = await env.start({ RATE_LIMIT_PER_MINUTE: "1000", REVOCATION_POLL_MS: "0" });
});

const get = (inst: KeysInstance, headers: Record<string, string>) => inst.call("GET", "/api/v1/keys/", { headers });
const post = (inst: KeysInstance, verb: string, headers: Record<string, string>) => inst.call("POST", `/api/v1/keys/${verb}`, { headers });

/** A GET answered without a database read: proves the owner's answer is cached on that replica. */
async function getCached(inst: KeysInstance, headers: Record<string, string>) {
  const before = inst.service.current.stats();
  const r = await get(inst, headers);
  const after = inst.service.current.stats();
  expect(after.dbReads).toBe(before.dbReads);
  expect(after.hits).toBe(before.hits + 1);
  return r;
}

/** Flips a character in the middle of the signature (never the last one, whose low bits may be padding). */
function tamper(jwt: string): string {
  const i = jwt.lastIndexOf(".") + 10;
  return jwt.slice(0, i) + (jwt[i] === "A" ? "B" : "A") + jwt.slice(i + 1);
}

describe("JWT verification cache", () => {
  test("a token served from the cache still gets 401 UNAUTHORIZED once its exp has passed", async () => {
    const sub = `exp_${Math.random().toString(36).slice(2, 10)}`;
    const headers = authHeader(await token(sub, { expSeconds: 2 }));
    expect((await get(a, headers)).status).toBe(404); // authenticated (no key yet): verified by jose, now cached
    const hits = a.service.tokens.hits;
    expect((await get(a, headers)).status).toBe(404);
    expect(a.service.tokens.hits).toBe(hits + 1); // the second use was a cache hit
    await waitFor(async () => (await get(a, headers)).status === 401, 10_000, "the cached token to expire");
    const r = await get(a, headers);
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ success: false, error: { code: "UNAUTHORIZED" } });
  });

  test("a token with a tampered or foreign signature is refused even when the genuine token is cached", async () => {
    const sub = `sig_${Math.random().toString(36).slice(2, 10)}`;
    const genuine = await token(sub);
    expect((await get(a, authHeader(genuine))).status).toBe(404);
    expect((await get(a, authHeader(genuine))).status).toBe(404); // cached now
    const forged = await token(sub, { secret: "another-secret-that-is-long-enough-000000" });
    for (const bad of [tamper(genuine), forged, genuine + "x"]) {
      for (let i = 0; i < 2; i++) {
        const r = await get(a, authHeader(bad));
        expect(r.status).toBe(401);
        expect(r.body.error.code).toBe("UNAUTHORIZED");
      }
    }
    expect((await get(a, authHeader(genuine))).status).toBe(404);
  });
});

describe("current-key cache (GET /api/v1/keys/)", () => {
  test("a cached answer costs no database read", async () => {
    const o = await newOwner();
    const k = (await post(a, "generate", o.headers)).body.data;
    const before = a.service.current.stats();
    const first = await get(a, o.headers);
    expect(a.service.current.stats().dbReads).toBe(before.dbReads + 1);
    const second = await getCached(a, o.headers);
    expect(second.body).toEqual(first.body);
    expect(second.body.data.keyId).toBe(k.keyId);
    // "No active key" is cached too.
    const none = await newOwner();
    expect((await get(a, none.headers)).status).toBe(404);
    expect((await getCached(a, none.headers)).status).toBe(404);
  });

  test("generate, regenerate and revoke show at once on the replica that made them and within a second on another that had the old answer cached", async () => {
    const o = await newOwner();
    // Both replicas cache "no active key".
    for (const r of [a, b]) {
      expect((await get(r, o.headers)).status).toBe(404);
      expect((await getCached(r, o.headers)).status).toBe(404);
    }

    const g = (await post(a, "generate", o.headers)).body.data;
    expect((await get(a, o.headers)).body.data.keyId).toBe(g.keyId);
    await waitFor(async () => (await get(b, o.headers)).body?.data?.keyId === g.keyId, 1_000, "replica B showing the generated key");
    for (const r of [a, b]) expect((await getCached(r, o.headers)).body.data.keyId).toBe(g.keyId);

    const rg = (await post(a, "regenerate", o.headers)).body.data;
    expect(rg.keyId).not.toBe(g.keyId);
    expect((await get(a, o.headers)).body.data.keyId).toBe(rg.keyId);
    await waitFor(async () => (await get(b, o.headers)).body?.data?.keyId === rg.keyId, 1_000, "replica B showing the regenerated key");
    for (const r of [a, b]) expect((await getCached(r, o.headers)).body.data.keyId).toBe(rg.keyId);

    // This time through B: A learns it from the broadcast.
    expect((await post(b, "revoke", o.headers)).status).toBe(200);
    expect((await get(b, o.headers)).status).toBe(404);
    await waitFor(async () => (await get(a, o.headers)).status === 404, 1_000, "replica A showing no active key");
    expect((await get(a, o.headers)).body).toMatchObject({ success: false, error: { code: "KEY_NOT_FOUND" } });
  });

  test("every key change is announced on keys.cache.owner-changed with the owner id", async () => {
    const o = await newOwner();
    const seen: unknown[] = [];
    const sub = env.nc.subscribe(subjects(env.topo).ownerKeyChanged, { callback: (_e, m) => seen.push(JSON.parse(new TextDecoder().decode(m.data))) });
    await env.nc.flush();
    try {
      for (const verb of ["generate", "regenerate", "revoke"]) expect((await post(a, verb, o.headers)).status).toBeLessThan(300);
      await waitFor(() => seen.length >= 3, 1_000, "three owner-changed events");
      expect(seen).toEqual([{ ownerId: o.sub }, { ownerId: o.sub }, { ownerId: o.sub }]);
      // A refused change (409: a key is already active) changed nothing and announces nothing:
      // events from one connection arrive in order, so once the revoke's is here, the 409's would be.
      expect((await post(a, "generate", o.headers)).status).toBe(201);
      expect((await post(a, "generate", o.headers)).status).toBe(409);
      expect((await post(a, "revoke", o.headers)).status).toBe(200);
      await waitFor(() => seen.length >= 5, 1_000, "the revoke's event");
      expect(seen).toHaveLength(5);
    } finally {
      sub.unsubscribe();
    }
  });

  test("a malformed owner-changed event is ignored and the cache keeps serving", async () => {
    const o = await newOwner();
    await post(a, "generate", o.headers);
    // The generate's own broadcast reaches this replica too, and may come after a GET filled the cache:
    // settle it first (the server delivers in the order it received, and the generate flushed before answering).
    const settled = a.service.current.stats().generation;
    env.nc.publish(subjects(env.topo).ownerKeyChanged, new TextEncoder().encode(JSON.stringify({ ownerId: "someone_else" })));
    await waitFor(() => a.service.current.stats().generation > settled, 1_000, "the generate's own event");
    await get(a, o.headers);
    for (const junk of ["not json", "{}", '{"ownerId":42}', '{"ownerId":""}']) env.nc.publish(subjects(env.topo).ownerKeyChanged, new TextEncoder().encode(junk));
    await env.nc.flush();
    // A well-formed event for another owner after the junk: once it has been handled, so has the junk.
    const gen = a.service.current.stats().generation;
    env.nc.publish(subjects(env.topo).ownerKeyChanged, new TextEncoder().encode(JSON.stringify({ ownerId: "someone_else" })));
    await waitFor(() => a.service.current.stats().generation > gen, 1_000, "the event to arrive");
    expect((await getCached(a, o.headers)).status).toBe(200);
  });

  test("with CURRENT_KEY_CACHE_TTL_MS=0 every GET reads Postgres", async () => {
    const c = await env.start({ CURRENT_KEY_CACHE_TTL_MS: "0", REVOCATION_POLL_MS: "0" });
    const o = await newOwner();
    await post(c, "generate", o.headers);
    const before = c.service.current.stats().dbReads;
    for (let i = 0; i < 3; i++) expect((await get(c, o.headers)).status).toBe(200);
    expect(c.service.current.stats().dbReads).toBe(before + 3);
    expect(c.service.current.stats().size).toBe(0);
    await c.close();
  });

  test("once Postgres is found unreachable, GET answers 503 DATABASE_UNAVAILABLE instead of a cached answer", async () => {
    const c = await env.start({ REVOCATION_POLL_MS: "0" });
    const o = await newOwner();
    await post(c, "generate", o.headers);
    await get(c, o.headers);
    expect((await getCached(c, o.headers)).status).toBe(200);
    await c.sql.end({ timeout: 1 }); // this replica's database is now unreachable
    // Any path meeting the outage marks it: here a verification that must read Postgres.
    await a.service.stop();
    await b.service.stop();
    try {
      expect(await env.verify(newApiKey())).toEqual({ valid: false, code: "VERIFY_UNAVAILABLE" });
      const r = await get(c, o.headers);
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ success: false, error: { code: "DATABASE_UNAVAILABLE" } });
    } finally {
      await c.close();
      await a.service.start();
      await b.service.start();
    }
  });
});

describe("verification cache key", () => {
  test("the cache key of a keys.verify request (the hex hash the guard sends) is the one revocation derives from the stored SHA-256", async () => {
    const { check, hashKey } = await import("@riskinmind/contracts");
    const { keyHashHex } = await import("@riskinmind/guard");
    const { hashToCacheKey } = await import("../../services/keys/src/verify/cache");
    for (let i = 0; i < 100; i++) {
      const k = newApiKey();
      expect(hashToCacheKey(hashKey(k))).toBe(keyHashHex(k));
      expect(check.verifyRequest.Check({ keyHash: keyHashHex(k) })).toBe(true);
    }
    expect(keyHashHex(newApiKey())).not.toBe(keyHashHex(newApiKey()));
  });
});
