/**
 * Key policies out of range (issue 11): every bound is a 400
 * VALIDATION_ERROR in the envelope, on generate, regenerate and PATCH alike,
 * and nothing changes: no key issued, none rotated, the policy as it was.
 */
import { describe, expect, test } from "bun:test";
import { newOwner, useKeysStack } from "@riskinmind/testkit";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000" });

const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

const BAD: [string, Record<string, unknown>][] = [
  ["expiresAt in the past", { expiresAt: inDays(-1) }],
  ["expiresAt more than 3 years ahead", { expiresAt: inDays(3 * 366 + 2) }],
  ["expiresAt not a date-time", { expiresAt: "tomorrow" }],
  ["scopes empty", { scopes: [] }],
  ["33 scopes", { scopes: Array.from({ length: 33 }, (_, i) => `s${i}`) }],
  ["a scope with an uppercase letter", { scopes: ["Loans:predict"] }],
  ["a scope starting with a digit", { scopes: ["1loans"] }],
  ["a scope of 65 characters", { scopes: [`a${"b".repeat(64)}`] }],
  ["a duplicate scope", { scopes: ["a", "a"] }],
  ["101 allowlist entries", { ipAllowlist: Array.from({ length: 101 }, (_, i) => `10.0.${i >> 8}.${i & 255}`) }],
  ["an allowlist entry that is a host name", { ipAllowlist: ["example.com"] }],
  ["a CIDR with host bits past the prefix", { ipAllowlist: ["10.1.2.3/8"] }],
  ["an IPv4 prefix over 32", { ipAllowlist: ["10.0.0.0/33"] }],
  ["an IPv6 prefix over 128", { ipAllowlist: ["::/129"] }],
  ["an address with a leading zero", { ipAllowlist: ["10.0.0.01"] }],
  ["rateLimit 0", { rateLimit: { limit: 0, windowSeconds: 1 } }],
  ["rateLimit over 1,000,000", { rateLimit: { limit: 1_000_001, windowSeconds: 1 } }],
  ["windowSeconds over 3600", { rateLimit: { limit: 1, windowSeconds: 3601 } }],
  ["windowSeconds 0", { rateLimit: { limit: 1, windowSeconds: 0 } }],
  ["rateLimit without windowSeconds", { rateLimit: { limit: 5 } }],
  ["rateLimit with a fraction", { rateLimit: { limit: 1.5, windowSeconds: 1 } }],
  ["quota over 1,000,000,000", { quota: { limit: 1_000_000_001, period: "day" } }],
  ["quota period week", { quota: { limit: 5, period: "week" } }],
  ["quota with an extra field", { quota: { limit: 5, period: "day", used: 0 } }],
];

const rowsOf = async (sub: string) => (await env.sql`select id, status, scopes, rate_limit from keys.api_keys where owner_id = ${sub} order by created_at`).map((r) => ({ ...r }));

function expect400(r: { status: number; body: any; headers: Headers }) {
  expect(r.status).toBe(400);
  expect(r.body.success).toBe(false);
  expect(r.body.error.code).toBe("VALIDATION_ERROR");
  expect(r.body.error.requestId).toBe(r.headers.get("x-request-id")!);
}

describe("out-of-range policies → 400 VALIDATION_ERROR, nothing changed", () => {
  for (const [name, body] of BAD) {
    test(name, async () => {
      const o = await newOwner();
      // generate: no key issued
      expect400(await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: body }));
      expect(await rowsOf(o.sub)).toEqual([]);
      const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: { scopes: ["keep"], rateLimit: { limit: 7, windowSeconds: 7 } } });
      const before = await rowsOf(o.sub);
      // regenerate: nothing rotated; PATCH: nothing changed
      expect400(await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: body }));
      expect400(await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: body }));
      expect(await rowsOf(o.sub)).toEqual(before);
      expect(await env.verify(g.body.data.apiKey)).toMatchObject({ valid: true, scopes: ["keep"], rateLimit: { limit: 7, windowSeconds: 7 } });
    });
  }

  test("gracePeriodSeconds out of range or not an integer; and only regenerate takes it", async () => {
    const o = await newOwner();
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers });
    const before = await rowsOf(o.sub);
    for (const v of [-1, 604_801, 1.5, "60"]) expect400(await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { gracePeriodSeconds: v } }));
    expect400(await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: { gracePeriodSeconds: 60 } }));
    expect(await rowsOf(o.sub)).toEqual(before);
    expect(await env.verify(g.body.data.apiKey)).toMatchObject({ valid: true });
    // The bounds themselves are accepted.
    expect((await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { gracePeriodSeconds: 604_800 } })).status).toBe(200);
  });

  test("?mode= other than live or test → 400 on every key route; the PATCH of a slot without a key → 404", async () => {
    const o = await newOwner();
    for (const [method, path] of [
      ["GET", "/api/v1/keys/?mode=prod"],
      ["POST", "/api/v1/keys/generate?mode=LIVE"],
      ["POST", "/api/v1/keys/regenerate?mode="],
      ["POST", "/api/v1/keys/revoke?mode=sandbox"],
      ["PATCH", "/api/v1/keys/?mode=x"],
    ] as const) {
      expect400(await env.a.call(method, path, { headers: o.headers }));
    }
    expect(await rowsOf(o.sub)).toEqual([]);
    const p = await env.a.call("PATCH", "/api/v1/keys/?mode=test", { headers: o.headers, json: { scopes: ["a"] } });
    expect(p.status).toBe(404);
    expect(p.body.error.code).toBe("KEY_NOT_FOUND");
  });

  test("PATCH without a JWT is 401 and changes nothing; with a body that is not an object, 400", async () => {
    const o = await newOwner();
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: { scopes: ["keep"] } });
    const anon = await env.a.call("PATCH", "/api/v1/keys/", { json: { scopes: ["*"] } });
    expect(anon.status).toBe(401);
    expect400(await env.a.call("PATCH", "/api/v1/keys/", { headers: { ...o.headers, "content-type": "application/json" }, body: "[]" }));
    expect(await env.verify(g.body.data.apiKey)).toMatchObject({ scopes: ["keep"] });
  });
});
