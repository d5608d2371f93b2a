/**
 * POST /api/v1/keys/revoke-by-value on a real keys service over HTTP, real
 * Postgres and NATS: anyone holding a key can end it, without a JWT; the
 * answer is the same 202 whether the credentials were keys or not; a bad body
 * is a 400 that changes nothing; each client address (TCP peer) has its own
 * rate limit.
 */
import { describe, expect, test } from "bun:test";
import { REVOKE_BY_VALUE_MESSAGE } from "@riskinmind/contracts";
import { isEnvelope, issueKey, newOwner, useKeysStack } from "@riskinmind/testkit";
import { BY_VALUE, postFrom, wellFormedNonKey } from "./helpers";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000", REVOKE_BY_VALUE_PER_MINUTE: "1000" });

const byValue = (json: unknown, headers: Record<string, string> = {}) => env.a.call("POST", BY_VALUE, { json, headers });
const auditOf = (keyId: string) =>
  env.sql<{ actor_type: string; actor_id: string; action: string }[]>`select actor_type, actor_id, action from keys.audit_log where key_id = ${keyId} and action = 'key.leak_revoked'`;

describe("revoke by value", () => {
  test("a live key is revoked at once; the answer is byte for byte the one a non-key gets", async () => {
    const owner = await newOwner("found");
    const k = await issueKey(env.a, owner);
    expect((await env.verify(k.apiKey)).valid).toBe(true);

    const hit = await byValue({ credentials: [k.apiKey] });
    const miss = await byValue({ credentials: [wellFormedNonKey()] });
    const garbage = await byValue({ credentials: ["not-a-key-at-all"] });
    const again = await byValue({ credentials: [k.apiKey] });
    for (const r of [hit, miss, garbage, again]) {
      expect(r.status).toBe(202);
      expect(r.body).toEqual({ success: true, message: REVOKE_BY_VALUE_MESSAGE });
    }
    expect(new Set([hit.text, miss.text, garbage.text, again.text]).size).toBe(1);
    expect(hit.headers.get("content-type")).toBe(miss.headers.get("content-type"));

    expect(await env.verify(k.apiKey)).toMatchObject({ valid: false });
    expect((await env.a.list(owner)).status).toBe(404);
    // Audited once (the second request found it dead), with the reporter as actor.
    expect([...(await auditOf(k.keyId))]).toEqual([{ actor_type: "reporter", actor_id: "revoke-by-value", action: "key.leak_revoked" }]);
  });

  test("several credentials at once, a test key and a key in its grace period among them", async () => {
    const a = await newOwner("multi");
    const testKey = (await env.a.call("POST", "/api/v1/keys/generate?mode=test", { headers: a.headers })).body.data as { apiKey: string; keyId: string };
    const old = await issueKey(env.a, a);
    const rot = await env.a.regenerate(a, { gracePeriodSeconds: 600 } as never);
    const fresh = (rot.body as { data: { apiKey: string } }).data.apiKey;
    expect((await env.verify(old.apiKey)).valid).toBe(true);

    const r = await byValue({ credentials: [testKey.apiKey, old.apiKey, wellFormedNonKey("test")] });
    expect(r.status).toBe(202);
    expect(await env.verify(testKey.apiKey)).toMatchObject({ valid: false });
    expect(await env.verify(old.apiKey)).toMatchObject({ valid: false });
    expect(await env.verify(fresh)).toMatchObject({ valid: true });
  });

  test("no JWT is needed, and one sent changes nothing", async () => {
    const k = await issueKey(env.a, await newOwner("jwt"));
    const stranger = await newOwner("stranger");
    const r = await byValue({ credentials: [k.apiKey] }, stranger.headers);
    expect(r.status).toBe(202);
    expect(await env.verify(k.apiKey)).toMatchObject({ valid: false });
  });
});

describe("a bad body: 400 and nothing revoked", () => {
  const cases: [string, (key: string) => unknown, string][] = [
    ["no credentials field", () => ({}), "VALIDATION_ERROR"],
    ["an empty list", () => ({ credentials: [] }), "VALIDATION_ERROR"],
    ["101 credentials", (key) => ({ credentials: [key, ...Array.from({ length: 100 }, (_, i) => `c${i}`)] }), "VALIDATION_ERROR"],
    ["a credential that is not a string", (key) => ({ credentials: [key, 42] }), "VALIDATION_ERROR"],
    ["an empty string", (key) => ({ credentials: [key, ""] }), "VALIDATION_ERROR"],
    ["an unknown field", (key) => ({ credentials: [key], owner: "x" }), "VALIDATION_ERROR"],
    ["a bare array", (key) => [key], "VALIDATION_ERROR"],
  ];
  for (const [name, body, code] of cases) {
    test(name, async () => {
      const k = await issueKey(env.a, await newOwner("bad"));
      const r = await byValue(body(k.apiKey));
      expect(r.status).toBe(400);
      expect(isEnvelope(r.body)).toBe(true);
      expect(r.body).toMatchObject({ error: { code } });
      expect(r.text).not.toContain(k.apiKey);
      expect(await env.verify(k.apiKey)).toMatchObject({ valid: true });
    });
  }

  test("not JSON, and no body at all", async () => {
    const k = await issueKey(env.a, await newOwner("bad"));
    const broken = await env.a.call("POST", BY_VALUE, { headers: { "content-type": "application/json" }, body: `{"credentials":["${k.apiKey}"` });
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ error: { code: "MALFORMED_JSON" } });
    const empty = await env.a.call("POST", BY_VALUE);
    expect(empty.status).toBe(400);
    expect(await env.verify(k.apiKey)).toMatchObject({ valid: true });
  });
});

describe("rate limit per client address", () => {
  test("an address over its limit gets 429 with Retry-After and revokes nothing; another address is unaffected", async () => {
    const limited = await env.start({ REVOKE_BY_VALUE_PER_MINUTE: "3" });
    const k = await issueKey(env.a, await newOwner("limited"));
    for (let i = 0; i < 3; i++) expect((await postFrom("127.0.0.2", limited.url, BY_VALUE, { credentials: [wellFormedNonKey()] })).status).toBe(202);

    const refused = await postFrom("127.0.0.2", limited.url, BY_VALUE, { credentials: [k.apiKey] });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    const body = JSON.parse(refused.text);
    expect(isEnvelope(body)).toBe(true);
    expect(body.error.code).toBe("RATE_LIMITED");
    expect(await env.verify(k.apiKey)).toMatchObject({ valid: true });

    // Another TCP peer has a bucket of its own.
    const other = await postFrom("127.0.0.3", limited.url, BY_VALUE, { credentials: [k.apiKey] });
    expect(other.status).toBe(202);
    expect(await env.verify(k.apiKey)).toMatchObject({ valid: false });
  });

  test("X-Forwarded-For does not escape the limit", async () => {
    const limited = await env.start({ REVOKE_BY_VALUE_PER_MINUTE: "1" });
    expect((await postFrom("127.0.0.4", limited.url, BY_VALUE, { credentials: ["x"] })).status).toBe(202);
    const r = await limited.call("POST", BY_VALUE, { json: { credentials: ["x"] }, headers: { "x-forwarded-for": "198.51.100.7" } });
    // From 127.0.0.1 (fresh bucket): allowed once; the same peer again is refused whatever it forwards.
    expect(r.status).toBe(202);
    const r2 = await limited.call("POST", BY_VALUE, { json: { credentials: ["x"] }, headers: { "x-forwarded-for": "198.51.100.8" } });
    expect(r2.status).toBe(429);
  });
});
