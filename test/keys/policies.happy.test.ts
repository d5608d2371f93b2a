/**
 * Key policies over HTTP (issue 11), the keys service's side: what an owner
 * sets on generate, regenerate and PATCH is stored, shown by every answer
 * that returns a key, carried over by a regenerate that names none, and
 * handed to keys.verify for the guards. Test keys are a second slot.
 */
import { describe, expect, test } from "bun:test";
import { isWellFormedKey, quotaWindow } from "@riskinmind/contracts";
import { newOwner, useKeysStack, waitFor } from "@riskinmind/testkit";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000" });

const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();
const POLICY = {
  expiresAt: inDays(30),
  scopes: ["loans:predict", "loans:read"],
  ipAllowlist: ["203.0.113.0/24", "2001:DB8::/32", "198.51.100.7"],
  rateLimit: { limit: 100, windowSeconds: 60 },
  quota: { limit: 10_000, period: "month" as const },
};

const get = (headers: Record<string, string>, mode?: string) => env.a.call("GET", `/api/v1/keys/${mode ? `?mode=${mode}` : ""}`, { headers });

describe("policies set at generate are stored, shown and verified", () => {
  test("generate with every policy: the answer and GET show them (allowlist canonical), keys.verify hands them to the guard", async () => {
    const o = await newOwner();
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: { label: "prod", ...POLICY } });
    expect(g.status).toBe(201);
    const now = Date.now();
    const expected = {
      mode: "live",
      expiresAt: POLICY.expiresAt,
      scopes: POLICY.scopes,
      ipAllowlist: ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"],
      rateLimit: POLICY.rateLimit,
      quota: { limit: 10_000, period: "month", used: 0, resetsAt: new Date(quotaWindow("month", new Date(now).getUTCDate(), now).end).toISOString() },
      previousKey: null,
    };
    expect(g.body.data).toMatchObject(expected);
    const c = await get(o.headers);
    expect(c.status).toBe(200);
    expect(c.body.data).toMatchObject({ keyId: g.body.data.keyId, label: "prod", ...expected });

    const v = await env.verify(g.body.data.apiKey);
    expect(v).toEqual({
      valid: true,
      keyId: g.body.data.keyId,
      ownerId: o.sub,
      mode: "live",
      expiresAt: Date.parse(POLICY.expiresAt),
      scopes: POLICY.scopes,
      ipAllowlist: expected.ipAllowlist,
      rateLimit: POLICY.rateLimit,
      quota: { limit: 10_000, period: "month" },
    });
  });

  test("a daily quota resets at the next 00:00 UTC", async () => {
    const o = await newOwner();
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: { quota: { limit: 5, period: "day" } } });
    const next = new Date();
    next.setUTCHours(24, 0, 0, 0);
    expect(g.body.data.quota).toEqual({ limit: 5, period: "day", used: 0, resetsAt: next.toISOString() });
  });
});

describe("PATCH changes the current key's policies", () => {
  test("what the body names changes, null clears, the rest stays; the answer is GET's; keys.verify sees it at once", async () => {
    const o = await newOwner();
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: { label: "before", ...POLICY } });
    // Cached by keys.verify before the change: the PATCH must drop it.
    expect(await env.verify(g.body.data.apiKey)).toMatchObject({ scopes: POLICY.scopes });

    const p = await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: { scopes: ["*"], ipAllowlist: null, rateLimit: { limit: 5, windowSeconds: 1 }, label: null } });
    expect(p.status).toBe(200);
    expect(p.body.data).toMatchObject({
      keyId: g.body.data.keyId,
      label: null,
      scopes: ["*"],
      ipAllowlist: [],
      rateLimit: { limit: 5, windowSeconds: 1 },
      expiresAt: POLICY.expiresAt,
      quota: { limit: 10_000, period: "month", used: 0 },
    });
    expect((await get(o.headers)).body).toEqual(p.body);
    expect(await env.verify(g.body.data.apiKey)).toMatchObject({ valid: true, scopes: ["*"], ipAllowlist: [], rateLimit: { limit: 5, windowSeconds: 1 } });

    const cleared = await env.a.call("PATCH", "/api/v1/keys", { headers: o.headers, json: { expiresAt: null, quota: null, rateLimit: null } });
    expect(cleared.body.data).toMatchObject({ expiresAt: null, quota: null, rateLimit: null, scopes: ["*"] });
  });

  test("a PATCH on one replica reaches another replica's verify cache (keys.cache.changed)", async () => {
    const b = await env.start();
    const o = await newOwner();
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: { scopes: ["a"] } });
    // Ask until b has answered (the queue group spreads requests over a and b), so both caches hold the old scopes.
    for (let i = 0; i < 10; i++) expect(await env.verify(g.body.data.apiKey)).toMatchObject({ scopes: ["a"] });
    await b.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: { scopes: ["b"] } });
    await waitFor(
      async () => {
        for (let i = 0; i < 10; i++) if ((await env.verify(g.body.data.apiKey)).scopes?.[0] !== "b") return false;
        return true;
      },
      10_000,
      "every replica answers the new scopes",
    );
  });
});

