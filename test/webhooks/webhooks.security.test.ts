/**
 * Webhook secrets and isolation: the signing secret is shown once, never in
 * a list, a log line or the database in clear; a receiver that holds its
 * requests open does not slow key operations. The keys service runs in
 * process with every log line captured (level trace), served over real HTTP.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "nats";
import type { Topology } from "@riskinmind/contracts";
import { createLogger, createMetrics, createSql, serve, type Sql } from "@riskinmind/runtime";
import { client, createTestDb, forFile, migrateSchemas, natsOptions, newOwner, serviceEnv, testNats, testTopology, waitFor, type Client, type TestDb } from "@riskinmind/testkit";
import { createKeysService } from "../../services/keys/src/app";
import { keysEnv } from "../../services/keys/src/env";
import { deliveries, FAST_WEBHOOKS, keyEvent, publishEvent, receiver, register, verifySignature, type Receiver } from "./helpers";

interface Stack {
  db: TestDb;
  topo: Topology;
  sql: Sql;
  nc: NatsConnection;
  keys: Client;
  lines: string[];
  close(): Promise<void>;
}

const env = forFile<Stack>(
  async () => {
    const db = await createTestDb();
    const topo = testTopology();
    const sql = createSql(db.url, { max: 4 });
    await migrateSchemas(sql, ["keys"]);
    const nc = await connect(natsOptions());
    // Long enough that a held request is still held when the test looks (no timing in the assertions).
    const config = keysEnv.parse({ ...serviceEnv(db, topo), NATS_URL: testNats().url("keys"), PORT: "0", ...FAST_WEBHOOKS, WEBHOOK_TIMEOUT_MS: "60000", LOG_LEVEL: "trace" });
    const lines: string[] = [];
    const log = createLogger("keys", "trace", { write: (s: string) => void lines.push(s) });
    const keysSql = createSql(db.url, { max: config.DB_POOL_MAX });
    const keysNc = await connect(testNats().options("keys", { name: "test-keys" }));
    const service = createKeysService({ sql: keysSql, nc: keysNc, log, metrics: createMetrics("keys"), config });
    await service.start();
    const server = serve(service.app, { port: 0, hostname: "127.0.0.1" });
    return {
      db,
      topo,
      sql,
      nc,
      keys: client(`http://127.0.0.1:${server.port}`),
      lines,
      async close() {
        await server.stop(true);
        await service.stop();
        await keysNc.close();
        await keysSql.end({ timeout: 1 });
        await nc.close();
        await sql.end({ timeout: 1 });
        await db.drop();
      },
    };
  },
  (s) => s.close(),
);

const receivers: Receiver[] = [];
afterAll(() => {
  for (const r of receivers) r.stop();
});

describe("the signing secret", () => {
  test("shown once: not in the list, not in deliveries, not in any log line, not in the database in clear; and it signs", async () => {
    const o = await newOwner();
    const r = receiver((n) => (n === 0 ? new Response("retry me", { status: 500 }) : new Response("ok")));
    receivers.push(r);
    const created = await register(env.keys, o, { url: r.url, events: ["*"] });
    expect(created.status).toBe(201);
    const { id, secret } = created.body.data;
    const secretB64 = secret.slice("whsec_".length);
    const secretBytes = Buffer.from(secretB64, "base64");
    expect(created.headers.get("cache-control")).toBe("no-store");

    const ev = keyEvent(o.sub, "key.revoked");
    await publishEvent(env.nc, env.topo, ev);
    await waitFor(async () => (await deliveries(env.keys, o, id)).body.data?.[0]?.status === "delivered", 10_000, "the delivery");
    // Both attempts were signed with the secret the owner was shown.
    expect(r.received).toHaveLength(2);
    for (const got of r.received) expect(verifySignature(secret, got.headers, got.body)).toBe(true);

    const list = await env.keys.call("GET", "/api/v1/keys/webhooks", { headers: o.headers });
    const page = await deliveries(env.keys, o, id);
    for (const text of [list.text, page.text, env.lines.join("\n")]) {
      expect(text).not.toContain(secretB64);
      expect(text).not.toContain(secretBytes.toString("hex"));
      expect(text).not.toContain(secretBytes.toString("base64url"));
    }
    // The logs are not empty (a check that logs nothing would prove nothing): requests were logged.
    expect(env.lines.some((l) => l.includes("/api/v1/keys/webhooks"))).toBe(true);

    const [row] = await env.sql`select * from keys.webhook_endpoints where id = ${id}`;
    const stored = JSON.stringify(row, (_k, v) => (v?.type === "Buffer" ? Buffer.from(v.data).toString("hex") : v));
    expect(stored).not.toContain(secretB64);
    expect(stored).not.toContain(secretBytes.toString("hex"));
    expect(Buffer.from(row!.secret_enc).includes(secretBytes)).toBe(false);
    // 12-byte IV, 32 bytes of ciphertext, 16-byte tag.
    expect(row!.secret_enc.length).toBe(60);
  });

  test("two endpoints get different secrets; one endpoint's secret does not verify the other's deliveries", async () => {
    const o = await newOwner();
    const [r1, r2] = [receiver(), receiver()];
    receivers.push(r1, r2);
    const w1 = (await register(env.keys, o, { url: r1.url, events: ["key.created"] })).body.data;
    const w2 = (await register(env.keys, o, { url: r2.url, events: ["key.created"] })).body.data;
    expect(w1.secret).not.toBe(w2.secret);
    await publishEvent(env.nc, env.topo, keyEvent(o.sub));
    await waitFor(() => r1.received.length === 1 && r2.received.length === 1, 10_000, "both deliveries");
    expect(verifySignature(w1.secret, r1.received[0]!.headers, r1.received[0]!.body)).toBe(true);
    expect(verifySignature(w2.secret, r1.received[0]!.headers, r1.received[0]!.body)).toBe(false);
  });
});

describe("isolation from key operations", () => {
  test("receivers holding every delivery slot open do not hold up POST /generate, GET / or the webhook routes", async () => {
    const o = await newOwner();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let answered = 0;
    const slow = receiver(async () => {
      await held;
      answered++;
      return new Response("late");
    });
    receivers.push(slow);
    const w = (await register(env.keys, o, { url: slow.url, events: ["*"] })).body.data;
    // More events than the replica has delivery slots (WEBHOOK_CONCURRENCY, default 8): every slot is taken.
    for (let i = 0; i < 10; i++) await publishEvent(env.nc, env.topo, keyEvent(o.sub, "key.updated"));
    await waitFor(() => slow.received.length === 8, 10_000, "eight requests held by the receiver");

    const g = await env.keys.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: { label: "while webhooks hang" } });
    expect(g.status).toBe(201);
    expect((await env.keys.call("GET", "/api/v1/keys/", { headers: o.headers })).status).toBe(200);
    expect((await env.keys.call("GET", "/api/v1/keys/webhooks", { headers: o.headers })).status).toBe(200);
    const page = await deliveries(env.keys, o, w.id);
    expect(page.status).toBe(200);
    expect(page.body.data.every((d: { status: string }) => d.status === "pending")).toBe(true);
    // All of that answered while the receiver still held every request it got.
    expect(answered).toBe(0);
    expect(slow.received).toHaveLength(8);

    release();
    await waitFor(
      async () => {
        const d = (await deliveries(env.keys, o, w.id)).body.data;
        return d.length === 10 && d.every((x: { status: string }) => x.status === "delivered");
      },
      15_000,
      "all ten delivered once released",
    );
  });
});
