/**
 * The key-events stream under the server's permissions (nats/nats-server.conf),
 * against this run's nats-server: keys creates and writes its stream but
 * cannot delete, purge or read it, nor alter another stream; a guard (any
 * other service) reads it through a consumer of its own (create, pull, ack)
 * but cannot publish key events, manage the stream, or use the JetStream API
 * to reach the usage stream. Refusals are asserted on what nats.js reports.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AckPolicy, connect, nanos, StorageType, type JetStreamManager, type NatsConnection, type NatsError, type Status } from "nats";
import { keyEventSubject, keyStreamOf, subjects, USAGE_CONSUMER, type Topology } from "@riskinmind/contracts";
import { createLogger } from "@riskinmind/runtime";
import { natsOptions, type NatsUser, testTopology, waitFor } from "@riskinmind/testkit";
import { ensureKeyStream, keyStreamConfig } from "../../services/keys/src/events/key-stream";

const PERMISSIONS_VIOLATION = "PERMISSIONS_VIOLATION";
const conns: NatsConnection[] = [];
const statuses = new Map<NatsConnection, Status[]>();

async function as(user: NatsUser): Promise<NatsConnection> {
  const nc = await connect(natsOptions(user, { name: `keyperm-${user}` }));
  const seen: Status[] = [];
  statuses.set(nc, seen);
  void (async () => {
    for await (const st of nc.status()) seen.push(st);
  })();
  conns.push(nc);
  return nc;
}

/** A request the server rejects (not answered, not timed out). */
async function requestRefused(nc: NatsConnection, subject: string, data = "{}"): Promise<void> {
  const err = await nc.request(subject, data, { timeout: 5_000 }).then(
    () => undefined,
    (e: NatsError) => e,
  );
  expect(err?.code).toBe(PERMISSIONS_VIOLATION);
  expect(err?.message).toContain(`Publish to "${subject}"`);
}

/** A plain publish the server refuses (its violation status names the subject). */
async function publishRefused(nc: NatsConnection, subject: string): Promise<void> {
  nc.publish(subject, "{}");
  await nc.flush();
  const match = (st: Status) => {
    const ctx = (st as Status & { permissionContext?: { operation: string; subject: string } }).permissionContext;
    return st.type === "error" && st.data === PERMISSIONS_VIOLATION && ctx?.operation === "publish" && ctx.subject === subject;
  };
  await waitFor(() => statuses.get(nc)!.some(match), 5_000, `a publish violation for ${subject}`);
}

let topo: Topology;
let s: ReturnType<typeof subjects>;
let stream: string;
let admin: NatsConnection;
let adminJsm: JetStreamManager;

beforeAll(async () => {
  topo = testTopology();
  s = subjects(topo);
  stream = keyStreamOf(topo);
  admin = await as("admin");
  adminJsm = await admin.jetstreamManager();
  // The usage stream and its consumer as the usage service makes them.
  const usageJsm = await (await as("usage")).jetstreamManager();
  await usageJsm.streams.add({ name: topo.stream, subjects: [s.usageEvents], storage: StorageType.File, duplicate_window: nanos(120_000) });
  await usageJsm.consumers.add(topo.stream, { durable_name: USAGE_CONSUMER, ack_policy: AckPolicy.Explicit, filter_subject: s.usageEvents });
});

afterAll(async () => {
  await adminJsm.streams.delete(stream).catch(() => {});
  await adminJsm.streams.delete(topo.stream).catch(() => {});
  for (const nc of conns) await nc.close().catch(() => {});
});

describe("keys", () => {
  let keys: NatsConnection;
  beforeAll(async () => {
    keys = await as("keys");
  });

  test("creates its key-events stream as the publisher does and gets a PubAck for a key event", async () => {
    const jsm = await keys.jetstreamManager();
    await ensureKeyStream(jsm, keyStreamConfig({ stream, maxAgeHours: 1 }, s.keyEvents), createLogger("test", "silent"));
    const info = await adminJsm.streams.info(stream);
    expect(info.config.subjects).toEqual([s.keyEvents]);
    expect(info.config.storage).toBe(StorageType.File);
    const ack = await keys.jetstream().publish(keyEventSubject(topo, "revoked"), JSON.stringify({ id: "evt_perm" }), { msgID: "evt_perm" });
    expect(ack.stream).toBe(stream);
    // Creating it again (a second replica starting) is fine.
    await ensureKeyStream(jsm, keyStreamConfig({ stream, maxAgeHours: 1 }, s.keyEvents), createLogger("test", "silent"));
  });

  test("cannot delete, purge or read its stream, nor touch the usage stream", async () => {
    await requestRefused(keys, `$JS.API.STREAM.DELETE.${stream}`, "");
    await requestRefused(keys, `$JS.API.STREAM.PURGE.${stream}`, "");
    await requestRefused(keys, `$JS.API.STREAM.MSG.GET.${stream}`, JSON.stringify({ seq: 1 }));
    await requestRefused(keys, `$JS.API.CONSUMER.CREATE.${stream}.spy.${s.keyEvents}`, JSON.stringify({ stream_name: stream, config: { name: "spy", filter_subject: s.keyEvents } }));
    await requestRefused(keys, `$JS.API.STREAM.UPDATE.${topo.stream}`, JSON.stringify({ name: topo.stream, subjects: [s.usageEvents], max_age: 1 }));
    await requestRefused(keys, `$JS.API.STREAM.DELETE.${topo.stream}`, "");
    await requestRefused(keys, `$JS.API.CONSUMER.MSG.NEXT.${topo.stream}.${USAGE_CONSUMER}`, JSON.stringify({ batch: 1 }));
    expect((await adminJsm.streams.info(stream)).state.messages).toBeGreaterThan(0);
  });
});

