/**
 * Key policies at the guard, refused calls: each refusal in the error
 * envelope with its status (401 KEY_EXPIRED, 403 IP_NOT_ALLOWED, 403
 * INSUFFICIENT_SCOPE, 429 RATE_LIMITED, 429 QUOTA_EXCEEDED), Retry-After on
 * the 429s, RateLimit-* only when the key has a rate limit, and no usage
 * recorded for a refused call.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loansApp, predictWith, readUsageEvents, trioStack, type TrioStack, waitFor, client } from "@riskinmind/testkit";
import { expectNoRateHeaders, expectRefusal, keyWith, rateHeadersOf } from "./policies.helpers";

let s: TrioStack;
beforeAll(async () => {
  s = await trioStack({ usageStream: true });
});
afterAll(async () => {
  await s?.close();
});

describe("expiry", () => {
  test("a key past its expiresAt is refused with 401 KEY_EXPIRED, by a guard that had it cached and by one asking keys.verify afresh", async () => {
    const expiresAt = Date.now() + 1_500;
    const k = await keyWith(s.keys, { expiresAt: new Date(expiresAt).toISOString() });
    expect((await predictWith(s.example, { "x-api-key": k.apiKey })).status).toBe(200);
    // The cached verdict holds the expiry: no event is needed for it to bite.
    await waitFor(async () => (await predictWith(s.example, { "x-api-key": k.apiKey })).status !== 200, 10_000, "the key to expire");
    const cached = await predictWith(s.example, { "x-api-key": k.apiKey });
    expectRefusal(cached, 401, "KEY_EXPIRED", k.apiKey);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    // A guard that never saw the key hears KEY_EXPIRED from keys.verify.
    const fresh = loansApp(s.guardNc, s.topo);
    s.onClose(() => fresh.guard.close(1_000));
    const r = await predictWith(client(fresh.app), { "x-api-key": k.apiKey });
    expectRefusal(r, 401, "KEY_EXPIRED", k.apiKey);
    expect(fresh.guard.stats().verify.verifyRequests).toBe(1);
  });

  test("the old key of a rotation with a grace period works until the grace ends, then is 401 KEY_EXPIRED", async () => {
    const k = await keyWith(s.keys);
    const rot = await s.keys.call("POST", "/api/v1/keys/regenerate", { headers: k.owner.headers, json: { gracePeriodSeconds: 1 } });
    expect(rot.status).toBe(200);
    expect((await predictWith(s.example, { "x-api-key": rot.body.data.apiKey })).status).toBe(200);
    const fresh = loansApp(s.guardNc, s.topo);
    s.onClose(() => fresh.guard.close(1_000));
    await waitFor(async () => (await predictWith(client(fresh.app), { "x-api-key": k.apiKey })).status !== 200, 10_000, "the grace period to end");
    expectRefusal(await predictWith(client(fresh.app), { "x-api-key": k.apiKey }), 401, "KEY_EXPIRED", k.apiKey);
  });
});

describe("address and scope", () => {
  test("a caller outside the allowlist gets 403 IP_NOT_ALLOWED (no rate limit: no RateLimit-* headers)", async () => {
    const k = await keyWith(s.keys, { ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"] });
    const r = await predictWith(s.example, { "x-api-key": k.apiKey });
    expectRefusal(r, 403, "IP_NOT_ALLOWED", k.apiKey);
    expectNoRateHeaders(r);
  });

  test("a key without loans:predict gets 403 INSUFFICIENT_SCOPE from predict", async () => {
    const k = await keyWith(s.keys, { scopes: ["loans:read"] });
    const r = await predictWith(s.example, { "x-api-key": k.apiKey });
    expectRefusal(r, 403, "INSUFFICIENT_SCOPE", k.apiKey);
    expect(r.body.error.message).toContain("scope");
  });

  test("a refusal of a rate-limited key still carries its RateLimit-* headers, and spends nothing, not even a lease request", async () => {
    const k = await keyWith(s.keys, { scopes: ["loans:read"], rateLimit: { limit: 50, windowSeconds: 3600 } });
    const fresh = loansApp(s.guardNc, s.topo);
    s.onClose(() => fresh.guard.close(1_000));
    const app = client(fresh.app);
    const a = await predictWith(app, { "x-api-key": k.apiKey });
    const b = await predictWith(app, { "x-api-key": k.apiKey });
    expectRefusal(a, 403, "INSUFFICIENT_SCOPE");
    expect(rateHeadersOf(a)["ratelimit-limit"]).toBe(50);
    expect(rateHeadersOf(b)["ratelimit-remaining"]).toBe(rateHeadersOf(a)["ratelimit-remaining"]);
    expect(fresh.guard.stats().limits.takeRequests ?? 0).toBe(0);
  });
});

describe("rate limit and quota", () => {
  test("over the rate limit: 429 RATE_LIMITED with Retry-After until the window ends and RateLimit-Remaining 0", async () => {
    const k = await keyWith(s.keys, { rateLimit: { limit: 3, windowSeconds: 3600 } });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await predictWith(s.example, { "x-api-key": k.apiKey }));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(answers.slice(0, 3).map((r) => rateHeadersOf(r)["ratelimit-remaining"])).toEqual([2, 1, 0]);
    const over = answers[3]!;
    expectRefusal(over, 429, "RATE_LIMITED", k.apiKey);
    const retry = Number(over.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(3600);
    expect(rateHeadersOf(over)).toMatchObject({ "ratelimit-limit": 3, "ratelimit-remaining": 0 });
  });

  test("quota spent: 429 QUOTA_EXCEEDED with Retry-After until the period resets (no rate limit: no RateLimit-* headers)", async () => {
    const k = await keyWith(s.keys, { quota: { limit: 2, period: "day" } });
    const statuses = [];
    let last = await predictWith(s.example, { "x-api-key": k.apiKey });
    statuses.push(last.status);
    for (let i = 0; i < 2; i++) {
      last = await predictWith(s.example, { "x-api-key": k.apiKey });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expectRefusal(last, 429, "QUOTA_EXCEEDED", k.apiKey);
    const untilMidnight = Math.ceil((Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1) - Date.now()) / 1000);
    const retry = Number(last.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(untilMidnight + 1);
    expectNoRateHeaders(last);
  });

  test("refused calls are not metered: only the accepted ones become usage events", async () => {
    const k = await keyWith(s.keys, { rateLimit: { limit: 1, windowSeconds: 3600 } });
    expect((await predictWith(s.example, { "x-api-key": k.apiKey })).status).toBe(200);
    expect((await predictWith(s.example, { "x-api-key": k.apiKey })).status).toBe(429);
    // A later accepted call of another key marks that everything before it was published.
    const other = await keyWith(s.keys);
    expect((await predictWith(s.example, { "x-api-key": other.apiKey })).status).toBe(200);
    let mine: unknown[] = [];
    await waitFor(
      async () => {
        const events = (await readUsageEvents(s.nc, s.topo.stream)).events;
        mine = events.filter((e) => e.keyId === k.keyId);
        return events.some((e) => e.keyId === other.keyId);
      },
      10_000,
      "the later event",
    );
    expect(mine).toHaveLength(1);
  });
});
