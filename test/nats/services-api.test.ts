/**
 * The responders as NATS services (nats.js Services API): an operator's
 * client discovers riskinmind-keys and riskinmind-usage under $SRV, reads
 * their stats, and sees error answers as standard service errors, while the
 * bodies stay what our clients parse. The server is shared with test files
 * running in parallel, so every check filters by this file's own instance ids.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, createInbox, Empty, RequestStrategy, type Msg, type NatsConnection, type ServiceClient } from "nats";
import { hashKey, NATS_ENDPOINT, NATS_SERVICE, QUEUE, subjects } from "@riskinmind/contracts";
import { createLogger, startNatsService } from "@riskinmind/runtime";
import keysPkg from "../../services/keys/package.json";
import usagePkg from "../../services/usage/package.json";
import { keysStack, type KeysInstance, type KeysStack, natsOptions, newOwner, type UsageInstance, type UsageStack, usageStack, waitFor } from "@riskinmind/testkit";

let env: KeysStack;
let keys: KeysInstance;
let usage: UsageStack;
let usageSvc: UsageInstance;
let client: ServiceClient;
const enc = new TextEncoder();

beforeAll(async () => {
  env = await keysStack();
  keys = await env.start();
  usage = await usageStack();
  usageSvc = await usage.startService();
  // One reply is all a question by instance id can get: stop at the first, not after a quiet spell.
  client = env.nc.services.client({ strategy: RequestStrategy.Count, maxMessages: 1, maxWait: 10_000 });
});

afterAll(async () => {
  await usage?.cleanup();
  await env?.close();
});

async function first<T>(it: Promise<AsyncIterable<T>>): Promise<T> {
  for await (const v of await it) return v;
  throw new Error("no answer");
}

/** Asks `subject` ($SRV) and collects the answering instance ids until every one of `ids` has answered. */
async function answeredBy(nc: NatsConnection, subject: string, ids: string[]): Promise<Map<string, { name: string; id: string }>> {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox);
  const seen = new Map<string, { name: string; id: string }>();
  nc.publish(subject, Empty, { reply: inbox });
  for await (const m of sub) {
    const r = m.json<{ name: string; id: string }>();
    seen.set(r.id, r);
    if (ids.every((id) => seen.has(id))) break;
  }
  return seen;
}

const serviceError = (m: Msg) => ({ code: m.headers?.get("Nats-Service-Error-Code") ?? "", description: m.headers?.get("Nats-Service-Error") ?? "" });

