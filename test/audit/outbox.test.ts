/**
 * The transactional outbox (services/keys/src/events/outbox.ts): every
 * committed change of a key reaches the key-events stream exactly once, in
 * commit order, on keys.events.<type>; a rolled-back change sends nothing;
 * an event published but not yet deleted from the outbox (a crash between
 * the two) is not doubled. Real HTTP, Postgres and JetStream.
 */
import { describe, expect, test } from "bun:test";
import { keyEventSubject, keyStreamOf, type KeyEvent } from "@riskinmind/contracts";
import { newOwner, useKeysStack, waitFor } from "@riskinmind/testkit";
import { headers as natsHeaders } from "nats";
import { recordChange } from "../../services/keys/src/audit/record";
import { auditRows, countById, outboxRows, readKeyEvents, type StreamedEvent } from "./helpers";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000" });
const stream = () => keyStreamOf(env.topo);

/** The stream's events of one owner, once at least `n` of them are there. */
async function eventsOf(ownerId: string, n: number): Promise<StreamedEvent[]> {
  let mine: StreamedEvent[] = [];
  await waitFor(
    async () => {
      mine = (await readKeyEvents(env.nc, stream())).filter((e) => e.event.data.ownerId === ownerId);
      return mine.length >= n;
    },
    10_000,
    `${n} key events of ${ownerId}`,
  );
  return mine;
}

describe("one stream event per committed change", () => {
  test("generate, PATCH, regenerate, revoke: four events, each once, in order, on keys.events.<type>, with the audit entries beside them", async () => {
    const o = await newOwner("outbox");
    const g = await env.a.generate(o, { label: "ci", scopes: ["loans:predict"] });
    expect(g.status).toBe(201);
    const keyId = (g.body as { data: { keyId: string } }).data.keyId;
    const p = await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: { label: "ci-2" } });
    expect(p.status).toBe(200);
    const r = await env.a.regenerate(o);
    expect(r.status).toBe(200);
    const newKeyId = (r.body as { data: { keyId: string } }).data.keyId;
    expect((await env.a.revoke(o)).status).toBe(200);

    const events = await eventsOf(o.sub, 4);
    expect(events.map((e) => e.event.type)).toEqual(["key.created", "key.updated", "key.rotated", "key.revoked"]);
    expect(events.map((e) => e.subject)).toEqual(["created", "updated", "rotated", "revoked"].map((t) => keyEventSubject(env.topo, t)));
    expect(events.map((e) => e.event.data.keyId)).toEqual([keyId, keyId, newKeyId, newKeyId]);
    for (const [, n] of countById(events)) expect(n).toBe(1);
    // The JetStream message id is the event id (what the stream deduplicates on).
    for (const e of events) expect(e.msgId).toBe(e.event.id);
    expect(events[0]!.event.data).toMatchObject({ action: "key.generated", actor: { type: "owner", id: o.sub }, mode: "live", changes: { label: "ci", scopes: ["loans:predict"] } });
    expect(events[1]!.event.data.changes).toEqual({ label: { from: "ci", to: "ci-2" } });
    expect(events[2]!.event.data.changes).toMatchObject({ previousKeyId: keyId, graceUntil: null });

    const rows = await auditRows(env.sql, o.sub);
    expect(rows.map((x) => x.action)).toEqual(["key.generated", "key.updated", "key.regenerated", "key.revoked"]);
    // Nothing waits in the outbox once the stream acknowledged it.
    await waitFor(async () => (await outboxRows(env.sql)) === 0, 10_000, "an empty outbox");
    // Neither key nor its hash travels: the plaintext is nowhere in what the stream holds.
    const apiKey = (g.body as { data: { apiKey: string } }).data.apiKey;
    expect(JSON.stringify(events)).not.toContain(apiKey);
  });

  test("a rotated-out key whose grace a revoke ends early: key.grace_ended in the audit, a key.revoked event for that key", async () => {
    const o = await newOwner("grace");
    const first = (await env.a.generate(o)).body as { data: { keyId: string } };
    expect((await env.a.regenerate(o, { gracePeriodSeconds: 3600 } as never)).status).toBe(200);
    expect((await env.a.revoke(o)).status).toBe(200);
    const events = await eventsOf(o.sub, 4);
    expect(events.map((e) => [e.event.type, e.event.data.action])).toEqual([
      ["key.created", "key.generated"],
      ["key.rotated", "key.regenerated"],
      ["key.revoked", "key.revoked"],
      ["key.revoked", "key.grace_ended"],
    ]);
    expect(events[1]!.event.data.changes.graceUntil).toBeString();
    expect(events[3]!.event.data).toMatchObject({ keyId: first.data.keyId, changes: { endedBy: "key.revoked" } });
  });
});

