/**
 * Usage reads from a real Postgres streaming replica (issue 15): a primary
 * and a pg_basebackup replica of the test's own (testkit pg-replica.ts), the
 * usage service as a process with DATABASE_URL = primary and
 * DATABASE_READ_URL = replica. Ingest writes the primary; /logs pages come
 * from the replica (its pg_stat_activity shows the read pool, and reads keep
 * answering with the primary stopped); a replica that is down makes reads
 * answer DATABASE_UNAVAILABLE without touching ingest. The lag a reader sees
 * is measured under ingest load and printed (no threshold: it is a figure).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { subjects, type LogsQueryReply } from "@riskinmind/contracts";
import { type Child, event, freePort, type PgPair, serviceEnv, startPrimaryWithReplica, startService, type TestDb, usageStack, type UsageStack, waitFor } from "@riskinmind/testkit";

let pair: PgPair;
let f: UsageStack;
let child: Child;
let port: number;
const DB = "rim_replica";
let ingested = 0;

beforeAll(async () => {
  pair = await startPrimaryWithReplica();
  const admin = postgres(pair.primaryUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${DB}`);
  await admin.end();
  // The whole cluster goes with pair.stop(): nothing to drop.
  const db: TestDb = { url: pair.primary.url(DB), name: DB, drop: async () => {} };
  f = await usageStack({ db });
  port = freePort();
  child = await startService("services/usage/src/main.ts", serviceEnv(db, f.topo, { DATABASE_READ_URL: pair.replica.url(DB), INGEST_BATCH_MAX: "200" }), port);
}, 60_000);
afterAll(async () => {
  if (child && child.proc.exitCode === null) await child.kill("SIGKILL");
  await f?.cleanup();
  await pair?.stop();
});

async function query(req: object): Promise<LogsQueryReply> {
  const msg = await f.nc.request(subjects(f.topo).logsQuery, new TextEncoder().encode(JSON.stringify(req)), { timeout: 5000 });
  return JSON.parse(new TextDecoder().decode(msg.data)) as LogsQueryReply;
}
const total = async (ownerId: string) => {
  const r = await query({ ownerId, page: 1, limit: 10 });
  return r.ok ? r.total : -1;
};
const ready = async () => {
  const res = await fetch(`http://127.0.0.1:${port}/ready`);
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
};

/** Connections of the usage service's read pool (application_name usage-read) on a node. */
async function readPoolConnections(url: string): Promise<number> {
  const s = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [r] = await s`select count(*)::int as n from pg_stat_activity where application_name = 'usage-read'`;
    return r!.n as number;
  } finally {
    await s.end();
  }
}

async function ingest(ownerId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 50) await f.publish(Array.from({ length: Math.min(50, n - i) }, () => event({ ownerId, keyId: `key_${ownerId}` })));
  ingested += n;
  await waitFor(async () => (await f.count()) === ingested, 20_000, `${ingested} rows on the primary`);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

describe("usage reads from a streaming replica", () => {
  test("ingested events reach the primary and /logs pages show them from the replica, rows and total alike", async () => {
    expect(await ready()).toEqual({ status: 200, checks: { postgres: "up", "postgres-read": "up", nats: "up" } });
    await ingest("rep", 300);
    await waitFor(async () => (await total("rep")) === 300, 10_000, "the replica's page total");
    const page = await query({ ownerId: "rep", page: 1, limit: 100 });
    if (!page.ok) throw new Error(page.code);
    expect(page.data).toHaveLength(100);
    expect(page.data.every((d) => d.keyId === "key_rep")).toBe(true);
    // The read pool is connected to the replica, never to the primary.
    expect(await readPoolConnections(pair.replicaUrl)).toBeGreaterThan(0);
    expect(await readPoolConnections(pair.primaryUrl)).toBe(0);
    // The replica refuses writes: what it served it read.
    const onReplica = postgres(pair.replica.url(DB), { max: 1, onnotice: () => {} });
    const [rec] = await onReplica`select pg_is_in_recovery() as r`;
    expect(rec!.r).toBe(true);
    await onReplica.end();
  });

  test("the lag a reader of the replica sees, under ingest load (200 samples, printed)", async () => {
    const before = await f.count();
    let loading = true;
    const load = (async () => {
      let sent = 0;
      while (loading) {
        await f.publish(Array.from({ length: 50 }, () => event({ ownerId: "load", keyId: "key_load" })));
        sent += 50;
      }
      return sent;
    })();
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) samples.push(await pair.lagMs());
    loading = false;
    const sent = await load;
    ingested += sent;
    await waitFor(async () => (await f.count()) === ingested, 30_000, "the load's rows");
    // The samples were taken while rows were being written (the load is real).
    expect(sent).toBeGreaterThan(0);
    expect(ingested - before).toBe(sent);
    expect(samples).toHaveLength(200);
    expect(samples.every((s) => Number.isFinite(s) && s >= 0)).toBe(true);
    const sorted = [...samples].sort((a, b) => a - b);
    const fmt = (n: number) => n.toFixed(2);
    console.log(
      `[pg-replica] reader-visible lag over ${samples.length} samples while ${sent} events were ingested: p50 ${fmt(pct(sorted, 50))} ms, p99 ${fmt(pct(sorted, 99))} ms, max ${fmt(sorted.at(-1)!)} ms`,
    );
    // Every row reached the replica too.
    await waitFor(async () => (await total("load")) === sent, 10_000, "the load's total on the replica");
  });

  test("a replica that is down: reads answer DATABASE_UNAVAILABLE, /ready names it, ingest goes on; back up, reads resume", async () => {
    await pair.replica.stop();
    await waitFor(async () => (await query({ ownerId: "rep", page: 1, limit: 10 })).ok === false, 10_000, "reads failing");
    const r = await query({ ownerId: "rep", page: 1, limit: 10 });
    expect(r).toEqual({ ok: false, code: "DATABASE_UNAVAILABLE", message: "The usage database is unavailable; retry shortly." });
    expect(await ready()).toEqual({ status: 503, checks: { postgres: "up", "postgres-read": "down", nats: "up" } });
    // Writes do not depend on the replica.
    await ingest("rep", 20);
    await pair.replica.start();
    await waitFor(async () => (await total("rep")) === 320, 20_000, "the replica caught up after its restart");
    expect((await ready()).status).toBe(200);
  });

  test("the primary stopped: reads still answer from the replica", async () => {
    await pair.caughtUp();
    await pair.primary.stop();
    const page = await query({ ownerId: "rep", page: 1, limit: 5 });
    if (!page.ok) throw new Error(page.code);
    expect(page.total).toBe(320);
    expect(page.data).toHaveLength(5);
    await waitFor(async () => (await ready()).checks.postgres === "down", 10_000, "/ready sees the primary down");
    expect((await ready()).checks["postgres-read"]).toBe("up");
  });
});
