/**
 * GET /api/v1/keys/logs, security: an owner reads only its own logs whatever
 * it sends, nobody reads any without a valid JWT (the usage service is never
 * even asked), and a key or token in the request target is never echoed back.
 */
import { describe, expect, test } from "bun:test";
import type { LogEntry } from "@riskinmind/contracts";
import { fakeLogsResponder, isEnvelope, issueKey, newOwner, token, unsignedToken, useKeysStack } from "@riskinmind/testkit";

const env = useKeysStack({ LOGS_TIMEOUT_MS: "1000" });

/** One log row per owner, marked with the owner it belongs to (the stand-in is the usage service: it answers by `ownerId`). */
const rowOf = (ownerId: string): LogEntry => ({ endpoint: `/of/${ownerId}`, method: "POST", statusCode: 200, timestamp: "2023-10-01T12:05:00.000Z", keyId: "key_x", durationMs: 1 });

describe("owner isolation", () => {
  test("each owner gets only its own rows: the edge asks for the JWT's sub, whatever the query names", async () => {
    const alice = await newOwner("alice");
    const bob = await newOwner("bob");
    const u = await fakeLogsResponder(env.nc, env.topo, (q) => ({ ok: true, data: [rowOf(q.ownerId)], total: 1 }));
    try {
      const a = await env.a.logs(alice);
      const b = await env.a.logs(bob);
      expect(a.body).toMatchObject({ success: true, data: [rowOf(alice.sub)] });
      expect(b.body).toMatchObject({ success: true, data: [rowOf(bob.sub)] });
      // Naming another owner in the query is refused (no such parameter): the owner comes from the JWT only.
      const forged = await env.a.call("GET", `/api/v1/keys/logs?ownerId=${encodeURIComponent(bob.sub)}`, { headers: alice.headers });
      expect(forged.status).toBe(400);
      expect(isEnvelope(forged.body)).toBe(true);
      expect(forged.text).not.toContain(bob.sub);
      expect(u.seen.map((q) => q.ownerId)).toEqual([alice.sub, bob.sub]);
    } finally {
      u.stop();
    }
  });
});

describe("no valid JWT → 401, and the usage service is never asked", () => {
  const cases: [string, () => Promise<Record<string, string>>][] = [
    ["no Authorization header", async () => ({})],
    ["a malformed bearer", async () => ({ authorization: "Bearer not-a-jwt" })],
    ["an alg:none token", async () => ({ authorization: `Bearer ${unsignedToken({ sub: "victim", exp: Math.floor(Date.now() / 1000) + 600 })}` })],
    ["a token signed with another secret", async () => ({ authorization: `Bearer ${await token("victim", { secret: "another-secret-that-is-long-enough-0123456789" })}` })],
    ["an expired token", async () => ({ authorization: `Bearer ${await token("victim", { expSeconds: -60 })}` })],
  ];
  for (const [name, headers] of cases) {
    test(name, async () => {
      const u = await fakeLogsResponder(env.nc, env.topo, () => ({ ok: true, data: [rowOf("victim")], total: 1 }));
      try {
        const r = await env.a.call("GET", "/api/v1/keys/logs", { headers: await headers() });
        expect(r.status).toBe(401);
        expect(isEnvelope(r.body)).toBe(true);
        expect(r.text).not.toContain("/of/victim");
        expect(u.seen).toEqual([]);
      } finally {
        u.stop();
      }
    });
  }
});

describe("a key or a token in the request target is never echoed", () => {
  test("a key-shaped path segment after /logs → 404 envelope without the key", async () => {
    const o = await newOwner();
    const { apiKey } = await issueKey(env.a, o);
    for (const headers of [o.headers, {}]) {
      const r = await env.a.call("GET", `/api/v1/keys/logs/${apiKey}`, { headers });
      expect(r.status).toBe(404);
      expect(isEnvelope(r.body)).toBe(true);
      expect(r.text).not.toContain(apiKey);
      expect([...r.headers.values()].join("\n")).not.toContain(apiKey);
    }
  });

  test("a key or a JWT as a query value → 400 envelope without it", async () => {
    const o = await newOwner();
    const { apiKey } = await issueKey(env.a, o);
    for (const secret of [apiKey, o.jwt]) {
      const r = await env.a.call("GET", `/api/v1/keys/logs?page=${encodeURIComponent(secret)}`, { headers: o.headers });
      expect(r.status).toBe(400);
      expect(isEnvelope(r.body)).toBe(true);
      expect(r.text).not.toContain(secret);
      expect([...r.headers.values()].join("\n")).not.toContain(secret);
    }
  });
});
