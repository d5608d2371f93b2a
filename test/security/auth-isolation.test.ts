/**
 * The JWT refusal matrix on every /api/v1/keys route of a real keys process
 * (test/keys/keys.security.test.ts covers the same list in-process; this adds
 * an RS256-looking header, HS384/HS512, and a token in a cookie or the query
 * string), and owner isolation on every route including the usage logs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { authHeader, deploy, type Deployment, isEnvelope, issueKey, JWT_SECRET, KEY_ROUTES, newOwner, predict, req, token, unsignedToken, usageRows, waitFor } from "@riskinmind/testkit";

let d: Deployment;
beforeAll(async () => {
  d = await deploy({ services: ["usage", "keys", "example"] });
});
afterAll(async () => {
  await d?.close();
});

const ROUTES = KEY_ROUTES;

const now = () => Math.floor(Date.now() / 1000);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("JWT refusal matrix: 401 UNAUTHORIZED on every route, nothing written", () => {
  const sub = "victim_owner";
  const matrix: [string, () => Promise<{ headers: Record<string, string>; query?: string }>][] = [
    ["alg none", async () => ({ headers: authHeader(unsignedToken({ sub, exp: now() + 600 })) })],
    ["alg None (case variant) unsigned", async () => ({ headers: authHeader(`${b64({ alg: "None", typ: "JWT" })}.${b64({ sub, exp: now() + 600 })}.`) })],
    ["HS512 with the same secret", async () => ({ headers: authHeader(await token(sub, { alg: "HS512" })) })],
    ["HS384 with the same secret", async () => ({ headers: authHeader(await token(sub, { alg: "HS384" })) })],
    [
      "an RS256 header over an HMAC of the secret (key-confusion attempt)",
      async () => {
        const input = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ sub, exp: now() + 600 })}`;
        const sig = new Bun.CryptoHasher("sha256", JWT_SECRET).update(input).digest("base64url");
        return { headers: authHeader(`${input}.${sig}`) };
      },
    ],
    ["a wrong secret", async () => ({ headers: authHeader(await token(sub, { secret: "wrong-secret-that-is-long-enough-00000000" })) })],
    ["expired", async () => ({ headers: authHeader(await token(sub, { expSeconds: -5 })) })],
    ["nbf in the future", async () => ({ headers: authHeader(await token(sub, { nbfSeconds: 300 })) })],
    ["missing sub", async () => ({ headers: authHeader(await token(undefined)) })],
    [
      "sub not a string",
      async () => ({
        headers: authHeader(
          await new SignJWT({ sub: ["a"] as unknown as string })
            .setProtectedHeader({ alg: "HS256" })
            .setExpirationTime(now() + 600)
            .sign(new TextEncoder().encode(JWT_SECRET)),
        ),
      }),
    ],
    ["a valid token in x-api-key", async () => ({ headers: { "x-api-key": await token(sub) } })],
    ["a valid token in a cookie", async () => ({ headers: { cookie: `token=${await token(sub)}; authorization=Bearer%20${await token(sub)}` } })],
    ["a valid token in the query string", async () => ({ headers: {}, query: `access_token=${await token(sub)}&token=${await token(sub)}&authorization=Bearer%20${await token(sub)}` })],
    ["a valid token with the scheme missing", async () => ({ headers: { authorization: await token(sub) } })],
    ["a valid token under another scheme", async () => ({ headers: { authorization: `Token ${await token(sub)}` } })],
  ];
  for (const [name, make] of matrix) {
    test(name, async () => {
      const { headers, query } = await make();
      for (const [method, path] of ROUTES) {
        const url = `${d.keys!.url}${path}${query ? (path.includes("?") ? "&" : "?") + query : ""}`;
        const r = await req(url, { method, headers });
        expect({ route: `${method} ${path}`, status: r.status, envelope: isEnvelope(r.body), code: r.body?.error?.code }).toEqual({
          route: `${method} ${path}`,
          status: 401,
          envelope: true,
          code: "UNAUTHORIZED",
        });
        expect(r.headers.get("www-authenticate")).toContain("Bearer");
      }
      const [n] = await d.sql`select count(*)::int as n from keys.api_keys where owner_id = ${sub}`;
      expect(n!.n).toBe(0);
    });
  }
});

describe("owner isolation on every route", () => {
  test("owner B cannot read, revoke, regenerate or see the logs of owner A; A's key keeps working", async () => {
    const a = await newOwner("iso_a");
    const b = await newOwner("iso_b");
    const ak = await issueKey(d.keys!, a);
    for (let i = 0; i < 3; i++) expect((await predict(d.example!, ak.apiKey)).status).toBe(200);
    await waitFor(async () => (await usageRows(d.sql, a.sub)) === 3, 10_000, "A's usage rows");

    // Read: B has nothing, and nothing of A's shows through.
    const bGet = await req(`${d.keys!.url}/api/v1/keys/`, { headers: b.headers });
    expect(bGet.status).toBe(404);
    expect(bGet.text).not.toContain(ak.keyId);
    // Logs: B sees none of A's rows, on any page.
    for (const q of ["", "?page=1&limit=100", "?page=2&limit=1"]) {
      const l = await req(`${d.keys!.url}/api/v1/keys/logs${q}`, { headers: b.headers });
      expect(l.status).toBe(200);
      expect(l.body.meta.total).toBe(0);
      expect(l.body.data).toEqual([]);
    }
    // Revoke: B has no key to revoke; A's key is untouched.
    expect((await req(`${d.keys!.url}/api/v1/keys/revoke`, { method: "POST", headers: b.headers })).status).toBe(404);
    // Regenerate: B gets a key of its own; A's key is untouched.
    const bReg = await req(`${d.keys!.url}/api/v1/keys/regenerate`, { method: "POST", headers: b.headers });
    expect(bReg.status).toBe(200);
    expect(await d.verify(ak.apiKey)).toMatchObject({ valid: true, keyId: ak.keyId, ownerId: a.sub });
    expect(await d.verify(bReg.body.data.apiKey)).toMatchObject({ valid: true, ownerId: b.sub });
    // Generate: B's second generate conflicts with B's own key, never with A's.
    expect((await req(`${d.keys!.url}/api/v1/keys/generate`, { method: "POST", headers: b.headers })).body.error.code).toBe("ACTIVE_KEY_EXISTS");
    // B revoking its own key leaves A's alone.
    expect((await req(`${d.keys!.url}/api/v1/keys/revoke`, { method: "POST", headers: b.headers })).status).toBe(200);
    expect((await predict(d.example!, ak.apiKey)).status).toBe(200);
    const aGet = await req(`${d.keys!.url}/api/v1/keys/`, { headers: a.headers });
    expect(aGet.body.data.keyId).toBe(ak.keyId);
    // A's logs are A's only: B's calls with its own key are not in them.
    expect((await predict(d.example!, bReg.body.data.apiKey)).status).toBe(401); // revoked above
    await waitFor(async () => (await req(`${d.keys!.url}/api/v1/keys/logs?limit=100`, { headers: a.headers })).body.meta.total === 4, 10_000, "A's 4 rows");
    const aLogs = await req(`${d.keys!.url}/api/v1/keys/logs?limit=100`, { headers: a.headers });
    expect(aLogs.body.data.every((e: { keyId: string }) => e.keyId === ak.keyId)).toBe(true);
  }, 30_000);
});