describe("discovery under $SRV", () => {
  test("ping and info name the keys service, its version and its endpoints with their subjects and queue group", async () => {
    const id = keys.service.natsServiceId!;
    expect(id).toBeString();
    const ping = await first(client.ping(NATS_SERVICE.keys, id));
    expect(ping).toMatchObject({ name: "riskinmind-keys", id, version: keysPkg.version });
    const info = await first(client.info(NATS_SERVICE.keys, id));
    const s = subjects(env.topo);
    expect(info.endpoints).toEqual([
      { name: NATS_ENDPOINT.verify, subject: s.verify, queue_group: QUEUE.keys, metadata: undefined } as never,
      { name: NATS_ENDPOINT.keyLookup, subject: s.keyLookup, queue_group: QUEUE.keys, metadata: undefined } as never,
      { name: NATS_ENDPOINT.limitsTake, subject: s.limitsTake, queue_group: QUEUE.keys, metadata: undefined } as never,
    ]);
  });

  test("ping and info name the usage service and its logs-query and logs-aggregate endpoints", async () => {
    const id = usageSvc.service.natsServiceId!;
    expect(await first(client.ping(NATS_SERVICE.usage, id))).toMatchObject({ name: "riskinmind-usage", id, version: usagePkg.version });
    const info = await first(client.info(NATS_SERVICE.usage, id));
    expect(info.endpoints.map((e) => [e.name, e.subject, e.queue_group])).toEqual([
      [NATS_ENDPOINT.logsQuery, subjects(usage.topo).logsQuery, QUEUE.usage],
      [NATS_ENDPOINT.logsAggregate, subjects(usage.topo).logsAggregate, QUEUE.usage],
    ]);
  });

  test("a bare $SRV.PING reaches both services; a ping by name only that service", async () => {
    const keysId = keys.service.natsServiceId!;
    const usageId = usageSvc.service.natsServiceId!;
    const all = await answeredBy(env.nc, "$SRV.PING", [keysId, usageId]);
    expect(all.get(keysId)?.name).toBe(NATS_SERVICE.keys);
    expect(all.get(usageId)?.name).toBe(NATS_SERVICE.usage);
    const byName = await answeredBy(env.nc, `$SRV.PING.${NATS_SERVICE.keys}`, [keysId]);
    expect([...byName.values()].every((r) => r.name === NATS_SERVICE.keys)).toBe(true);
    expect(byName.has(usageId)).toBe(false);
  });

  test("two keys replicas answer a ping by name as two instances", async () => {
    const second = await env.start();
    try {
      const ids = [keys.service.natsServiceId!, second.service.natsServiceId!];
      expect(ids[0]).not.toBe(ids[1]);
      const seen = await answeredBy(env.nc, `$SRV.PING.${NATS_SERVICE.keys}`, ids);
      for (const id of ids) expect(seen.get(id)).toMatchObject({ name: NATS_SERVICE.keys, id });
    } finally {
      await second.close();
    }
  });
});

describe("stats and error headers", () => {
  test("after N verify requests, one malformed, stats count N requests and 1 error; only the malformed answer is a service error", async () => {
    const statsOf = async () => (await first(client.stats(NATS_SERVICE.keys, keys.service.natsServiceId!))).endpoints!.find((e) => e.name === NATS_ENDPOINT.verify)!;
    const before = await statsOf();
    const o = await newOwner();
    const generated = await keys.call("POST", "/api/v1/keys/generate", { headers: o.headers });
    expect(generated.status).toBe(201);
    const apiKey = generated.body.data.apiKey as string;
    const ask = (payload: string) => env.nc.request(subjects(env.topo).verify, enc.encode(payload), { timeout: 5_000 });
    const replies = [
      await ask(JSON.stringify({ keyHash: hashKey(apiKey).toString("hex") })),
      await ask(JSON.stringify({ keyHash: hashKey(apiKey).toString("hex") })), // a cache hit
      await ask(JSON.stringify({ keyHash: "a".repeat(64) })), // never issued: a normal "no"
      await ask("not json"),
    ];
    expect(replies.map((m) => m.json<{ valid: boolean; code?: string }>().code ?? "valid")).toEqual(["valid", "valid", "KEY_NOT_FOUND", "MALFORMED"]);
    // The body is exactly what the guard parses; the headers are for generic NATS clients.
    expect(new TextDecoder().decode(replies[3]!.data)).toBe(JSON.stringify({ valid: false, code: "MALFORMED" }));
    expect(serviceError(replies[3]!)).toEqual({ code: "400", description: "MALFORMED" });
    for (const m of replies.slice(0, 3)) expect(serviceError(m)).toEqual({ code: "", description: "" });

    const after = await statsOf();
    expect(after.num_requests - before.num_requests).toBe(replies.length);
    expect(after.num_errors - before.num_errors).toBe(1);
    expect(after.last_error).toBe("MALFORMED");
    // Database reads are asynchronous: they are timed up to the reply, not just to the handler's return.
    expect(after.processing_time).toBeGreaterThan(before.processing_time);
  });

  test("keys.lookup and usage.logs.query: an invalid request is a 400 service error with the same body as ever", async () => {
    const lookup = await usage.nc.request(subjects(env.topo).keyLookup, enc.encode("{}"), { timeout: 5_000 });
    expect(lookup.json()).toEqual({ ok: false, code: "VALIDATION_ERROR", message: "Invalid lookup: expected {keyIds: string[1..1000]}." });
    expect(serviceError(lookup)).toEqual({ code: "400", description: "VALIDATION_ERROR" });
    const ok = await usage.nc.request(subjects(env.topo).keyLookup, enc.encode(JSON.stringify({ keyIds: ["key_nobody"] })), { timeout: 5_000 });
    expect(ok.json()).toEqual({ ok: true, keys: [] });
    expect(serviceError(ok).code).toBe("");

    const logs = await usage.nc.request(subjects(usage.topo).logsQuery, enc.encode(JSON.stringify({ ownerId: "o", page: 0, limit: 10 })), { timeout: 5_000 });
    expect(logs.json<{ ok: boolean; code: string }>()).toMatchObject({ ok: false, code: "VALIDATION_ERROR" });
    expect(serviceError(logs)).toEqual({ code: "400", description: "VALIDATION_ERROR" });
    const stats = await first(client.stats(NATS_SERVICE.usage, usageSvc.service.natsServiceId!));
    expect(stats.endpoints!.find((e) => e.name === NATS_ENDPOINT.logsQuery)).toMatchObject({ num_requests: 1, num_errors: 1, last_error: "VALIDATION_ERROR" });
  });
});

