/**
 * Key policies at the guard, accepted calls: a key whose every policy allows
 * the call opens the route; scopes (and "*") reach the route that needs
 * them; test keys get the example's deterministic sandbox answer and are
 * metered as test; RateLimit-* headers only for keys with a rate limit; a
 * route's cost is what it spends; a PATCH reaches a running guard.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { createGuard } from "@riskinmind/guard";
import { goodLoan, predictWith, readUsageEvents, silentLog, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";
import { expectNoRateHeaders, expectRefusal, keyWith, patchKey, rateHeadersOf } from "./policies.helpers";

let s: TrioStack;
beforeAll(async () => {
  s = await trioStack({ usageStream: true });
});
afterAll(async () => {
  await s?.close();
});

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

describe("a key whose policies allow the call", () => {
  test("every policy on (expiry ahead, loans:predict, an allowlist holding the caller, rate limit and quota to spare): 200 with RateLimit-* headers", async () => {
    const k = await keyWith(s.keys, {
      expiresAt: inAnHour(),
      scopes: ["loans:predict"],
      ipAllowlist: ["127.0.0.1", "::1"],
      rateLimit: { limit: 1000, windowSeconds: 60 },
      quota: { limit: 100_000, period: "month" },
    });
    const r = await predictWith(s.example, { "x-api-key": k.apiKey });
    expect(r.status).toBe(200);
    expect(r.body.data.keyId).toBe(k.keyId);
    const h = rateHeadersOf(r);
    expect(h["ratelimit-limit"]).toBe(1000);
    expect(h["ratelimit-remaining"]).toBeLessThan(1000);
    expect(h["ratelimit-remaining"]).toBeGreaterThanOrEqual(0);
    expect(h["ratelimit-reset"]).toBeGreaterThanOrEqual(0);
    expect(h["ratelimit-reset"]).toBeLessThanOrEqual(60);
  });

  test("a key without a rate limit gets no RateLimit-* headers (a quota alone adds none)", async () => {
    const k = await keyWith(s.keys, { quota: { limit: 1000, period: "day" } });
    const r = await predictWith(s.example, { "x-api-key": k.apiKey });
    expect(r.status).toBe(200);
    expectNoRateHeaders(r);
  });

  test("the default scope '*' and an explicit loans:predict both reach predict", async () => {
    for (const policy of [{}, { scopes: ["*"] }, { scopes: ["loans:read", "loans:predict"] }]) {
      const k = await keyWith(s.keys, policy);
      expect({ policy, status: (await predictWith(s.example, { "x-api-key": k.apiKey })).status }).toEqual({ policy, status: 200 });
    }
  });
});

describe("test keys", () => {
  test("an sk_test_ key gets the sandbox answer: marked, deterministic, not the model's", async () => {
    const t = await keyWith(s.keys, {}, "test");
    expect(t.apiKey.startsWith("sk_test_")).toBe(true);
    const a = await predictWith(s.example, { "x-api-key": t.apiKey });
    const b = await predictWith(s.example, { "x-api-key": t.apiKey });
    expect(a.status).toBe(200);
    expect(a.body.data.sandbox).toBe(true);
    expect(a.body.data.keyId).toBe(t.keyId);
    expect(b.body.data).toEqual(a.body.data);
    const other = await predictWith(s.example, { "x-api-key": t.apiKey }, { ...goodLoan, amount: goodLoan.amount + 1 });
    expect(other.body.data.sandbox).toBe(true);
    expect(["APPROVE", "REVIEW", "DECLINE"]).toContain(other.body.data.decision);
    // A live key of the same owner runs the model: no sandbox mark.
    const live = await keyWith(s.keys, {}, "live", t.owner);
    const l = await predictWith(s.example, { "x-api-key": live.apiKey });
    expect(l.status).toBe(200);
    expect(l.body.data.sandbox).toBeUndefined();
  });

  test("the guard's identity and the usage events carry the key's mode", async () => {
    const t = await keyWith(s.keys, {}, "test");
    const l = await keyWith(s.keys, {}, "live", t.owner);
    const dt = await s.loans.guard.authorize(t.apiKey);
    const dl = await s.loans.guard.authorize(l.apiKey);
    expect(dt).toMatchObject({ ok: true, apiKey: { keyId: t.keyId, ownerId: t.owner.sub, mode: "test" } });
    expect(dl).toMatchObject({ ok: true, apiKey: { keyId: l.keyId, mode: "live" } });
    expect((await predictWith(s.example, { "x-api-key": t.apiKey })).status).toBe(200);
    expect((await predictWith(s.example, { "x-api-key": l.apiKey })).status).toBe(200);
    let modes: Record<string, unknown> = {};
    await waitFor(
      async () => {
        const events = (await readUsageEvents(s.nc, s.topo.stream)).events;
        modes = Object.fromEntries(events.filter((e) => e.keyId === t.keyId || e.keyId === l.keyId).map((e) => [e.keyId, e.mode]));
        return Object.keys(modes).length === 2;
      },
      10_000,
      "both usage events",
    );
    expect(modes).toEqual({ [t.keyId]: "test", [l.keyId]: "live" });
  });
});

describe("route declarations", () => {
  test("a route's cost is what one call spends; a route that declares nothing needs no scope and costs 1", async () => {
    const guard = createGuard({ nc: s.guardNc, topology: s.topo, log: silentLog });
    s.onClose(() => guard.close(2_000));
    const app = new Elysia()
      .use(guard.plugin)
      .get("/costly", ({ apiKey }) => apiKey.keyId, { apiKey: { scope: "reports:run", cost: 5 } })
      .get("/plain", ({ apiKey }) => apiKey.keyId);
    app.listen({ port: 0, hostname: "127.0.0.1" });
    s.onClose(async () => app.stop(true));
    const url = `http://127.0.0.1:${app.server!.port}`;
    const k = await keyWith(s.keys, { scopes: ["reports:run"], rateLimit: { limit: 12, windowSeconds: 3600 } });
    const get = (path: string) => fetch(url + path, { headers: { "x-api-key": k.apiKey } });
    const first = await get("/costly");
    expect(first.status).toBe(200);
    expect(Number(first.headers.get("ratelimit-remaining"))).toBe(7);
    const plain = await get("/plain");
    expect(plain.status).toBe(200);
    expect(Number(plain.headers.get("ratelimit-remaining"))).toBe(6);
    expect((await get("/costly")).status).toBe(200); // 1 left
    const over = await get("/costly");
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The refused call spent nothing: the one unit left still buys a plain call.
    expect((await get("/plain")).status).toBe(200);
  });
});

describe("policy changes reach a running guard", () => {
  test("a PATCH that drops loans:predict is enforced by a guard that had the key cached, and a PATCH back restores it", async () => {
    const k = await keyWith(s.keys, { scopes: ["loans:predict"] });
    expect((await predictWith(s.example, { "x-api-key": k.apiKey })).status).toBe(200);
    expect(await s.loans.guard.check(k.apiKey)).toMatchObject({ ok: true, cached: true });
    const dropped = s.loans.guard.stats().cache.invalidations;
    await patchKey(s.keys, k.owner, { scopes: ["loans:read"] });
    // The guard hears keys.cache.changed and drops its verdict: wait for that, not for time.
    await waitFor(() => s.loans.guard.stats().cache.invalidations > dropped, 5_000, "the guard to drop the key's verdict");
    expectRefusal(await predictWith(s.example, { "x-api-key": k.apiKey }), 403, "INSUFFICIENT_SCOPE", k.apiKey);
    const again = s.loans.guard.stats().cache.invalidations;
    await patchKey(s.keys, k.owner, { scopes: null });
    await waitFor(() => s.loans.guard.stats().cache.invalidations > again, 5_000, "the guard to drop the key's verdict again");
    expect((await predictWith(s.example, { "x-api-key": k.apiKey })).status).toBe(200);
  });
});
