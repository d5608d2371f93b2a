/**
 * Anyone on the bus is no longer almost root: against this run's nats-server,
 * started from the repository's nats/nats-server.conf, each identity can do
 * its own job and the server itself refuses everything else. A refusal is
 * asserted on what nats.js reports for it (a request rejected with
 * PERMISSIONS_VIOLATION, a subscription closed with it, a status event of
 * type "error" naming the subject), never on silence.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AckPolicy, connect, nanos, StorageType, type NatsConnection, type NatsError, type Status, type Subscription } from "nats";
import { NATS_SERVICE, subjects, USAGE_CONSUMER, type Topology } from "@riskinmind/contracts";
import { natsOptions, type NatsUser, testTopology, waitFor } from "@riskinmind/testkit";

const PERMISSIONS_VIOLATION = "PERMISSIONS_VIOLATION";

interface Client {
  nc: NatsConnection;
  /** Every status event the connection reported, in order. */
  statuses: Status[];
}

const clients: Client[] = [];

async function as(user: NatsUser): Promise<Client> {
  const nc = await connect(natsOptions(user, { name: `perm-${user}` }));
  const statuses: Status[] = [];
  void (async () => {
    for await (const s of nc.status()) statuses.push(s);
  })();
  const c = { nc, statuses };
  clients.push(c);
  return c;
}

/** Publishes on `subject` and resolves once the server's refusal of exactly that publish has come back. */
async function publishRefused(c: Client, subject: string): Promise<void> {
  c.nc.publish(subject, "{}");
  await c.nc.flush();
  await waitFor(() => c.statuses.some((s) => isViolation(s, "publish", subject)), 5_000, `a publish violation for ${subject}`);
  const s = c.statuses.find((x) => isViolation(x, "publish", subject))!;
  expect(s).toMatchObject({ type: "error", data: PERMISSIONS_VIOLATION, permissionContext: { operation: "publish", subject } });
}

function isViolation(s: Status, operation: "publish" | "subscription", subject: string): boolean {
  const ctx = (s as Status & { permissionContext?: { operation: string; subject: string } }).permissionContext;
  return s.type === "error" && s.data === PERMISSIONS_VIOLATION && ctx?.operation === operation && ctx.subject === subject;
}

/** Subscribes to `subject`; resolves once the server has refused it and nats.js closed the subscription with that error. */
async function subscribeRefused(c: Client, subject: string): Promise<void> {
  const sub: Subscription = c.nc.subscribe(subject);
  let error: NatsError | undefined;
  const done = (async () => {
    try {
      for await (const _m of sub) {
        // a refused subscription never delivers
      }
    } catch (e) {
      error = e as NatsError;
    }
  })();
  await c.nc.flush();
  await waitFor(() => error !== undefined, 5_000, `the subscription to ${subject} to be refused`).finally(() => sub.unsubscribe());
  await done;
  expect(error?.code).toBe(PERMISSIONS_VIOLATION);
  expect(error?.message).toContain(`Subscription to "${subject}"`);
  expect(sub.isClosed()).toBe(true);
}

/** `c` may subscribe to `subject`: what admin publishes there arrives (an operator's $SRV question). */
async function subscribeAllowed(c: Client, subject: string, publishAs = subject): Promise<void> {
  const sub = c.nc.subscribe(subject, { max: 1 });
  await c.nc.flush();
  admin.nc.publish(publishAs, "{}");
  for await (const m of sub) expect(m.subject).toBe(publishAs);
  expect(c.statuses.some((st) => isViolation(st, "subscription", subject))).toBe(false);
}

/** A request on `subject` is rejected by the server (not timed out, not answered). */
async function requestRefused(c: Client, subject: string, data = "{}"): Promise<void> {
  const err = await c.nc.request(subject, data, { timeout: 5_000 }).then(
    () => undefined,
    (e: NatsError) => e,
  );
  expect(err?.code).toBe(PERMISSIONS_VIOLATION);
  expect(err?.message).toContain(`Publish to "${subject}"`);
}

let topo: Topology;
let s: ReturnType<typeof subjects>;
let admin: Client;