describe("guard (any service reading key events)", () => {
  let guard: NatsConnection;
  beforeAll(async () => {
    guard = await as("guard");
    // A stream with an event in it, as the keys service leaves it.
    const keysJsm = await (await as("keys")).jetstreamManager();
    await ensureKeyStream(keysJsm, keyStreamConfig({ stream, maxAgeHours: 1 }, s.keyEvents), createLogger("test", "silent"));
  });

  test("creates a consumer of its own on the key-events stream, pulls the events and acks them", async () => {
    const keys = await as("keys");
    await keys.jetstream().publish(keyEventSubject(topo, "created"), JSON.stringify({ id: "evt_guard" }), { msgID: "evt_guard" });
    const jsm = await guard.jetstreamManager({ checkAPI: false });
    await jsm.consumers.add(stream, { name: "guard-reader", filter_subject: s.keyEvents, ack_policy: AckPolicy.Explicit });
    const consumer = await guard.jetstream().consumers.get(stream, "guard-reader");
    const total = (await adminJsm.streams.info(stream)).state.messages;
    const ids: string[] = [];
    const batch = await consumer.fetch({ max_messages: total, expires: 3_000 });
    for await (const m of batch) {
      ids.push(m.json<{ id: string }>().id);
      m.ack();
    }
    expect(ids).toContain("evt_guard");
    await waitFor(async () => (await adminJsm.consumers.info(stream, "guard-reader")).num_ack_pending === 0, 5_000, "the acks");
    expect((await adminJsm.consumers.info(stream, "guard-reader")).ack_floor.stream_seq).toBe(total);
  });

  test("cannot publish key events (no forged revocation on the stream)", async () => {
    const err = await guard
      .jetstream()
      .publish(keyEventSubject(topo, "revoked"), JSON.stringify({ id: "evt_forged" }), { msgID: "evt_forged" })
      .then(
        () => undefined,
        (e: NatsError) => e,
      );
    expect(err?.code).toBe(PERMISSIONS_VIOLATION);
    await publishRefused(guard, keyEventSubject(topo, "created"));
    await publishRefused(guard, "keys.events.created");
    const ids: string[] = [];
    for (let seq = 1; seq <= (await adminJsm.streams.info(stream)).state.last_seq; seq++) ids.push((await adminJsm.streams.getMessage(stream, { seq })).json<{ id: string }>().id);
    expect(ids).not.toContain("evt_forged");
  });

  test("cannot delete, purge, update the key-events stream or read it around a consumer", async () => {
    await requestRefused(guard, `$JS.API.STREAM.DELETE.${stream}`, "");
    await requestRefused(guard, `$JS.API.STREAM.PURGE.${stream}`, "");
    await requestRefused(guard, `$JS.API.STREAM.UPDATE.${stream}`, JSON.stringify({ name: stream, subjects: [s.keyEvents], max_age: 1 }));
    await requestRefused(guard, `$JS.API.STREAM.MSG.GET.${stream}`, JSON.stringify({ seq: 1 }));
    expect((await adminJsm.streams.info(stream)).config.name).toBe(stream);
  });

  test("cannot reach the usage stream: no consumer without the key-events filter, no pull or ack on usage-ingest", async () => {
    await requestRefused(guard, `$JS.API.CONSUMER.CREATE.${topo.stream}.spy`, JSON.stringify({ stream_name: topo.stream, config: { name: "spy" } }));
    await requestRefused(guard, `$JS.API.CONSUMER.CREATE.${topo.stream}.spy.${s.usageEvents}`, JSON.stringify({ stream_name: topo.stream, config: { name: "spy", filter_subject: s.usageEvents } }));
    await requestRefused(guard, `$JS.API.CONSUMER.DURABLE.CREATE.${topo.stream}.spy`, JSON.stringify({ stream_name: topo.stream, config: { durable_name: "spy" } }));
    await requestRefused(guard, `$JS.API.CONSUMER.MSG.NEXT.${topo.stream}.${USAGE_CONSUMER}`, JSON.stringify({ batch: 1 }));
    await requestRefused(guard, `$JS.API.CONSUMER.INFO.${topo.stream}.${USAGE_CONSUMER}`, "");
    await publishRefused(guard, `$JS.ACK.${topo.stream}.${USAGE_CONSUMER}.1.1.1.1.0`);
    // A consumer filtered on key events cannot be made on the usage stream either (the filter is not its subject).
    const jsm = await guard.jetstreamManager({ checkAPI: false });
    await expect(jsm.consumers.add(topo.stream, { name: "spy2", filter_subject: s.keyEvents, ack_policy: AckPolicy.Explicit })).rejects.toThrow();
    expect((await adminJsm.consumers.list(topo.stream).next()).map((c) => c.name)).toEqual([USAGE_CONSUMER]);
  });
});
