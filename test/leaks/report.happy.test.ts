/**
 * Signed leak reports (POST /api/v1/keys/leaks, GitHub's secret-scanning
 * partner format) on a real keys service over HTTP, real Postgres and NATS:
 * each match is labelled in order, every active key found is revoked at once
 * (keys.verify refuses it), audited with the reporter as actor and announced
 * as a key.leaked event; the answer names no owner and no key.
 */
import { describe, expect, test } from "bun:test";
import { hashKey } from "@riskinmind/contracts";
import { issueKey, newOwner, useKeysStack } from "@riskinmind/testkit";
import { publishedEventsOf } from "../audit/helpers";
import { newReporter, postReport, reportKeysEnv, reportOf, wellFormedNonKey } from "./helpers";

const github = newReporter();
const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000", LEAK_REPORT_PUBLIC_KEYS: reportKeysEnv(github) });

const sha256 = (t: string) => hashKey(t).toString("hex");
const leakRows = (keyId: string) =>
  env.sql<{ actor_type: string; actor_id: string; changes: Record<string, unknown>; ip: string | null; request_id: string | null }[]>`
    select actor_type, actor_id, changes, ip, request_id from keys.audit_log where key_id = ${keyId} and action = 'key.leak_revoked'`;

describe("a signed report", () => {
  test("labels each match in order, revokes the live key and the test key, and names no owner or key", async () => {
    const alice = await newOwner("alice");
    const live = await issueKey(env.a, alice);
    const testKey = (await env.a.call("POST", "/api/v1/keys/generate?mode=test", { headers: alice.headers })).body.data as { apiKey: string; keyId: string };
    const bob = await newOwner("bob");
    const dead = await issueKey(env.a, bob);
    expect((await env.a.revoke(bob)).status).toBe(200);
    const stranger = wellFormedNonKey();
    const garbage = "definitely-not-a-key";
    expect((await env.verify(live.apiKey)).valid).toBe(true);
    expect((await env.verify(testKey.apiKey)).valid).toBe(true);

    const tokens = [live.apiKey, testKey.apiKey, dead.apiKey, stranger, garbage, live.apiKey];
    const r = await postReport(env.a, reportOf(tokens), github);
    expect(r.status).toBe(200);
    expect(r.body).toEqual([
      { token_hash: sha256(live.apiKey), token_type: "riskinmind_api_key", label: "true_positive" },
      { token_hash: sha256(testKey.apiKey), token_type: "riskinmind_api_key", label: "true_positive" },
      { token_hash: sha256(dead.apiKey), token_type: "riskinmind_api_key", label: "true_positive" },
      { token_hash: sha256(stranger), token_type: "riskinmind_api_key", label: "false_positive" },
      { token_hash: sha256(garbage), token_type: "riskinmind_api_key", label: "false_positive" },
      { token_hash: sha256(live.apiKey), token_type: "riskinmind_api_key", label: "true_positive" },
    ]);
    for (const secret of [alice.sub, bob.sub, live.keyId, testKey.keyId, dead.keyId, live.apiKey]) expect(r.text).not.toContain(secret);

    // Refused everywhere once the answer is out: keys.verify over NATS, no waiting.
    expect(await env.verify(live.apiKey)).toMatchObject({ valid: false });
    expect(await env.verify(testKey.apiKey)).toMatchObject({ valid: false });
    expect((await env.a.list(alice)).status).toBe(404);

    // One audit entry per key, though the live key was reported twice; the reporter is the actor; the token is nowhere in it.
    const rows = await leakRows(live.keyId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_type: "reporter", actor_id: `github:${github.id}`, ip: "127.0.0.1" });
    expect(rows[0]!.request_id).toEqual(expect.any(String));
    expect(rows[0]!.changes).toEqual({ source: "content", url: "https://github.com/octo/repo/blob/main/file0.env", ended: "active" });
    expect(await leakRows(testKey.keyId)).toHaveLength(1);
    // Already revoked by its owner: labelled, not revoked again.
    expect(await leakRows(dead.keyId)).toHaveLength(0);

    // One key.leaked event on the stream (committed with the revocation), without the key or its hash.
    const events = (await publishedEventsOf(env, alice.sub, "leaked")).filter((e) => e.data.keyId === live.keyId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "key.leaked", data: { ownerId: alice.sub, action: "key.leak_revoked", actor: { type: "reporter", id: `github:${github.id}` } } });
    expect(JSON.stringify(events[0])).not.toContain(live.apiKey);
    expect(JSON.stringify(events[0])).not.toContain(sha256(live.apiKey));
  });

  test("a rotated-out key still in its grace period is ended at once; the new key keeps working", async () => {
    const carol = await newOwner("carol");
    const old = await issueKey(env.a, carol);
    const r1 = await env.a.regenerate(carol, { gracePeriodSeconds: 3600 } as never);
    expect(r1.status).toBe(200);
    const fresh = (r1.body as { data: { apiKey: string } }).data.apiKey;
    expect((await env.verify(old.apiKey)).valid).toBe(true);

    const r = await postReport(env.a, reportOf([old.apiKey]), github);
    expect(r.status).toBe(200);
    expect(r.body).toEqual([{ token_hash: sha256(old.apiKey), token_type: "riskinmind_api_key", label: "true_positive" }]);
    expect(await env.verify(old.apiKey)).toMatchObject({ valid: false });
    expect(await env.verify(fresh)).toMatchObject({ valid: true });
    const rows = await leakRows(old.keyId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.changes).toMatchObject({ ended: "grace_period" });
  });

  test("an empty report is answered with an empty list", async () => {
    const r = await postReport(env.a, "[]", github);
    expect(r.status).toBe(200);
    expect(r.body).toEqual([]);
  });

  test("report text shaped like a key never reaches the audit entry", async () => {
    const dave = await newOwner("dave");
    const k = await issueKey(env.a, dave);
    const body = JSON.stringify([{ token: k.apiKey, type: "riskinmind_api_key", url: `https://example.test/?k=${k.apiKey}`, source: "x".repeat(3000).slice(0, 200) }]);
    expect((await postReport(env.a, body, github)).status).toBe(200);
    const [row] = await leakRows(k.keyId);
    expect(JSON.stringify(row!.changes)).not.toContain(k.apiKey);
    expect(row!.changes.url).toBe("https://example.test/?k=[redacted]");
  });
});