beforeAll(async () => {
  topo = testTopology();
  s = subjects(topo);
  admin = await as("admin");
  // The usage stream as the usage service makes it (the guard publishes into it below).
  const usage = await as("usage");
  const jsm = await usage.nc.jetstreamManager();
  await jsm.streams.add({ name: topo.stream, subjects: [s.usageEvents], storage: StorageType.File, duplicate_window: nanos(120_000) });
  await jsm.consumers.add(topo.stream, { durable_name: USAGE_CONSUMER, ack_policy: AckPolicy.Explicit, filter_subject: s.usageEvents });
});

afterAll(async () => {
  await (await admin.nc.jetstreamManager()).streams.delete(topo.stream).catch(() => {});
  for (const c of clients) await c.nc.close().catch(() => {});
});

describe("no connection without credentials", () => {
  const refusal = async (opts: { user?: string; pass?: string }) => {
    const { servers } = natsOptions("guard");
    const err = await connect({ servers, ...opts, reconnect: false, timeout: 2_000 }).then(
      async (nc) => (await nc.close(), undefined),
      (e: NatsError) => e,
    );
    return err?.code;
  };

  test("a client without credentials is refused (there is no anonymous user)", async () => {
    expect(await refusal({})).toBe("AUTHORIZATION_VIOLATION");
  });

  test("a known user with a wrong password, or none, is refused", async () => {
    expect(await refusal({ user: "guard", pass: "not-the-password" })).toBe("AUTHORIZATION_VIOLATION");
    expect(await refusal({ user: "keys", pass: "" })).toBe("AUTHORIZATION_VIOLATION");
    expect(await refusal({ user: "admin" })).toBe("AUTHORIZATION_VIOLATION");
  });
});

