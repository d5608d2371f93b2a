/**
 * The whole path of issue 13, with nothing published by hand: a change an
 * owner makes over HTTP commits its audit entry and outbox row, the outbox
 * publisher puts the event on the key-events stream, the webhook dispatcher
 * fans it out, and the worker POSTs it, signed, to the owner's endpoint. A
 * revoke by value (a reporter) and a key's expiry (the system) arrive the
 * same way. Real HTTP, Postgres and JetStream; the receivers are on loopback.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { newOwner, useKeysStack, waitFor } from "@riskinmind/testkit";
import { FAST_WEBHOOKS, receiver, register, verifySignature, type Receiver } from "./helpers";

const env = useKeysStack({ ...FAST_WEBHOOKS, RATE_LIMIT_PER_MINUTE: "1000", LIFECYCLE_SWEEP_MS: "100" });
const receivers: Receiver[] = [];
afterAll(() => {
  for (const r of receivers) r.stop();
});

const typesOf = (r: Receiver) => r.received.map((x) => JSON.parse(x.body).type as string);

describe("key changes reach webhooks through the outbox", () => {
  test("generate, PATCH, regenerate, revoke by value, expiry: each arrives once, signed, in order, with the audit entry's action and actor", async () => {
    const o = await newOwner("e2e");
    const rx = receiver();
    receivers.push(rx);
    const reg = await register(env.a, o, { url: rx.url, events: ["*"] });
    expect(reg.status).toBe(201);
    const secret = reg.body.data.secret as string;

    const g = await env.a.generate(o, { label: "first" });
    expect(g.status).toBe(201);
    expect((await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: { label: "second" } })).status).toBe(200);
    const r = await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { expiresAt: new Date(Date.now() + 1_500).toISOString() } });
    expect(r.status).toBe(200);
    await waitFor(() => rx.received.length >= 4, 15_000, "the expiry of the regenerated key");
    // Someone finds the expired key and revokes it by value: an ACTIVE key, so it is revoked now.
    const by = await env.a.call("POST", "/api/v1/keys/revoke-by-value", { json: { credentials: [r.body.data.apiKey] } });
    expect(by.status).toBe(202);
    await waitFor(() => rx.received.length >= 5, 15_000, "five deliveries");

    expect(typesOf(rx)).toEqual(["key.created", "key.updated", "key.rotated", "key.expired", "key.leaked"]);
    const bodies = rx.received.map((x) => JSON.parse(x.body));
    expect(bodies.map((b) => b.data.action)).toEqual(["key.generated", "key.updated", "key.regenerated", "key.expired", "key.leak_revoked"]);
    expect(bodies.map((b) => b.data.actor.type)).toEqual(["owner", "owner", "owner", "system", "reporter"]);
    for (const x of rx.received) {
      expect(verifySignature(secret, x.headers, x.body)).toBe(true);
      // Never the key, nor its hash.
      expect(x.body).not.toContain(r.body.data.apiKey);
      expect(x.body).not.toContain(g.body.data.apiKey);
    }
    // One delivery per event: the ids are distinct and each is the stream's event id.
    expect(new Set(rx.received.map((x) => x.headers["webhook-id"])).size).toBe(5);
    // The audit log holds the same five changes, and each event names its entry's action.
    const audit = await env.a.call("GET", "/api/v1/keys/audit?limit=10", { headers: o.headers });
    expect(audit.status).toBe(200);
    expect((audit.body.data as { action: string }[]).map((e) => e.action).reverse()).toEqual(bodies.map((b) => b.data.action));
  });
});