describe("regenerate: carry-over and rotation grace", () => {
  test("a regenerate that names no policy carries every policy over; one that names some changes only those", async () => {
    const o = await newOwner();
    await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: POLICY });
    const r1 = await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers });
    expect(r1.status).toBe(200);
    expect(r1.body.data).toMatchObject({ scopes: POLICY.scopes, rateLimit: POLICY.rateLimit, expiresAt: POLICY.expiresAt, quota: { limit: 10_000 }, label: null });
    const r2 = await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { rateLimit: null, scopes: ["loans:predict"] } });
    expect(r2.body.data).toMatchObject({ scopes: ["loans:predict"], rateLimit: null, expiresAt: POLICY.expiresAt, quota: { limit: 10_000 } });
    expect(await env.verify(r2.body.data.apiKey)).toMatchObject({ valid: true, scopes: ["loans:predict"], rateLimit: null });
  });

  test("with gracePeriodSeconds the old key keeps working until then and shows as previousKey; revoke ends both at once", async () => {
    const o = await newOwner();
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers });
    const old = g.body.data;
    const r = await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { gracePeriodSeconds: 3600 } });
    expect(r.status).toBe(200);
    const prev = r.body.data.previousKey;
    expect(prev).toMatchObject({ keyId: old.keyId, keySnippet: old.keySnippet });
    const ends = Date.parse(prev.expiresAt);
    expect(Math.abs(ends - (Date.now() + 3_600_000))).toBeLessThan(60_000);
    expect((await get(o.headers)).body.data.previousKey).toEqual(prev);
    // Both keys work; the old one's verification says when it stops.
    expect(await env.verify(old.apiKey)).toMatchObject({ valid: true, keyId: old.keyId, expiresAt: ends });
    expect(await env.verify(r.body.data.apiKey)).toMatchObject({ valid: true, expiresAt: null });

    expect((await env.a.call("POST", "/api/v1/keys/revoke", { headers: o.headers })).status).toBe(200);
    expect(await env.verify(old.apiKey)).toEqual({ valid: false, code: "KEY_REVOKED" });
    expect(await env.verify(r.body.data.apiKey)).toEqual({ valid: false, code: "KEY_REVOKED" });
  });

  test("a regenerate during a grace period revokes the older key at once: at most one previous key", async () => {
    const o = await newOwner();
    const k1 = (await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers })).body.data;
    const k2 = (await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { gracePeriodSeconds: 600 } })).body.data;
    const k3 = (await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { gracePeriodSeconds: 600 } })).body.data;
    expect(k3.previousKey.keyId).toBe(k2.keyId);
    expect(await env.verify(k1.apiKey)).toEqual({ valid: false, code: "KEY_REVOKED" });
    expect(await env.verify(k2.apiKey)).toMatchObject({ valid: true });
    expect(await env.verify(k3.apiKey)).toMatchObject({ valid: true });
  });

  test("an old key past its grace, or a key past its expiresAt, is KEY_EXPIRED", async () => {
    const o = await newOwner();
    const k1 = (await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers })).body.data;
    const k2 = (await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { gracePeriodSeconds: 1 } })).body.data;
    expect(await env.verify(k1.apiKey)).toMatchObject({ valid: true });
    // The grace end as the database sees it, moved into the past (no waiting), then announced as the change poll would.
    await env.sql`update keys.api_keys set grace_until = now() - interval '1 second', changed_at = now() where id = ${k1.keyId}`;
    await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: {} }); // drops this owner's cached answers
    await waitFor(async () => (await env.verify(k1.apiKey)).code === "KEY_EXPIRED", 10_000, "the old key is KEY_EXPIRED");
    expect((await get(o.headers)).body.data.previousKey).toBeNull();

    await env.sql`update keys.api_keys set expires_at = now() - interval '1 second', changed_at = now() where id = ${k2.keyId}`;
    await waitFor(async () => (await env.verify(k2.apiKey)).code === "KEY_EXPIRED", 10_000, "the expired key is KEY_EXPIRED");
    // An expired key no longer blocks a generate: it is replaced.
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers });
    expect(g.status).toBe(201);
    expect(await env.verify(k2.apiKey)).toEqual({ valid: false, code: "KEY_REVOKED" });
  });
});

describe("test keys: a second slot per owner", () => {
  test("?mode=test issues an sk_test_ key beside the live one; each route acts on its own slot", async () => {
    const o = await newOwner();
    const live = (await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers })).body.data;
    const t = await env.a.call("POST", "/api/v1/keys/generate?mode=test", { headers: o.headers, json: { scopes: ["loans:predict"] } });
    expect(t.status).toBe(201);
    expect(t.body.data.apiKey.startsWith("sk_test_")).toBe(true);
    expect(isWellFormedKey(t.body.data.apiKey)).toBe(true);
    expect(t.body.data).toMatchObject({ mode: "test", keySnippet: `sk_test_...${t.body.data.apiKey.slice(-4)}`, scopes: ["loans:predict"] });
    expect(await env.verify(t.body.data.apiKey)).toMatchObject({ valid: true, mode: "test", ownerId: o.sub });

    expect((await get(o.headers)).body.data).toMatchObject({ keyId: live.keyId, mode: "live" });
    expect((await get(o.headers, "test")).body.data).toMatchObject({ keyId: t.body.data.keyId, mode: "test" });
    expect((await get(o.headers, "live")).body.data.keyId).toBe(live.keyId);

    const p = await env.a.call("PATCH", "/api/v1/keys/?mode=test", { headers: o.headers, json: { scopes: ["*"] } });
    expect(p.body.data).toMatchObject({ keyId: t.body.data.keyId, scopes: ["*"] });
    const r = await env.a.call("POST", "/api/v1/keys/regenerate?mode=test", { headers: o.headers });
    expect(r.body.data.apiKey.startsWith("sk_test_")).toBe(true);
    expect((await env.a.call("POST", "/api/v1/keys/revoke?mode=test", { headers: o.headers })).status).toBe(200);
    expect((await get(o.headers, "test")).status).toBe(404);
    // The live key was never touched.
    expect(await env.verify(live.apiKey)).toMatchObject({ valid: true, mode: "live" });
    expect((await get(o.headers)).body.data.keyId).toBe(live.keyId);
  });
});
