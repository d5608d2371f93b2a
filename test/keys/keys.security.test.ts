import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { authHeader, JWT_SECRET, KEY_ROUTES, useKeysStack, newOwner, token, unsignedToken, issueKey } from "@riskinmind/testkit";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000" });

const ROUTES = KEY_ROUTES;

const now = () => Math.floor(Date.now() / 1000);
const signWith = (claims: Record<string, unknown>) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(now() + 600)
    .sign(new TextEncoder().encode(JWT_SECRET));

describe("every /api/v1/keys route refuses a bad credential with 401 UNAUTHORIZED", () => {
  const bad: [string, () => Promise<Record<string, string>>][] = [
    ["no Authorization header", async () => ({})],
    ["a Basic instead of a Bearer scheme", async () => ({ authorization: `Basic ${Buffer.from("a:b").toString("base64")}` })],
    ["a token without the Bearer scheme", async () => ({ authorization: await token("alice") })],
    ["a garbage token", async () => ({ authorization: "Bearer not.a.jwt" })],
    ["a token signed with another secret", async () => authHeader(await token("alice", { secret: "another-secret-that-is-long-enough-000000" }))],
    ["an alg:none token (signature stripped)", async () => authHeader(unsignedToken({ sub: "alice", exp: now() + 600 }))],
    ["an HS512 token with the same secret (algorithm not allowed)", async () => authHeader(await token("alice", { alg: "HS512" }))],
    ["an expired token", async () => authHeader(await token("alice", { expSeconds: -60 }))],
    ["a token not valid before a future time", async () => authHeader(await token("alice", { nbfSeconds: 600 }))],
    ["a token without sub", async () => authHeader(await token(undefined))],
    ["a token whose sub is a number", async () => authHeader(await signWith({ sub: 12345 }))],
    ["a token whose sub is empty", async () => authHeader(await signWith({ sub: "" }))],
    ["a token whose sub is 256 chars", async () => authHeader(await signWith({ sub: "a".repeat(256) }))],
    ["a token whose sub holds a NUL byte", async () => authHeader(await signWith({ sub: "al\u0000ice" }))],
    ["a valid token in x-api-key instead of Authorization", async () => ({ "x-api-key": await token("alice") })],
  ];
  for (const [name, headers] of bad) {
    test(name, async () => {
      const h = await headers();
      for (const [m, p] of ROUTES) {
        const r = await env.a.call(m, p, { headers: h });
        expect(r.status).toBe(401);
        expect(r.body).toMatchObject({ success: false, error: { code: "UNAUTHORIZED" } });
      }
      expect(Number((await env.sql`select count(*)::int as n from keys.api_keys`)[0]!.n)).toBe(0);
    });
  }

  test("an anonymous caller gets 401 before any body validation", async () => {
    const r = await env.a.call("POST", "/api/v1/keys/generate", { json: { label: 1 } });
    expect(r.status).toBe(401);
  });

  test("the 401 message echoes neither the token nor its claims", async () => {
    const t = await token("alice", { secret: "another-secret-that-is-long-enough-000000" });
    const r = await env.a.call("GET", "/api/v1/keys/", { headers: authHeader(t) });
    expect(JSON.stringify(r.body)).not.toContain(t);
    expect(JSON.stringify(r.body)).not.toContain("alice");
  });
});

describe("owner isolation", () => {
  test("one owner never sees, revokes or regenerates another's key", async () => {
    const alice = await newOwner("alice");
    const bob = await newOwner("bob");
    const ak = await issueKey(env.a, alice);
    expect((await env.a.call("GET", "/api/v1/keys/", { headers: bob.headers })).status).toBe(404);
    expect((await env.a.call("POST", "/api/v1/keys/revoke", { headers: bob.headers })).status).toBe(404);
    const bk = (await env.a.call("POST", "/api/v1/keys/regenerate", { headers: bob.headers })).body.data;
    expect(await env.verify(ak.apiKey)).toMatchObject({ valid: true, keyId: ak.keyId, ownerId: alice.sub });
    expect(await env.verify(bk.apiKey)).toMatchObject({ valid: true, keyId: bk.keyId, ownerId: bob.sub });
    expect((await env.a.call("GET", "/api/v1/keys/", { headers: alice.headers })).body.data.keyId).toBe(ak.keyId);
  });
});

describe("response hygiene", () => {
  test("responses carrying a key are no-store and have security headers", async () => {
    const o = await newOwner();
    const r = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers });
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