describe("start and stop", () => {
  test("a user without the $SRV rights of a service name cannot start it: start fails instead of answering nothing", async () => {
    const nc = await connect(natsOptions("keys"));
    try {
      const started = startNatsService(nc, { name: NATS_SERVICE.usage, version: "0.0.1", description: "impostor", queue: QUEUE.usage }, createLogger("test", "silent")).then(async (srv) => {
        srv.addEndpoint({ name: "x", subject: subjects(env.topo).verify, handle: () => ({ reply: Empty }), failed: { reply: Empty }, errorOf: () => undefined });
        await srv.ready();
      });
      await expect(started).rejects.toThrow(/riskinmind-usage could not start: subscription refused to \$SRV\.PING\.riskinmind-usage/);
    } finally {
      await nc.close();
    }
  });

  test("a request in flight during stop() is answered before stop resolves and the connection drains", async () => {
    // The only replica on this topology, so the request below is surely its.
    await keys.close();
    const inst = await env.start();
    const hash = "b".repeat(64); // never cached: the answer needs a database read
    // Hold the table so the read waits, inside the service, while it stops.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const tx = env.sql.begin(async (t) => {
      await t`lock table keys.api_keys in access exclusive mode`;
      locked();
      await held;
    });
    await isLocked;
    const reply = env.nc.request(subjects(env.topo).verify, enc.encode(JSON.stringify({ keyHash: hash })), { timeout: 20_000 });
    // The request has reached the service once its read waits on the lock.
    await waitFor(async () => {
      const [r] = await env.sql`select count(*)::int as n from pg_stat_activity where datname = ${env.db.name} and wait_event_type = 'Lock'`;
      return r!.n > 0;
    });
    let stopped = false;
    const stopping = inst.service.stop().then(() => (stopped = true));
    // The instance no longer answers discovery (its subscriptions are drained) ...
    await waitFor(
      async () =>
        await env.nc.request(`$SRV.PING.${NATS_SERVICE.keys}.${inst.service.natsServiceId}`, Empty, { timeout: 2_000 }).then(
          () => false,
          () => true,
        ),
    );
    // Whatever stop() was going to do after draining has had its turn (a flush behind the drains, then a macrotask).
    await inst.nc.flush();
    await new Promise((r) => setImmediate(r));
    // ... but stop() waits for the answer it owes.
    expect(stopped).toBe(false);
    release();
    await tx;
    await stopping;
    await inst.nc.drain();
    expect((await reply).json()).toEqual({ valid: false, code: "KEY_NOT_FOUND" });
  });
});
