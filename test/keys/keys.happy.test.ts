import { describe, expect, test } from "bun:test";
import { isWellFormedKey, KEY_PATTERN } from "@riskinmind/contracts";
import { useKeysStack, newOwner, waitFor, issueKey } from "@riskinmind/testkit";

const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const env = useKeysStack();

const UNRESTRICTED = { mode: "live", expiresAt: null, scopes: ["*"], ipAllowlist: [], rateLimit: null, quota: null, previousKey: null };

describe("key lifecycle over HTTP", () => {
  test("generate returns 201 with a well-formed key shown once, and GET / shows its snippet (with and without trailing slash)", async () => {
    const o = await newOwner();
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: { label: "Production Application Key" } });
    expect(g.status).toBe(201);
    expect(g.body.success).toBe(true);
    const k = g.body.data;
    expect(KEY_PATTERN.test(k.apiKey)).toBe(true);
    expect(isWellFormedKey(k.apiKey)).toBe(true);
    expect(k.keyId).toMatch(/^key_[0-9A-Za-z]+$/);
    expect(k.createdAt).toMatch(ISO_Z);
    expect(k.keySnippet).toBe(`sk_live_...${k.apiKey.slice(-4)}`);
    expect(k.label).toBe("Production Application Key");
    expect(k).toMatchObject(UNRESTRICTED);
    expect(g.headers.get("cache-control")).toBe("no-store");

    for (const path of ["/api/v1/keys/", "/api/v1/keys"]) {
      const c = await env.a.call("GET", path, { headers: o.headers });
      expect(c.status).toBe(200);
      expect(c.body).toEqual({
        success: true,
        // The spec's fields, then the policy fields a caller who sends nothing new gets: no restriction, live.
        data: {
          keyId: k.keyId,
          keySnippet: k.keySnippet,
          status: "ACTIVE",
          createdAt: k.createdAt,
          label: "Production Application Key",
          lastUsedAt: null,
          ...UNRESTRICTED,
        },
      });
      expect(JSON.stringify(c.body)).not.toContain(k.apiKey);
    }
  });

  test("generate without a body issues a key with a null label", async () => {
    const o = await newOwner();
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers });
    expect(g.status).toBe(201);
    expect(g.body.data.label).toBeNull();
  });

  test("regenerate revokes the old key and issues a new active one; the old one is refused by keys.verify", async () => {
    const o = await newOwner();
    const first = await issueKey(env.a, o);
    expect(await env.verify(first.apiKey)).toMatchObject({ valid: true, keyId: first.keyId, ownerId: o.sub });
    const r = await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { label: "rotated" } });
    expect(r.status).toBe(200);
    expect(r.body.data.message).toBe("Key regenerated successfully.");
    expect(r.body.data.apiKey).not.toBe(first.apiKey);
    expect(r.body.data.label).toBe("rotated");
    expect(r.body.data.createdAt).toMatch(ISO_Z);
    expect(await env.verify(first.apiKey)).toEqual({ valid: false, code: "KEY_REVOKED" });
    expect(await env.verify(r.body.data.apiKey)).toMatchObject({ valid: true, keyId: r.body.data.keyId, ownerId: o.sub });
    const c = await env.a.call("GET", "/api/v1/keys/", { headers: o.headers });
    expect(c.body.data.keyId).toBe(r.body.data.keyId);
  });

  test("regenerate with no active key simply issues one", async () => {
    const o = await newOwner();
    const r = await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers });
    expect(r.status).toBe(200);
    expect(await env.verify(r.body.data.apiKey)).toMatchObject({ valid: true, ownerId: o.sub });
  });

  test("revoke answers 200 with the spec's message, then GET / is 404 and the key is refused", async () => {
    const o = await newOwner();
    const k = await issueKey(env.a, o);
    const r = await env.a.call("POST", "/api/v1/keys/revoke", { headers: o.headers });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ success: true, message: "API Key revoked successfully." });
    expect((await env.a.call("GET", "/api/v1/keys/", { headers: o.headers })).status).toBe(404);
    expect(await env.verify(k.apiKey)).toEqual({ valid: false, code: "KEY_REVOKED" });
    // After a revoke, generate is allowed again.
    expect((await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers })).status).toBe(201);
  });

  test("the database stores only the SHA-256 of a key, never its plaintext", async () => {
    const o = await newOwner();
    const k = await issueKey(env.a, o);
    const rows = await env.sql`select * from keys.api_keys`;
    const dump = JSON.stringify(rows, (_k, v) => (v && v.type === "Buffer" ? Buffer.from(v.data).toString("latin1") : v));
    expect(dump).not.toContain(k.apiKey);
    expect(dump).not.toContain(k.apiKey.slice(8, 30));
    const [row] = await env.sql`select key_hash from keys.api_keys where id = ${k.keyId}`;
    expect(Buffer.from(row!.key_hash).toString("hex")).toBe(new Bun.CryptoHasher("sha256").update(k.apiKey).digest("hex"));
  });

  test("a verified key gets last_used_at written by the batched flush, and GET / shows it", async () => {
    const o = await newOwner();
    const k = await issueKey(env.a, o);
    expect((await env.verify(k.apiKey)).valid).toBe(true);
    await waitFor(
      async () => {
        const c = await env.a.call("GET", "/api/v1/keys/", { headers: o.headers });
        return typeof c.body.data.lastUsedAt === "string";
      },
      15_000,
      "last_used_at flush",
    );
    const c = await env.a.call("GET", "/api/v1/keys/", { headers: o.headers });
    expect(c.body.data.lastUsedAt).toMatch(ISO_Z);
  });
});
