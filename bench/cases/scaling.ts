/**
 * Row group "scaling" (issue 15): what a second replica buys on this machine.
 * Ingest of the same number of events (200,000) with 1 and 2 usage replicas,
 * and keys.verify at 128 in flight with 1 and 2 keys replicas, measured in
 * this run as 1 → 2 → 2 → 1 (each side the mean of its two runs, so a drift
 * over the run, such as the table growing, does not favour either side). Every window also records where the CPU went
 * (bench/lib/cpu.ts), and the per-core costs the capacity model in
 * the README (Scaling) starts from: verify requests per keys-core-second, NATS
 * server CPU per request, ingested rows per (usage + Postgres) core-second,
 * and bytes on disk per usage row including its indexes.
 */
import type { Ctx } from "../lib/context";
import { coresText, cpuWindow } from "../lib/cpu";
import { natsLoad } from "../lib/nats-load";
import { type Proc, startKeys, startUsage } from "../lib/procs";
import { row, type Row } from "../lib/table";
import { events, ingestKeys, messages, publishAll, waitUsageIdle } from "./ingest";
import { isValidReply, verifyPayloads } from "./verify";

const INGEST_EVENTS = 200_000;
const IN_FLIGHT = 128;

type Window = Awaited<ReturnType<Awaited<ReturnType<typeof cpuWindow>>["end"]>>;

interface Ingested {
  rate: number;
  /** WAL the cluster wrote in the window (every database of it: an upper bound for ours). */
  walBytes: number;
  window: Window;
  /** Events each replica committed in the window (its usage_events_ingested_total). */
  split: number[];
}

interface Verified {
  rps: number;
  requests: number;
  errors: number;
  window: Window;
  split: number[];
}

/** A counter's value in a service's /metrics (0 when absent), summed over its series. */
async function metric(p: Proc, name: string): Promise<number> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(name) && /^[a-z_]+(\{[^}]*\})? /.test(line)) sum += Number(line.split(" ").at(-1));
  return sum;
}