describe("a rolled-back change sends nothing", () => {
  test("a second generate (409), a PATCH the policy check refuses (400) and a PATCH with a bad body (400): no entry, no event", async () => {
    const o = await newOwner("rollback");
    expect((await env.a.generate(o)).status).toBe(201);
    expect((await env.a.generate(o)).status).toBe(409);
    // Refused inside the transaction (expiresAt in the past), after the owner's lock and the read.
    const past = await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: { expiresAt: new Date(Date.now() - 60_000).toISOString() } });
    expect(past.status).toBe(400);
    const bad = await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: { scopes: 42 } });
    expect(bad.status).toBe(400);
    // A PATCH that changes nothing commits no change either.
    expect((await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: {} })).status).toBe(200);
    // A last change as a barrier: the publisher sends in commit order, so once it is on the stream, anything before it is too.
    expect((await env.a.revoke(o)).status).toBe(200);
    const events = await eventsOf(o.sub, 2);
    expect(events.map((e) => e.event.type)).toEqual(["key.created", "key.revoked"]);
    expect((await auditRows(env.sql, o.sub)).map((r) => r.action)).toEqual(["key.generated", "key.revoked"]);
  });
});

describe("published but not yet deleted (a crash between PubAck and delete)", () => {
  test("the row goes out again with the same id, the stream keeps one copy, the row is deleted", async () => {
    const ownerId = `dup_${Math.random().toString(36).slice(2, 8)}`;
    // Committed while no publisher can take it: the round's advisory lock is held here until the copy is on the stream.
    const lockTx = env.sql.reserve();
    const held = await lockTx;
    await held`select pg_advisory_lock(hashtext('keys:outbox-publisher'))`;
    let event: KeyEvent | undefined;
    try {
      event = (await env.sql.begin((tx) => recordChange(tx, { ownerId, keyId: "key_dup", mode: "live", action: "key.revoked", actor: { type: "owner", id: ownerId }, changes: {} }))).event;
      // What the crashed publisher had sent: the same message id on the same subject.
      const h = natsHeaders();
      const js = env.nc.jetstream();
      const ack = await js.publish(keyEventSubject(env.topo, "revoked"), JSON.stringify(event), { msgID: event.id, headers: h });
      expect(ack.duplicate).toBe(false);
    } finally {
      await held`select pg_advisory_unlock(hashtext('keys:outbox-publisher'))`;
      held.release();
    }
    env.a.service.outbox.nudge();
    await waitFor(async () => (await env.sql`select 1 from keys.outbox where event_id = ${event!.id}`).length === 0, 10_000, "the row deleted");
    const mine = (await readKeyEvents(env.nc, stream())).filter((e) => e.event.id === event!.id);
    expect(mine).toHaveLength(1);
  });
});

describe("two replicas", () => {
  test("changes made through both: every event once, the stream in each owner's commit order", async () => {
    const b = await env.start({ RATE_LIMIT_PER_MINUTE: "1000" });
    const owners = await Promise.all([newOwner("rep"), newOwner("rep")]);
    await Promise.all(
      owners.map(async (o) => {
        for (let i = 0; i < 3; i++) {
          const via = i % 2 === 0 ? env.a : b;
          expect((await via.generate(o)).status).toBe(201);
          expect((await via.revoke(o)).status).toBe(200);
        }
      }),
    );
    for (const o of owners) {
      const events = await eventsOf(o.sub, 6);
      expect(events.map((e) => e.event.type)).toEqual(["key.created", "key.revoked", "key.created", "key.revoked", "key.created", "key.revoked"]);
      for (const [, n] of countById(events)) expect(n).toBe(1);
    }
  });
});
