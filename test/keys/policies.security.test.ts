/**
 * Key policies and owners (issue 11): an owner's PATCH or ?mode= reaches only
 * its own key slots; the answers and keys.verify never carry a key or its hash.
 */
import { describe, expect, test } from "bun:test";
import { hashKey } from "@riskinmind/contracts";
import { newOwner, useKeysStack } from "@riskinmind/testkit";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000" });

describe("policies stay inside the owner's own slots", () => {
  test("another owner's PATCH (any mode) never reaches this owner's key", async () => {
    const alice = await newOwner();
    const bob = await newOwner();
    const a = (await env.a.call("POST", "/api/v1/keys/generate", { headers: alice.headers, json: { scopes: ["alice:only"] } })).body.data;
    for (const mode of ["live", "test"]) {
      const r = await env.a.call("PATCH", `/api/v1/keys/?mode=${mode}`, { headers: bob.headers, json: { scopes: ["*"], ipAllowlist: ["0.0.0.0/0"] } });
      expect(r.status).toBe(404);
    }
    expect(await env.verify(a.apiKey)).toMatchObject({ valid: true, ownerId: alice.sub, scopes: ["alice:only"], ipAllowlist: [] });
  });

  test("GET, PATCH and keys.verify answers never carry the key or its hash", async () => {
    const o = await newOwner();
    const g = (await env.a.call("POST", "/api/v1/keys/generate?mode=test", { headers: o.headers, json: { rateLimit: { limit: 1, windowSeconds: 1 } } })).body.data;
    const hex = hashKey(g.apiKey).toString("hex");
    const texts = [
      JSON.stringify((await env.a.call("GET", "/api/v1/keys/?mode=test", { headers: o.headers })).body),
      JSON.stringify((await env.a.call("PATCH", "/api/v1/keys/?mode=test", { headers: o.headers, json: { label: "x" } })).body),
      JSON.stringify(await env.verify(g.apiKey)),
    ];
    for (const t of texts) {
      expect(t).not.toContain(g.apiKey.slice(8, 40));
      expect(t).not.toContain(hex);
    }
  });
});
