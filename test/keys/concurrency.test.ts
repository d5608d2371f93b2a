import { describe, expect, test } from "bun:test";
import { useKeysStack, newOwner } from "@riskinmind/testkit";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "10000", DB_POOL_MAX: "10" });

describe("one active key per owner under concurrency", () => {
  test("50 concurrent generates for one owner give exactly one 201 and 49 409 ACTIVE_KEY_EXISTS", async () => {
    const o = await newOwner();
    const rs = await Promise.all(Array.from({ length: 50 }, () => env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers })));
    const statuses = rs.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of rs.filter((r) => r.status === 409)) expect(r.body.error.code).toBe("ACTIVE_KEY_EXISTS");
    const rows = await env.sql`select status from keys.api_keys where owner_id = ${o.sub}`;
    expect(rows.map((r) => r.status)).toEqual(["ACTIVE"]);
  });

  test("25 concurrent regenerates leave exactly one ACTIVE key, one of those returned; every other returned key is refused by keys.verify", async () => {
    const o = await newOwner();
    await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers });
    const rs = await Promise.all(Array.from({ length: 25 }, () => env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers })));
    expect(rs.map((r) => r.status)).toEqual(Array(25).fill(200));
    const active = await env.sql`select id from keys.api_keys where owner_id = ${o.sub} and status = 'ACTIVE'`;
    expect(active).toHaveLength(1);
    const returned = rs.map((r) => r.body.data as { apiKey: string; keyId: string });
    const winner = returned.filter((k) => k.keyId === active[0]!.id);
    expect(winner).toHaveLength(1);
    for (const k of returned) {
      const v = await env.verify(k.apiKey);
      if (k.keyId === active[0]!.id) expect(v).toMatchObject({ valid: true, keyId: k.keyId, ownerId: o.sub });
      else expect(v).toEqual({ valid: false, code: "KEY_REVOKED" });
    }
    const current = await env.a.call("GET", "/api/v1/keys/", { headers: o.headers });
    expect(current.body.data.keyId).toBe(active[0]!.id);
  });

  test("60 concurrent generate/regenerate/revoke calls interleaved: at most one active key, and every returned key is active or refused", async () => {
    const o = await newOwner();
    const verbs = ["generate", "regenerate", "revoke"];
    const rs = await Promise.all(Array.from({ length: 60 }, (_, i) => env.a.call("POST", `/api/v1/keys/${verbs[(i * 7) % 3]}`, { headers: o.headers })));
    for (const r of rs) expect([200, 201, 404, 409]).toContain(r.status);
    const active = await env.sql`select id from keys.api_keys where owner_id = ${o.sub} and status = 'ACTIVE'`;
    expect(active.length).toBeLessThanOrEqual(1);
    const issued = rs
      .filter((r) => r.status === 200 || r.status === 201)
      .map((r) => r.body.data)
      .filter(Boolean);
    for (const k of issued) {
      const v = await env.verify(k.apiKey);
      expect(v.valid).toBe(active[0]?.id === k.keyId);
    }
  });
});