export async function scalingRows(ctx: Ctx): Promise<Row[]> {
  const natsPort = Number(new URL(ctx.env.NATS_URL!).port || 4222);
  const keys = ingestKeys(ctx);
  const owners = keys.map((k) => k.ownerId);
  let round = 0;

  const committed = async () => {
    const [r] = await ctx.sql<{ n: string }[]>`select coalesce(sum(total), 0)::text as n from usage.owner_counters where owner_id = any(${owners})`;
    return Number(r!.n);
  };

  async function ingestWith(replicas: Proc[]): Promise<Ingested> {
    await waitUsageIdle(ctx);
    const msgs = messages(events(`${ctx.tag}-s${round++}`, INGEST_EVENTS, keys));
    const before = await committed();
    const m0 = await Promise.all(replicas.map((p) => metric(p, "usage_events_ingested_total")));
    const [{ lsn: lsn0 }] = (await ctx.sql`select pg_current_wal_lsn()::text as lsn`) as unknown as [{ lsn: string }];
    const w = await cpuWindow(ctx.sql, { usage: replicas.map((p) => p.child.proc.pid) }, natsPort);
    const t0 = performance.now();
    await publishAll(ctx.nc, ctx.subj.usageEvents, msgs);
    const deadline = t0 + 240_000;
    while ((await committed()) - before < INGEST_EVENTS) {
      if (performance.now() > deadline) throw new Error(`scaling ingest: not all ${INGEST_EVENTS} events committed after 240 s`);
      await Bun.sleep(10);
    }
    const rate = (INGEST_EVENTS / (performance.now() - t0)) * 1000;
    const window = await w.end();
    const [{ wal }] = (await ctx.sql`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn0}::pg_lsn)::int8::text as wal`) as unknown as [{ wal: string }];
    const walBytes = Number(wal);
    const m1 = await Promise.all(replicas.map((p) => metric(p, "usage_events_ingested_total")));
    const split = m1.map((v, i) => v - m0[i]!);
    ctx.log(
      `scaling ingest, ${replicas.length} usage replica(s): ${rate.toFixed(0)} events/s, split ${split.join("/")}, WAL ${(walBytes / INGEST_EVENTS).toFixed(0)} B/event; cores: ${coresText(window)}`,
    );
    return { rate, walBytes, window, split };
  }

  const hot = verifyPayloads(ctx.tag, 0, ctx.sizes.hot);
  async function verifyWith(replicas: Proc[]): Promise<Verified> {
    // Warm every replica's cache first (the queue group spreads the keys at random): the steady state is measured.
    for (let i = 0; i < replicas.length + 1; i++) await natsLoad(ctx.nc, { subject: ctx.subj.verify, payloads: hot, inFlight: 32, once: true });
    const m0 = await Promise.all(replicas.map((p) => metric(p, "keys_verify_total")));
    const w = await cpuWindow(ctx.sql, { keys: replicas.map((p) => p.child.proc.pid) }, natsPort);
    const r = await natsLoad(ctx.nc, { subject: ctx.subj.verify, payloads: hot, inFlight: IN_FLIGHT, durationMs: ctx.sizes.natsMs * 2, check: isValidReply });
    const window = await w.end();
    const m1 = await Promise.all(replicas.map((p) => metric(p, "keys_verify_total")));
    const split = m1.map((v, i) => v - m0[i]!);
    ctx.log(`scaling verify, ${replicas.length} keys replica(s): ${r.rps.toFixed(0)}/s p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} ms, split ${split.join("/")}; cores: ${coresText(window)}`);
    return { rps: r.rps, requests: r.n + r.errors, errors: r.errors, window, split };
  }

  /** Runs `fn` with a second replica started by `start`, stopped (SIGTERM, drained) after. */
  async function withSecond<T>(start: () => Promise<Proc>, fn: (second: Proc) => Promise<T>): Promise<T> {
    const second = await start();
    try {
      return await fn(second);
    } finally {
      await second.child.kill("SIGTERM");
    }
  }

  // 1, 2, 2, 1: a drift that grows over the run (the table, a neighbour's load) weighs on both sides alike.
  const i1a = await ingestWith([ctx.usage]);
  const [i2a, i2b] = await withSecond(
    () => startUsage(ctx.env),
    async (s) => [await ingestWith([ctx.usage, s]), await ingestWith([ctx.usage, s])] as const,
  );
  const i1b = await ingestWith([ctx.usage]);

  const v1a = await verifyWith([ctx.keys]);
  const [v2a, v2b] = await withSecond(
    () => startKeys(ctx.env),
    async (s) => [await verifyWith([ctx.keys, s]), await verifyWith([ctx.keys, s])] as const,
  );
  const v1b = await verifyWith([ctx.keys]);
  const i2 = { rate: (i2a.rate + i2b.rate) / 2, split: i2a.split.map((v, i) => v + i2b.split[i]!) };
  const v2 = { rps: (v2a.rps + v2b.rps) / 2, errors: v2a.errors + v2b.errors, split: v2a.split.map((v, i) => v + v2b.split[i]!) };

  const ingest1 = (i1a.rate + i1b.rate) / 2;
  const verify1 = (v1a.rps + v1b.rps) / 2;
  // Per-core costs from the single-replica windows (both runs pooled).
  const cpuOf = (ws: Window[], ...parts: string[]) => ws.reduce((a, w) => a + parts.reduce((b, p) => b + (w.cpu[p] ?? 0), 0), 0);
  const verifyRequests = v1a.requests + v1b.requests;
  const ingestEvents = 2 * INGEST_EVENTS;
  const iw = [i1a.window, i1b.window];
  const vw = [v1a.window, v1b.window];
  const busy = (w: Window) => w.cpu.machine! / w.wallS;

  const size = await rowBytes(ctx);
  ctx.log(
    `usage.events: ${size.rows} rows, ${size.bytes} bytes with indexes = ${size.perRow.toFixed(0)} B/row (table ${size.heapPerRow.toFixed(0)}, indexes ${(size.perRow - size.heapPerRow).toFixed(0)}); rollups ${size.rollupBytes} bytes`,
  );
  const share = (split: number[]) => (split.length > 1 ? ` (second replica took ${((100 * split[1]!) / Math.max(1, split[0]! + split[1]!)).toFixed(0)}%)` : "");

  return [
    row(`scaling: ingest ${INGEST_EVENTS.toLocaleString("en-US")} events, 2 usage replicas vs 1${share(i2.split)}`, i2.rate, "events/s", ingest1),
    row(
      `scaling: verify ${IN_FLIGHT} in flight, 2 keys replicas vs 1${share(v2.split)}${v2.errors + v1a.errors + v1b.errors ? ` (${v2.errors + v1a.errors + v1b.errors} errors)` : ""}`,
      v2.rps,
      "req/s",
      verify1,
    ),
    row("scaling: machine busy during ingest, 2 usage replicas vs 1", (busy(i2a.window) + busy(i2b.window)) / 2, "cores", (busy(i1a.window) + busy(i1b.window)) / 2),
    row("scaling: machine busy during verify, 2 keys replicas vs 1", (busy(v2a.window) + busy(v2b.window)) / 2, "cores", (busy(v1a.window) + busy(v1b.window)) / 2),
    row("cost: verify requests per keys-service core-second (1 replica)", verifyRequests / cpuOf(vw, "keys"), "req/core-s"),
    row("cost: NATS server CPU per verify request (request + reply)", (cpuOf(vw, "nats") / verifyRequests) * 1e6, "µs"),
    row("cost: load generator CPU per verify request", (cpuOf(vw, "loadgen") / verifyRequests) * 1e6, "µs"),
    row("cost: Postgres backend CPU per verify request (hot keys, cached)", (cpuOf(vw, "postgres") / verifyRequests) * 1e6, "µs"),
    row("cost: ingested rows per core-second of usage + Postgres backends (1 replica)", ingestEvents / cpuOf(iw, "usage", "postgres"), "rows/core-s"),
    row("cost: ingested rows per usage-service core-second (1 replica)", ingestEvents / cpuOf(iw, "usage"), "rows/core-s"),
    row("cost: ingested rows per Postgres core-second (1 replica)", ingestEvents / cpuOf(iw, "postgres"), "rows/core-s"),
    row("cost: Postgres background processes (WAL writer, checkpointer; whole cluster) CPU per ingested row", (cpuOf(iw, "pg-bg") / ingestEvents) * 1e6, "µs"),
    row("cost: WAL written per ingested row (whole cluster: an upper bound)", (i1a.walBytes + i1b.walBytes) / ingestEvents, "B/row"),
    row("cost: NATS server CPU per ingested event (1,000 a message)", (cpuOf(iw, "nats") / ingestEvents) * 1e6, "µs"),
    row(`cost: usage.events bytes per row on disk incl. indexes (${size.rows.toLocaleString("en-US")} rows)`, size.perRow, "B/row"),
  ];
}

/** usage.events on disk (every partition: heap, TOAST, indexes) over its row count; the rollups' size (with their totals) beside it. */
async function rowBytes(ctx: Ctx): Promise<{ rows: number; bytes: number; heapPerRow: number; perRow: number; rollupBytes: number }> {
  await ctx.sql`vacuum analyze usage.events`;
  const [s] = await ctx.sql<{ bytes: string; heap: string; rows: string; rollups: string }[]>`
    select (select sum(pg_total_relation_size(relid)) from pg_partition_tree('usage.events') where isleaf)::int8::text as bytes,
           (select sum(pg_table_size(relid)) from pg_partition_tree('usage.events') where isleaf)::int8::text as heap,
           (select count(*) from usage.events)::text as rows,
           (pg_total_relation_size('usage.rollup_hourly') + pg_total_relation_size('usage.rollup_daily')
            + pg_total_relation_size('usage.rollup_hourly_total') + pg_total_relation_size('usage.rollup_daily_total'))::text as rollups`;
  const rows = Number(s!.rows);
  const bytes = Number(s!.bytes);
  return { rows, bytes, heapPerRow: Number(s!.heap) / rows, perRow: bytes / rows, rollupBytes: Number(s!.rollups) };
}
