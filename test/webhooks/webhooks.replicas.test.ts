/**
 * Webhooks across replicas and at the edges of an attempt: two keys
 * instances share the durable consumer and the delivery rows (each event
 * reaches an endpoint once); an attempt that outlives WEBHOOK_TIMEOUT_MS is
 * logged as a timeout and retried; a stopped replica gives its attempts in
 * flight back; the keys NATS identity may use the webhooks consumer only.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { connect, ErrorCode, type NatsError } from "nats";
import { keyStreamOf, WEBHOOK_CONSUMER } from "@riskinmind/contracts";
import { natsOptions, newOwner, useKeysStack, waitFor } from "@riskinmind/testkit";
import { deliveries, FAST_WEBHOOKS, keyEvent, publishEvent, receiver, register, type Receiver } from "./helpers";

// A short per-attempt limit: the never-answering receiver below times out.
const SHORT = { ...FAST_WEBHOOKS, WEBHOOK_TIMEOUT_MS: "300" };
const env = useKeysStack(SHORT);
const receivers: Receiver[] = [];
afterAll(() => {
  for (const r of receivers) r.stop();
});

describe("replicas", () => {
  test("two replicas: each of 20 events reaches the endpoint once", async () => {
    const b = await env.start(SHORT);
    const o = await newOwner();
    const r = receiver();
    receivers.push(r);
    const w = (await register(b, o, { url: r.url, events: ["*"] })).body.data;
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const ev = keyEvent(o.sub, "key.updated");
      ids.push(ev.id);
      await publishEvent(env.nc, env.topo, ev);
    }
    await waitFor(
      async () => {
        const d = (await deliveries(env.a, o, w.id, "?limit=100")).body.data;
        return d.length === 20 && d.every((x: { status: string }) => x.status === "delivered");
      },
      15_000,
      "twenty delivered",
    );
    expect(r.received.map((x) => x.headers["webhook-id"]).sort()).toEqual([...ids].sort());
    await b.close();
  });

  test("a replica stopped mid-attempt gives the delivery back; another replica delivers it", async () => {
    const o = await newOwner();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The first request is held until the test lets it go; later ones are answered at once.
    const r = receiver(async (n) => {
      if (n === 0) await held;
      return new Response("ok");
    });
    receivers.push(r);
    // Only replica b runs while the event arrives: a is stopped first.
    await env.a.service.stop();
    const b = await env.start({ ...SHORT, WEBHOOK_TIMEOUT_MS: "60000" });
    const w = (await register(b, o, { url: r.url, events: ["*"] })).body.data;
    await publishEvent(env.nc, env.topo, keyEvent(o.sub));
    await waitFor(() => r.received.length === 1, 10_000, "b's attempt, held");
    await b.close();
    release();
    const [row] = await env.sql`select status, attempts, lease from keys.webhook_deliveries where endpoint_id = ${w.id}`;
    // Given back: not counted as an attempt, no lease, due now (not after the lease's end).
    expect(row).toMatchObject({ status: "pending", attempts: 0, lease: null });
    const c = await env.start(SHORT);
    await waitFor(async () => (await deliveries(c, o, w.id)).body.data?.[0]?.status === "delivered", 10_000, "delivered by another replica");
    const [d] = (await deliveries(c, o, w.id)).body.data;
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0].statusCode).toBe(200);
    await c.close();

    // The first replica, started again, delivers again (its loop restarts with it).
    await env.a.service.start();
    const later = keyEvent(o.sub, "key.revoked");
    await publishEvent(env.nc, env.topo, later);
    await waitFor(() => r.received.some((x) => x.headers["webhook-id"] === later.id), 10_000, "a delivery after the restart");
  });
});

describe("attempts", () => {
  test("a receiver that never answers: each attempt ends as a timeout, then the delivery is failed", async () => {
    const o = await newOwner();
    const r = receiver(() => new Promise<Response>(() => {}));
    receivers.push(r);
    const w = (await register(env.a, o, { url: r.url, events: ["*"] })).body.data;
    await publishEvent(env.nc, env.topo, keyEvent(o.sub));
    await waitFor(async () => (await deliveries(env.a, o, w.id)).body.data?.[0]?.status === "failed", 20_000, "failed after timeouts");
    const [d] = (await deliveries(env.a, o, w.id)).body.data;
    expect(d.attempts).toHaveLength(4);
    for (const a of d.attempts) expect(a).toMatchObject({ statusCode: null, error: "timeout after 300 ms" });
  });

  test("a redirect is not followed: a 3xx is a failed attempt", async () => {
    const o = await newOwner();
    const target = receiver();
    const r = receiver(() => new Response(null, { status: 307, headers: { location: target.url } }));
    receivers.push(r, target);
    const w = (await register(env.a, o, { url: r.url, events: ["*"] })).body.data;
    await publishEvent(env.nc, env.topo, keyEvent(o.sub));
    await waitFor(async () => (await deliveries(env.a, o, w.id)).body.data?.[0]?.status === "failed", 15_000, "failed");
    const [d] = (await deliveries(env.a, o, w.id)).body.data;
    expect(d.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([307, 307, 307, 307]);
    expect(target.received).toHaveLength(0);
  });
});

describe("NATS permissions of the keys identity", () => {
  test("may not delete the key-events stream nor read another consumer of it", async () => {
    const nc = await connect(natsOptions("keys", { name: "perm-keys-webhooks" }));
    try {
      const stream = keyStreamOf(env.topo);
      for (const subject of [`$JS.API.STREAM.DELETE.${stream}`, `$JS.API.CONSUMER.INFO.${stream}.other`, `$JS.API.CONSUMER.MSG.NEXT.${stream}.other`, `$JS.API.STREAM.MSG.GET.${stream}`]) {
        const err = await nc.request(subject, "{}", { timeout: 5_000 }).then(
          () => undefined,
          (e: NatsError) => e,
        );
        expect([subject, err?.code]).toEqual([subject, ErrorCode.PermissionsViolation]);
      }
      // Its own consumer it may read.
      const info = await nc.request(`$JS.API.CONSUMER.INFO.${stream}.${WEBHOOK_CONSUMER}`, "", { timeout: 5_000 });
      expect(info.json<{ name?: string }>().name).toBe(WEBHOOK_CONSUMER);
    } finally {
      await nc.close();
    }
  });
});
