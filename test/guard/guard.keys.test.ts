/**
 * The guard against the real keys service (in-process, own database, same
 * topology): a key issued over HTTP opens the example route, gives the route
 * its keyId/ownerId, is cached (no second NATS request), is metered with the
 * right fields, and once revoked over HTTP is refused within one second.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { goodLoan, issueKey, newOwner, readUsageEvents, req, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

let stack: TrioStack;

beforeAll(async () => {
  // The usage service would create the stream; here the test reads what the guard publishes.
  stack = await trioStack({ usageStream: true });
});

afterAll(async () => {
  await stack.close();
});

const predict = (headers: Record<string, string>, json: unknown = goodLoan) => req(`${stack.loansUrl}/api/v1/loans/predict`, { method: "POST", headers, json });

describe("guard with the real keys service", () => {
  test("a key issued by the keys service opens the route, which sees its keyId and ownerId", async () => {
    const owner = await newOwner();
    const key = await issueKey(stack.keys, owner);
    const r = await predict({ authorization: `Bearer ${key.apiKey}` });
    expect(r.status).toBe(200);
    expect(r.body.success).toBe(true);
    expect(r.body.data.keyId).toBe(key.keyId);
    expect(r.body.data.riskScore).toBeGreaterThanOrEqual(0);
    expect(r.body.data.riskScore).toBeLessThanOrEqual(1);
    expect(["APPROVE", "REVIEW", "DECLINE"]).toContain(r.body.data.decision);
    const direct = await stack.loans.guard.check(key.apiKey);
    expect(direct).toMatchObject({ ok: true, keyId: key.keyId, ownerId: owner.sub });
  });

  test("a second call with the same key is answered from the cache, with no NATS request", async () => {
    const key = await issueKey(stack.keys, await newOwner());
    expect((await predict({ "x-api-key": key.apiKey })).status).toBe(200);
    const before = stack.loans.guard.stats();
    const r = await predict({ "x-api-key": key.apiKey });
    expect(r.status).toBe(200);
    const after = stack.loans.guard.stats();
    expect(after.verify.verifyRequests).toBe(before.verify.verifyRequests);
    expect(after.cache.hits).toBe(before.cache.hits + 1);
    expect(await stack.loans.guard.check(key.apiKey)).toMatchObject({ ok: true, cached: true });
  });

  test("each protected call is recorded as a usage event with endpoint, method, status, timestamp and duration", async () => {
    const owner = await newOwner();
    const key = await issueKey(stack.keys, owner);
    const t0 = Date.now();
    expect((await predict({ "x-api-key": key.apiKey })).status).toBe(200);
    // A valid key with a bad body is still a metered call (400).
    expect((await predict({ "x-api-key": key.apiKey }, { ...goodLoan, creditScore: 10 })).status).toBe(400);
    const t1 = Date.now();
    let mine: Record<string, unknown>[] = [];
    await waitFor(
      async () => {
        mine = (await readUsageEvents(stack.nc, stack.topo.stream)).events.filter((e) => e.keyId === key.keyId);
        return mine.length === 2;
      },
      10_000,
      "two usage events",
    );
    for (const e of mine) {
      expect(e.ownerId).toBe(owner.sub);
      expect(e.endpoint).toBe("/api/v1/loans/predict");
      expect(e.method).toBe("POST");
      expect(typeof e.id).toBe("string");
      const ts = Date.parse(e.timestamp as string);
      expect(e.timestamp as string).toEndWith("Z");
      expect(ts).toBeGreaterThanOrEqual(t0 - 1);
      expect(ts).toBeLessThanOrEqual(t1 + 1);
      expect(e.durationMs as number).toBeGreaterThanOrEqual(0);
    }
    expect(mine.map((e) => e.statusCode)).toEqual([200, 400]);
    expect(new Set(mine.map((e) => e.id)).size).toBe(2);
  });

  test("a key revoked over HTTP is refused by the guard within one second, even though it was cached", async () => {
    const owner = await newOwner();
    const key = await issueKey(stack.keys, owner);
    expect((await predict({ "x-api-key": key.apiKey })).status).toBe(200);
    expect((await stack.loans.guard.check(key.apiKey)).ok).toBe(true); // now cached
    const rev = await req(`${stack.keysUrl}/api/v1/keys/revoke`, { method: "POST", headers: owner.headers });
    expect(rev.status).toBe(200);
    let last: { status: number; body: any } = { status: 0, body: null };
    await waitFor(
      async () => {
        last = await predict({ "x-api-key": key.apiKey });
        return last.status === 401;
      },
      1_000,
      "revoked key refused",
    );
    expect(last.body).toEqual({ success: false, error: { code: "INVALID_API_KEY", message: expect.stringContaining("revoked"), requestId: expect.any(String) } });
  });

  test("after regenerate the old key is refused and the new one works", async () => {
    const owner = await newOwner();
    const old = await issueKey(stack.keys, owner);
    expect((await predict({ "x-api-key": old.apiKey })).status).toBe(200);
    const regen = await req(`${stack.keysUrl}/api/v1/keys/regenerate`, { method: "POST", headers: owner.headers, json: {} });
    expect(regen.status).toBe(200);
    await waitFor(async () => (await predict({ "x-api-key": old.apiKey })).status === 401, 1_000, "old key refused");
    const fresh = await predict({ authorization: `Bearer ${regen.body.data.apiKey}` });
    expect(fresh.status).toBe(200);
    expect(fresh.body.data.keyId).toBe(regen.body.data.keyId);
  });

  test("an unknown but well-formed key is refused with 401 after asking the keys service", async () => {
    const { newApiKey } = await import("../../services/keys/src/keys/mint");
    const before = stack.loans.guard.stats().verify.verifyRequests;
    const r = await predict({ "x-api-key": newApiKey() });
    expect(r.status).toBe(401);
    expect(r.body.error).toEqual({ code: "INVALID_API_KEY", message: "Invalid API key.", requestId: expect.any(String) });
    expect(stack.loans.guard.stats().verify.verifyRequests).toBe(before + 1);
  });

  test("a protected route with a valid key still validates its body (unknown fields refused)", async () => {
    const key = await issueKey(stack.keys, await newOwner());
    const r = await predict({ "x-api-key": key.apiKey }, { ...goodLoan, extra: 1 });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("VALIDATION_ERROR");
  });
});
