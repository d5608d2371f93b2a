/**
 * POST /api/v1/loans/predict (the example, behind the guard) with a good key
 * from the real keys service (in-process, own database, same topology): the
 * route opens and sees its keyId/ownerId, a repeat is answered from the
 * guard's cache (no NATS request), and every call is metered with the right fields.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { goodLoan, issueKey, newOwner, predictWith, readUsageEvents, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

let stack: TrioStack;
beforeAll(async () => {
  // The usage service would create the stream; here the test reads what the guard publishes.
  stack = await trioStack({ usageStream: true });
});
afterAll(async () => {
  await stack?.close();
});

describe("predict with a good key", () => {
  test("a key issued by the keys service opens the route, which sees its keyId and ownerId", async () => {
    const owner = await newOwner();
    const key = await issueKey(stack.keys, owner);
    const r = await predictWith(stack.example, { authorization: `Bearer ${key.apiKey}` });
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
    expect((await predictWith(stack.example, { "x-api-key": key.apiKey })).status).toBe(200);
    const before = stack.loans.guard.stats();
    const r = await predictWith(stack.example, { "x-api-key": key.apiKey });
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
    expect((await predictWith(stack.example, { "x-api-key": key.apiKey })).status).toBe(200);
    // A valid key with a bad body is still a metered call (400).
    expect((await predictWith(stack.example, { "x-api-key": key.apiKey }, { ...goodLoan, creditScore: 10 })).status).toBe(400);
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
});
