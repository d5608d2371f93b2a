/**
 * Webhooks end to end: endpoints registered over HTTP, key events published
 * onto the real JetStream stream, deliveries POSTed to real receivers on
 * loopback, every attempt readable through the deliveries route.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { freePort, newOwner, useKeysStack, waitFor } from "@riskinmind/testkit";
import { deliveries, FAST_WEBHOOKS, keyEvent, publishEvent, receiver, register, verifySignature, type Receiver } from "./helpers";

const env = useKeysStack(FAST_WEBHOOKS);
const receivers: Receiver[] = [];
const rx = (...a: Parameters<typeof receiver>) => {
  const r = receiver(...a);
  receivers.push(r);
  return r;
};
afterAll(() => {
  for (const r of receivers) r.stop();
});

const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("endpoints", () => {
  test("register answers 201 with the endpoint and a whsec_ secret; list shows it without the secret; delete removes it", async () => {
    const o = await newOwner();
    const r = await register(env.a, o, { url: "http://127.0.0.1:9/hook", events: ["key.created", "key.revoked"], description: "ops" });
    expect(r.status).toBe(201);
    const d = r.body.data;
    expect(d.id).toMatch(/^wh_[0-9A-Za-z]+$/);
    expect(d).toMatchObject({ url: "http://127.0.0.1:9/hook", events: ["key.created", "key.revoked"], description: "ops", mode: "live" });
    expect(d.createdAt).toMatch(ISO_Z);
    expect(d.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(d.secret.slice(6), "base64").length).toBe(32);

    const list = await env.a.call("GET", "/api/v1/keys/webhooks", { headers: o.headers });
    expect(list.status).toBe(200);
    const { secret: _s, ...shown } = d;
    expect(list.body).toEqual({ success: true, data: [shown] });

    const del = await env.a.call("DELETE", `/api/v1/keys/webhooks/${d.id}`, { headers: o.headers });
    expect(del.status).toBe(200);
    expect(del.body.success).toBe(true);
    expect((await env.a.call("GET", "/api/v1/keys/webhooks", { headers: o.headers })).body.data).toEqual([]);
    expect((await env.a.call("DELETE", `/api/v1/keys/webhooks/${d.id}`, { headers: o.headers })).status).toBe(404);
  });

  test('["*"] and mode test are kept as sent', async () => {
    const o = await newOwner();
    const r = await register(env.a, o, { url: "http://127.0.0.1:9/all", events: ["*"], mode: "test" });
    expect(r.status).toBe(201);
    expect(r.body.data).toMatchObject({ events: ["*"], mode: "test", description: null });
  });
});

describe("deliveries", () => {
  test("an event reaches the owner's subscribed endpoint, signed; not other owners', not unsubscribed types, not the other mode", async () => {
    const [o, other] = [await newOwner(), await newOwner()];
    const mine = rx();
    const unsubscribed = rx();
    const testMode = rx();
    const others = rx();
    const m = (await register(env.a, o, { url: mine.url, events: ["key.created"] })).body.data;
    await register(env.a, o, { url: unsubscribed.url, events: ["key.revoked"] });
    await register(env.a, o, { url: testMode.url, events: ["*"], mode: "test" });
    await register(env.a, other, { url: others.url, events: ["*"] });

    const ev = keyEvent(o.sub, "key.created");
    await publishEvent(env.nc, env.topo, ev);
    await waitFor(() => mine.received.length === 1, 10_000, "the delivery");
    const got = mine.received[0]!;
    expect(JSON.parse(got.body)).toEqual(ev);
    expect(got.headers["webhook-id"]).toBe(ev.id);
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers["user-agent"]).toBe("RiskInMind-Webhooks/1");
    expect(Math.abs(Number(got.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(300);
    expect(got.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifySignature(m.secret, got.headers, got.body)).toBe(true);
    // The signature covers the body: a changed byte fails the same check.
    expect(verifySignature(m.secret, got.headers, got.body.replace(o.sub, `${o.sub}x`))).toBe(false);

    await waitFor(async () => (await deliveries(env.a, o, m.id)).body.data?.[0]?.status === "delivered", 10_000, "delivered status");
    const page = await deliveries(env.a, o, m.id);
    expect(page.body.data).toHaveLength(1);
    expect(page.body.data[0]).toMatchObject({ eventId: ev.id, eventType: "key.created", status: "delivered", nextAttemptAt: null });
    expect(page.body.data[0].attempts).toHaveLength(1);
    expect(page.body.data[0].attempts[0]).toMatchObject({ statusCode: 200, error: null });
    expect(page.body.data[0].attempts[0].at).toMatch(ISO_Z);

    // A later event for the other owner arrives there: by then the stream has
    // been read past ours, so the three silent receivers really got nothing.
    const fence = keyEvent(other.sub, "key.revoked");
    await publishEvent(env.nc, env.topo, fence);
    await waitFor(() => others.received.length === 1, 10_000, "the other owner's delivery");
    expect(JSON.parse(others.received[0]!.body).id).toBe(fence.id);
    expect(unsubscribed.received).toHaveLength(0);
    expect(testMode.received).toHaveLength(0);
    expect(mine.received).toHaveLength(1);
  });

  test("a redelivered or republished event is delivered once", async () => {
    const o = await newOwner();
    const r = rx();
    const m = (await register(env.a, o, { url: r.url, events: ["*"] })).body.data;
    const ev = keyEvent(o.sub, "key.updated");
    await publishEvent(env.nc, env.topo, ev);
    await waitFor(() => r.received.length === 1, 10_000, "the delivery");
    // The same event again, under a new message id (past the stream's duplicate window): the delivery row is unique.
    await env.nc.jetstream().publish(`${env.topo.prefix}keys.events.updated`, JSON.stringify(ev), { msgID: `${ev.id}-again` });
    const fence = keyEvent(o.sub, "key.revoked");
    await publishEvent(env.nc, env.topo, fence);
    await waitFor(() => r.received.length === 2, 10_000, "the fence event");
    expect(r.received.map((x) => JSON.parse(x.body).id)).toEqual([ev.id, fence.id]);
    expect((await deliveries(env.a, o, m.id)).body.data.map((d: { eventId: string }) => d.eventId)).toEqual([fence.id, ev.id]);
  });

  test("a receiver answering 500 twice then 200: three attempts logged, delivered", async () => {
    const o = await newOwner();
    const r = rx((n) => (n < 2 ? new Response("boom", { status: 500 }) : new Response("ok")));
    const m = (await register(env.a, o, { url: r.url, events: ["key.rotated"] })).body.data;
    const ev = keyEvent(o.sub, "key.rotated");
    await publishEvent(env.nc, env.topo, ev);
    await waitFor(async () => (await deliveries(env.a, o, m.id)).body.data?.[0]?.status === "delivered", 15_000, "delivered after retries");
    const [d] = (await deliveries(env.a, o, m.id)).body.data;
    expect(d.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 200]);
    expect(d.attempts.every((a: { error: null; durationMs: number }) => a.error === null && Number.isInteger(a.durationMs) && a.durationMs >= 0)).toBe(true);
    expect(r.received).toHaveLength(3);
    // Every attempt carries the same webhook-id, so the receiver can deduplicate.
    expect(new Set(r.received.map((x) => x.headers["webhook-id"]))).toEqual(new Set([ev.id]));
  });

  test("a dead receiver (port closed): every attempt of the schedule fails with an error, then the delivery is failed", async () => {
    const o = await newOwner();
    const url = `http://127.0.0.1:${freePort()}/gone`;
    const m = (await register(env.a, o, { url, events: ["key.expired"] })).body.data;
    await publishEvent(env.nc, env.topo, keyEvent(o.sub, "key.expired"));
    await waitFor(async () => (await deliveries(env.a, o, m.id)).body.data?.[0]?.status === "failed", 15_000, "failed after the schedule");
    const [d] = (await deliveries(env.a, o, m.id)).body.data;
    // 1 attempt + 3 retries (WEBHOOK_RETRY_SCHEDULE_MS=50,100,200).
    expect(d.attempts).toHaveLength(4);
    for (const a of d.attempts) {
      expect(a.statusCode).toBeNull();
      expect(typeof a.error).toBe("string");
      expect(a.error.length).toBeGreaterThan(0);
    }
    expect(d.nextAttemptAt).toBeNull();
  });

  test("deleting an endpoint stops its pending deliveries", async () => {
    const o = await newOwner();
    const r = rx(() => new Response("no", { status: 503 }));
    const m = (await register(env.a, o, { url: r.url, events: ["*"] })).body.data;
    await publishEvent(env.nc, env.topo, keyEvent(o.sub, "key.leaked"));
    await waitFor(() => r.received.length >= 1, 10_000, "a first attempt");
    expect((await env.a.call("DELETE", `/api/v1/keys/webhooks/${m.id}`, { headers: o.headers })).status).toBe(200);
    const [row] = await env.sql`select status, next_attempt_at from keys.webhook_deliveries where endpoint_id = ${m.id}`;
    expect(row).toMatchObject({ status: "failed", next_attempt_at: null });
    // Nothing is due for it any more: another owner's delivery (a later claim) goes through while this one stays failed.
    const o2 = await newOwner();
    const r2 = rx();
    await register(env.a, o2, { url: r2.url, events: ["*"] });
    await publishEvent(env.nc, env.topo, keyEvent(o2.sub));
    await waitFor(() => r2.received.length === 1, 10_000, "the fence delivery");
    const [after] = await env.sql`select status, attempts from keys.webhook_deliveries where endpoint_id = ${m.id}`;
    expect(after?.status).toBe("failed");
    const attemptsNow = Number(after?.attempts);
    const count = await env.sql`select count(*)::int as n from keys.webhook_attempts a join keys.webhook_deliveries d on d.id = a.delivery_id where d.endpoint_id = ${m.id}`;
    expect(count[0]?.n).toBe(attemptsNow);
  });

  test("the deliveries page newest first with a cursor", async () => {
    const o = await newOwner();
    const r = rx();
    const m = (await register(env.a, o, { url: r.url, events: ["*"] })).body.data;
    const evs = [keyEvent(o.sub), keyEvent(o.sub, "key.updated"), keyEvent(o.sub, "key.revoked")];
    for (const ev of evs) await publishEvent(env.nc, env.topo, ev);
    await waitFor(() => r.received.length === 3, 10_000, "three deliveries");
    const p1 = await deliveries(env.a, o, m.id, "?limit=2");
    expect(p1.status).toBe(200);
    expect(p1.body.data.map((d: { eventId: string }) => d.eventId)).toEqual([evs[2]!.id, evs[1]!.id]);
    expect(p1.body.meta.limit).toBe(2);
    expect(typeof p1.body.meta.nextCursor).toBe("string");
    const p2 = await deliveries(env.a, o, m.id, `?limit=2&cursor=${p1.body.meta.nextCursor}`);
    expect(p2.body.data.map((d: { eventId: string }) => d.eventId)).toEqual([evs[0]!.id]);
    expect(p2.body.meta.nextCursor).toBeNull();
  });

  test("a secret that no longer decrypts (the secrets key changed) fails the delivery once, without calling the target", async () => {
    const o = await newOwner();
    const r = rx();
    const m = (await register(env.a, o, { url: r.url, events: ["*"] })).body.data;
    await env.sql`update keys.webhook_endpoints set secret_enc = ${Buffer.alloc(60, 1)} where id = ${m.id}`;
    await publishEvent(env.nc, env.topo, keyEvent(o.sub));
    await waitFor(async () => (await deliveries(env.a, o, m.id)).body.data?.[0]?.status === "failed", 10_000, "failed");
    const [d] = (await deliveries(env.a, o, m.id)).body.data;
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0].error).toMatch(/cannot be decrypted/);
    expect(r.received).toHaveLength(0);
  });
});