describe("guard (any service mounting @riskinmind/guard)", () => {
  let guard: Client;
  beforeAll(async () => {
    guard = await as("guard");
  });

  test("can ask keys.verify and gets the keys service's answer", async () => {
    const keys = await as("keys");
    const responder = keys.nc.subscribe(s.verify, { callback: (_e, m) => m.respond(JSON.stringify({ valid: false, code: "KEY_NOT_FOUND" })) });
    await keys.nc.flush();
    try {
      const reply = await guard.nc.request(s.verify, JSON.stringify({ keyHash: "0".repeat(64) }), { timeout: 5_000 });
      expect(reply.json()).toEqual({ valid: false, code: "KEY_NOT_FOUND" });
    } finally {
      responder.unsubscribe();
    }
  });

  test("can js.publish usage events and gets the stream's PubAck, with no JetStream API right", async () => {
    const ack = await guard.nc.jetstream().publish(s.usageEvents, JSON.stringify([]), { msgID: `perm-${topo.prefix}` });
    expect(ack.stream).toBe(topo.stream);
    expect(ack.seq).toBeGreaterThan(0);
  });

  test("hears the key-change broadcasts (revocations drop its cached keys)", async () => {
    const keys = await as("keys");
    const sub = guard.nc.subscribe(`${topo.prefix}keys.cache.>`, { max: 1 });
    await guard.nc.flush();
    keys.nc.publish(s.keyRevoked, JSON.stringify({ keyId: "key_x" }));
    for await (const m of sub) expect(m.subject).toBe(s.keyRevoked);
  });

  test("cannot subscribe to keys.verify: no impostor responder, no sniffing of verification requests", async () => {
    await subscribeRefused(guard, s.verify);
    await subscribeRefused(guard, "keys.verify");
    await subscribeRefused(guard, "*.keys.verify");
  });

  test("cannot subscribe to usage.events: other services' calls are not its to read", async () => {
    await subscribeRefused(guard, s.usageEvents);
    await subscribeRefused(guard, ">");
  });

  test("cannot ask usage.logs.query (any owner's logs), by request or plain publish", async () => {
    await requestRefused(guard, s.logsQuery, JSON.stringify({ ownerId: "someone", page: 1, limit: 10 }));
    await publishRefused(guard, "usage.logs.query");
  });

  test("cannot ask usage.logs.aggregate (any owner's usage totals), by request or plain publish", async () => {
    await requestRefused(guard, s.logsAggregate, JSON.stringify({ ownerId: "someone", mode: "live", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", granularity: "hour", groupBy: "none" }));
    await publishRefused(guard, "usage.logs.aggregate");
  });

  test("cannot announce key events: no forged revocation or owner change", async () => {
    await publishRefused(guard, s.keyRevoked);
    await publishRefused(guard, s.ownerKeyChanged);
  });

  test("cannot ask keys.lookup (who owns a key id)", async () => {
    await requestRefused(guard, s.keyLookup, JSON.stringify({ keyIds: ["key_x"] }));
  });

  test("cannot use the JetStream API: cannot read the usage stream through a consumer, nor delete it", async () => {
    await requestRefused(guard, `$JS.API.CONSUMER.INFO.${topo.stream}.${USAGE_CONSUMER}`, "");
    await requestRefused(guard, `$JS.API.CONSUMER.CREATE.${topo.stream}`, JSON.stringify({ stream_name: topo.stream, config: { ack_policy: "none" } }));
    await requestRefused(guard, `$JS.API.CONSUMER.MSG.NEXT.${topo.stream}.${USAGE_CONSUMER}`, JSON.stringify({ batch: 1 }));
    await requestRefused(guard, `$JS.API.STREAM.DELETE.${topo.stream}`, "");
    await requestRefused(guard, `$JS.API.STREAM.MSG.GET.${topo.stream}`, JSON.stringify({ seq: 1 }));
    // The stream is untouched.
    expect((await (await admin.nc.jetstreamManager()).streams.info(topo.stream)).config.name).toBe(topo.stream);
  });

  test("cannot subscribe under $SRV: cannot pose as a service to discovery, nor read operators' questions", async () => {
    await subscribeRefused(guard, "$SRV.>");
    await subscribeRefused(guard, "$SRV.PING");
    await subscribeRefused(guard, `$SRV.PING.${NATS_SERVICE.keys}`);
  });

  test("cannot read the replies meant for keys or usage (their inboxes), nor anyone's default inbox", async () => {
    await subscribeRefused(guard, "_INBOX.keys.>");
    await subscribeRefused(guard, "_INBOX.usage.>");
    await subscribeRefused(guard, "_INBOX.>");
  });
});

describe("usage service", () => {
  test("owns the stream: creates it and its consumer, consumes and acks what guards published", async () => {
    const usage = await as("usage");
    const guard = await as("guard");
    const t = testTopology();
    const subject = subjects(t).usageEvents;
    const jsm = await usage.nc.jetstreamManager();
    await jsm.streams.add({ name: t.stream, subjects: [subject], storage: StorageType.File });
    try {
      await jsm.consumers.add(t.stream, { durable_name: USAGE_CONSUMER, ack_policy: AckPolicy.Explicit, filter_subject: subject });
      await guard.nc.jetstream().publish(subject, JSON.stringify([{ n: 1 }]));
      const consumer = await usage.nc.jetstream().consumers.get(t.stream, USAGE_CONSUMER);
      const messages = await consumer.consume({ max_messages: 10 });
      for await (const m of messages) {
        expect(m.json()).toEqual([{ n: 1 }]);
        await m.ackAck();
        break;
      }
      const info = await jsm.consumers.info(t.stream, USAGE_CONSUMER);
      expect(info.num_ack_pending).toBe(0);
      expect(info.num_pending).toBe(0);
      expect(info.delivered.stream_seq).toBe(1);
    } finally {
      await jsm.streams.delete(t.stream).catch(() => {});
    }
  });

  test("serves usage.logs.query and usage.logs.aggregate to keys and asks keys.lookup of keys", async () => {
    const usage = await as("usage");
    const keys = await as("keys");
    const logs = usage.nc.subscribe(s.logsQuery, { callback: (_e, m) => m.respond(JSON.stringify({ ok: true, data: [], total: 0 })) });
    const aggregate = usage.nc.subscribe(s.logsAggregate, { callback: (_e, m) => m.respond(JSON.stringify({ ok: true, data: [] })) });
    const lookup = keys.nc.subscribe(s.keyLookup, { callback: (_e, m) => m.respond(JSON.stringify({ ok: true, keys: [] })) });
    await Promise.all([usage.nc.flush(), keys.nc.flush()]);
    try {
      expect((await keys.nc.request(s.logsQuery, "{}", { timeout: 5_000 })).json()).toEqual({ ok: true, data: [], total: 0 });
      expect((await keys.nc.request(s.logsAggregate, "{}", { timeout: 5_000 })).json()).toEqual({ ok: true, data: [] });
      expect((await usage.nc.request(s.keyLookup, "{}", { timeout: 5_000 })).json()).toEqual({ ok: true, keys: [] });
    } finally {
      logs.unsubscribe();
      aggregate.unsubscribe();
      lookup.unsubscribe();
    }
  });

  test("cannot subscribe to keys.verify nor announce key events", async () => {
    const usage = await as("usage");
    await subscribeRefused(usage, s.verify);
    await publishRefused(usage, s.keyRevoked);
    await publishRefused(usage, s.ownerKeyChanged);
  });

  test("answers discovery for riskinmind-usage only: its own $SRV subjects, not the keys service's, no wildcard", async () => {
    const usage = await as("usage");
    await subscribeAllowed(usage, "$SRV.PING");
    await subscribeAllowed(usage, `$SRV.STATS.${NATS_SERVICE.usage}`);
    await subscribeAllowed(usage, `$SRV.INFO.${NATS_SERVICE.usage}.*`, `$SRV.INFO.${NATS_SERVICE.usage}.SOMEID`);
    await subscribeRefused(usage, `$SRV.PING.${NATS_SERVICE.keys}`);
    await subscribeRefused(usage, `$SRV.STATS.${NATS_SERVICE.keys}.SOMEID`);
    await subscribeRefused(usage, "$SRV.>");
    await subscribeRefused(usage, `$SRV.*.${NATS_SERVICE.usage}`);
    // Asking is the operators' (admin's).
    await publishRefused(usage, `$SRV.PING.${NATS_SERVICE.keys}`);
  });

  test("cannot publish usage events itself, nor read keys' or guards' replies", async () => {
    const usage = await as("usage");
    await publishRefused(usage, s.usageEvents);
    await subscribeRefused(usage, "_INBOX.keys.>");
    await subscribeRefused(usage, "_INBOX.guard.>");
  });
});

describe("keys service", () => {
  test("cannot read the usage stream through the JetStream API (no consumer, no message get)", async () => {
    const keys = await as("keys");
    await requestRefused(keys, `$JS.API.CONSUMER.INFO.${topo.stream}.${USAGE_CONSUMER}`, "");
    await requestRefused(keys, `$JS.API.CONSUMER.MSG.NEXT.${topo.stream}.${USAGE_CONSUMER}`, JSON.stringify({ batch: 1 }));
    await requestRefused(keys, `$JS.API.STREAM.MSG.GET.${topo.stream}`, JSON.stringify({ seq: 1 }));
  });

  test("cannot publish usage events (no forged usage under any owner) nor ask keys.lookup", async () => {
    const keys = await as("keys");
    await publishRefused(keys, s.usageEvents);
    await publishRefused(keys, s.keyLookup);
  });

  test("answers discovery for riskinmind-keys only: its own $SRV subjects, not the usage service's, no wildcard", async () => {
    const keys = await as("keys");
    await subscribeAllowed(keys, "$SRV.INFO");
    await subscribeAllowed(keys, `$SRV.PING.${NATS_SERVICE.keys}`);
    await subscribeAllowed(keys, `$SRV.STATS.${NATS_SERVICE.keys}.*`, `$SRV.STATS.${NATS_SERVICE.keys}.SOMEID`);
    await subscribeRefused(keys, `$SRV.PING.${NATS_SERVICE.usage}`);
    await subscribeRefused(keys, `$SRV.INFO.${NATS_SERVICE.usage}.SOMEID`);
    await subscribeRefused(keys, "$SRV.>");
    await subscribeRefused(keys, `$SRV.*.${NATS_SERVICE.keys}`);
    await publishRefused(keys, `$SRV.PING.${NATS_SERVICE.usage}`);
  });

  test("cannot subscribe to usage.logs.query, usage.logs.aggregate or usage.events, nor read others' replies", async () => {
    const keys = await as("keys");
    await subscribeRefused(keys, s.logsQuery);
    await subscribeRefused(keys, s.logsAggregate);
    await subscribeRefused(keys, s.usageEvents);
    await subscribeRefused(keys, "_INBOX.usage.>");
    await subscribeRefused(keys, "_INBOX.guard.>");
  });
});
