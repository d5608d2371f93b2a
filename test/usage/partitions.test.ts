/**
 * The time-partitioned usage store (005_partitions.sql, services/usage/src/storage):
 * rows land in their UTC month's partition; partitions exist ahead; an event
 * written twice is one row, right at a month boundary too; an insert finding
 * no partition waits and is stored once the partition is made; retention
 * drops whole partitions (never a DELETE of usage rows) and totals, pages,
 * cursors and /usage follow; the migration keeps existing rows and their
 * idempotency. Old rows are written with the writer or SQL directly: the
 * service refuses events older than EVENT_MAX_AGE_MS.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { migrate, type Sql } from "@riskinmind/runtime";
import { readUsage } from "../../services/usage/src/aggregate/query";
import type { IngestEvent } from "../../services/usage/src/ingest/parse";
import { writeBatch } from "../../services/usage/src/ingest/writer";
import { readLogsPage } from "../../services/usage/src/logs/query";
import { ensurePartitions, partitionName, partitionWindow } from "../../services/usage/src/storage/partitions";
import { sweepRetention } from "../../services/usage/src/storage/retention";
import { createTestDb, event, metricValue, startUsage, testNats, USAGE_MIGRATIONS, usageStack, type UsageStack, waitFor } from "@riskinmind/testkit";

const DAY = 24 * 3600_000;
let f: UsageStack;

beforeAll(async () => {
  f = await usageStack();
  await f.startService({ batchMax: 50 });
}, 30_000);
afterAll(async () => {
  await f?.cleanup();
});

let n = 0;
/** An event for the writer (no age check there), live unless told. */
function ev(ownerId: string, ts: number, over: Partial<IngestEvent> = {}): IngestEvent {
  n++;
  return { key: `i:pt_${n}_${ts}`, ownerId, keyId: `key_${ownerId}`, endpoint: `/e/${n}`, method: "GET", statusCode: 200, ts, durationMs: 5, mode: "live", ...over };
}

/** Every partition attached to usage.events, by name. */
async function attached(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'usage.events'::regclass order by 1`;
  return rows.map((r) => r.name);
}

/** The months (partition names) from the one holding `from` to the one holding `to`. */
function months(from: number, to: number): string[] {
  const out: string[] = [];
  const d = new Date(from);
  const cur = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  for (let m = new Date(cur); m.getTime() <= to; m.setUTCMonth(m.getUTCMonth() + 1)) out.push(partitionName(m.getTime()));
  return out;
}

async function partitionOf(sql: Sql, eventKey: string): Promise<string[]> {
  const rows = await sql<{ part: string }[]>`select tableoid::regclass::text as part from usage.events where event_key = ${eventKey}`;
  return rows.map((r) => r.part);
}

describe("partitions", () => {
  test("every month from the oldest ingestible event to two months ahead has its partition once the service runs; ensuring again makes none", async () => {
    const now = Date.now();
    const { from, to } = partitionWindow(now);
    const want = months(from.getTime(), to.getTime());
    expect(want.length).toBeGreaterThanOrEqual(3);
    const have = await attached(f.sql);
    for (const name of want) expect(have).toContain(name);
    expect(await ensurePartitions(f.sql, now)).toBe(0);
  });

  test("rows land in their UTC month's partition, through the service and through the writer", async () => {
    const live = event({ ownerId: "pt_land" });
    await f.publish(live);
    await waitFor(async () => (await f.count(`event_key = 'i:${live.id}'`)) === 1, 10_000, "live event stored");
    expect(await partitionOf(f.sql, `i:${live.id}`)).toEqual([`usage.${partitionName(Date.parse(live.timestamp))}`]);

    await f.sql`select usage.ensure_partitions('2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z')`;
    const old = [ev("pt_land", Date.UTC(2025, 2, 31, 23, 59, 59, 999)), ev("pt_land", Date.UTC(2025, 3, 1))];
    expect(await writeBatch(f.sql, old)).toBe(2);
    expect(await partitionOf(f.sql, old[0]!.key)).toEqual(["usage.events_y2025m03"]);
    expect(await partitionOf(f.sql, old[1]!.key)).toEqual(["usage.events_y2025m04"]);
  });

  test("an event written again is one row, at the first and the last millisecond of a month too, alone or among new events", async () => {
    await f.sql`select usage.ensure_partitions('2025-05-01T00:00:00Z', '2025-06-01T00:00:00Z')`;
    const first = ev("pt_twice", Date.UTC(2025, 5, 1));
    const last = ev("pt_twice", Date.UTC(2025, 5, 1) - 1);
    const mid = ev("pt_twice", Date.UTC(2025, 4, 15));
    expect(await writeBatch(f.sql, [first, last, mid])).toBe(3);
    // The same batch again, each event again alone, and again among new ones.
    expect(await writeBatch(f.sql, [first, last, mid])).toBe(0);
    for (const e of [first, last]) expect(await writeBatch(f.sql, [e])).toBe(0);
    const fresh = ev("pt_twice", Date.UTC(2025, 5, 1) + 1);
    expect(await writeBatch(f.sql, [last, fresh, first])).toBe(1);
    for (const e of [first, last, mid, fresh]) expect(await partitionOf(f.sql, e.key)).toHaveLength(1);
    expect(await partitionOf(f.sql, first.key)).toEqual(["usage.events_y2025m06"]);
    expect(await partitionOf(f.sql, last.key)).toEqual(["usage.events_y2025m05"]);
    const [c] = await f.sql<{ total: string }[]>`select total from usage.owner_counters where owner_id = 'pt_twice'`;
    expect(c!.total).toBe("4");
    // Postgres itself refuses a second row with the same id and time.
    await expect(
      f.sql`insert into usage.events (owner_id, mode, seq, event_key, key_id, endpoint, method, status_code, ts)
            values ('pt_twice', 'live', 99, ${first.key}, 'k', '/x', 'GET', 200, ${new Date(first.ts)})`,
    ).rejects.toMatchObject({ code: "23505" });
  });

  test("the same message delivered twice through the service is one row", async () => {
    const e = event({ ownerId: "pt_redeliver" });
    await f.publish(e);
    await f.publish(e);
    const marker = event({ ownerId: "pt_redeliver" });
    await f.publish(marker);
    await waitFor(async () => (await f.count(`event_key = 'i:${marker.id}'`)) === 1, 10_000, "marker stored");
    expect(await f.count(`owner_id = 'pt_redeliver'`)).toBe(2);
  });

  test("an insert that finds no partition waits (nothing refused) and is stored once the service has made the partition", async () => {
    const s = await usageStack();
    try {
      const svc = await s.startService();
      const name = partitionName(Date.now());
      await s.sql.unsafe(`drop table usage.${name}`);
      const e = event({ ownerId: "pt_nopart" });
      await s.publish(e);
      await waitFor(async () => (await s.count(`event_key = 'i:${e.id}'`)) === 1, 20_000, "event stored after the partition was made");
      expect(await attached(s.sql)).toContain(name);
      expect(await partitionOf(s.sql, `i:${e.id}`)).toEqual([`usage.${name}`]);
      // Waited for, not refused: nothing counted as unstorable.
      expect(await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "unstorable" })).toBe(0);
    } finally {
      await s.cleanup();
    }
  }, 40_000);
});

describe("retention", () => {
  const OWNER = "pt_ret";
  const JAN = Date.UTC(2024, 0, 10);
  const FEB = Date.UTC(2024, 1, 10);
  const recent = Date.now() - 3600_000;
  // ts of seq s, so a page's rows can be named by their seq.
  const seqOf = new Map<string, number>();

  async function page(p: number, limit: number) {
    const r = await readLogsPage(f.sql, { ownerId: OWNER, page: p, limit });
    return { total: r.total, seqs: r.data.map((d) => seqOf.get(d.endpoint)!), nextBefore: r.nextBefore };
  }
  async function walk(limit: number): Promise<number[]> {
    const out: number[] = [];
    let r = await readLogsPage(f.sql, { ownerId: OWNER, page: 1, limit });
    out.push(...r.data.map((d) => seqOf.get(d.endpoint)!));
    while (r.nextBefore !== undefined) {
      r = await readLogsPage(f.sql, { ownerId: OWNER, page: 1, limit, before: r.nextBefore });
      out.push(...r.data.map((d) => seqOf.get(d.endpoint)!));
    }
    return out;
  }
  const usageSum = async (from: number, to: number) => (await readUsage(f.sql, { ownerId: OWNER, mode: "live", from, to, granularity: "day", groupBy: "none" })).reduce((s, b) => s + b.count, 0);
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => b - i);
  const retentionTo = (month: number) => Math.floor((Date.now() - month) / DAY);

  beforeAll(async () => {
    await f.sql`select usage.ensure_partitions('2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z')`;
    // seq 1..10 in January, 11..20 in February, 21..24 now, 25 a late January event, 26..30 now.
    const batches = [
      Array.from({ length: 10 }, (_, i) => ev(OWNER, JAN + i * 60_000)),
      Array.from({ length: 10 }, (_, i) => ev(OWNER, FEB + i * 60_000)),
      Array.from({ length: 4 }, (_, i) => ev(OWNER, recent + i)),
      [ev(OWNER, JAN + 3600_000)],
      Array.from({ length: 5 }, (_, i) => ev(OWNER, recent + 10 + i)),
    ];
    let seq = 0;
    for (const b of batches) {
      expect(await writeBatch(f.sql, b)).toBe(b.length);
      for (const e of b) seqOf.set(e.endpoint, ++seq);
    }
    // Retention may drop partitions, never delete a usage row.
    await f.sql.unsafe(`
      create function usage.no_row_delete() returns trigger language plpgsql as $$
      begin raise exception 'usage rows are never deleted'; end $$;
      create trigger no_row_delete before delete on usage.events for each row execute function usage.no_row_delete();`);
  });

  test("before any sweep: 30 rows, 30 in the total, January and February in /usage", async () => {
    expect(await page(1, 7)).toMatchObject({ total: 30, seqs: range(24, 30) });
    expect(await usageSum(Date.UTC(2024, 0, 1), Date.UTC(2024, 2, 1))).toBe(21);
  });

  test("another replica sweeping: this one skips and drops nothing", async () => {
    const other = await f.sql.reserve();
    try {
      await other`select pg_advisory_lock(hashtext('usage.retention'))`;
      const r = await sweepRetention(f.sql, { retentionDays: retentionTo(Date.UTC(2024, 2, 1)) });
      expect(r).toMatchObject({ skipped: true, dropped: [] });
      expect(await attached(f.sql)).toContain("events_y2024m01");
    } finally {
      await other`select pg_advisory_unlock(hashtext('usage.retention'))`;
      other.release();
    }
  });

  test("a sweep drops January whole (late event included): total, pages, cursor walk and /usage follow; no row deleted", async () => {
    const r = await sweepRetention(f.sql, { retentionDays: retentionTo(Date.UTC(2024, 1, 1)) });
    expect(r).toMatchObject({ skipped: false, dropped: [{ name: "events_y2024m01", rows: 11 }] });
    const parts = await attached(f.sql);
    expect(parts).not.toContain("events_y2024m01");
    expect(parts).toContain("events_y2024m02");
    const [gone] = await f.sql`select to_regclass('usage.events_y2024m01') as t`;
    expect(gone!.t).toBeNull();
    const [c] = await f.sql<{ total: string; dropped: string }[]>`select total, dropped from usage.owner_counters where owner_id = ${OWNER}`;
    expect(c).toEqual({ total: "30", dropped: "11" });

    // Pages never short: page 1 reads past the hole left by seq 25.
    expect(await page(1, 7)).toMatchObject({ total: 19, seqs: [30, 29, 28, 27, 26, 24, 23] });
    expect(await page(2, 7)).toMatchObject({ total: 19, seqs: range(17, 23) });
    expect(await page(3, 7)).toMatchObject({ total: 19, seqs: range(11, 16), nextBefore: undefined });
    expect(await page(4, 7)).toMatchObject({ total: 19, seqs: [] });
    expect(await walk(4)).toEqual([...range(26, 30), ...range(11, 24)]);

    expect(await usageSum(Date.UTC(2024, 0, 1), Date.UTC(2024, 2, 1))).toBe(10);
    for (const table of ["rollup_hourly", "rollup_daily", "rollup_hourly_total", "rollup_daily_total"]) {
      const [h] = await f.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from usage.${table} where owner_id = $1 and bucket < '2024-02-01T00:00:00Z'`, [OWNER]);
      expect([table, h!.n]).toEqual([table, 0]);
    }
    // Nothing deleted row by row from any partition left (the trigger above refuses it on every partition).
    const [del] = await f.sql<{ n: string }[]>`select coalesce(sum(n_tup_del), 0)::text as n from pg_stat_user_tables where schemaname = 'usage' and relname like 'events_y%'`;
    expect(del!.n).toBe("0");
  });

  test("sweeping again with the same retention drops nothing and counts nothing twice", async () => {
    const r = await sweepRetention(f.sql, { retentionDays: retentionTo(Date.UTC(2024, 1, 1)) });
    expect(r.dropped).toEqual([]);
    expect((await page(1, 7)).total).toBe(19);
  });

  test("without CONCURRENTLY too: February goes, the log keeps what is recent", async () => {
    const r = await sweepRetention(f.sql, { retentionDays: retentionTo(Date.UTC(2024, 2, 1)), concurrently: false });
    expect(r.dropped).toEqual([{ name: "events_y2024m02", rows: 10 }]);
    expect(await page(1, 7)).toMatchObject({ total: 9, seqs: [30, 29, 28, 27, 26, 24, 23] });
    expect(await walk(100)).toEqual([...range(26, 30), ...range(21, 24)]);
    expect(await usageSum(Date.UTC(2024, 0, 1), Date.UTC(2024, 2, 1))).toBe(0);
    const [rec] = await f.sql<{ name: string; rows: string }[]>`select name, rows::text from usage.retired_partitions order by name`;
    expect(rec).toEqual({ name: "events_y2024m01", rows: "11" });
  });

  test("a one-day retention never drops a month an event may still be ingested into", async () => {
    const before = await attached(f.sql);
    const r = await sweepRetention(f.sql, { retentionDays: 1 });
    const { from, to } = partitionWindow(Date.now());
    const after = await attached(f.sql);
    for (const name of months(from.getTime(), to.getTime())) expect(after).toContain(name);
    // Only the 2025 months the earlier tests made are old enough.
    expect(r.dropped.map((d) => d.name).sort()).toEqual(before.filter((b) => !after.includes(b)).sort());
    expect(r.dropped.every((d) => d.name.startsWith("events_y2025"))).toBe(true);
    expect((await page(1, 7)).total).toBe(9);
  });

  test("the service sweeps at start with USAGE_RETENTION_DAYS", async () => {
    await f.sql`select usage.ensure_partitions('2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z')`;
    expect(await writeBatch(f.sql, [ev("pt_svc", Date.UTC(2023, 5, 2))])).toBe(1);
    const svc = await startUsage({ db: f.db, topo: f.topo, nats: testNats(), config: { USAGE_RETENTION_DAYS: 30 } });
    try {
      await waitFor(async () => !(await attached(f.sql)).includes("events_y2023m06"), 10_000, "June 2023 dropped");
      const [c] = await f.sql<{ total: string; dropped: string }[]>`select total, dropped from usage.owner_counters where owner_id = 'pt_svc'`;
      expect(c).toEqual({ total: "1", dropped: "1" });
      expect((await readLogsPage(f.sql, { ownerId: "pt_svc", page: 1, limit: 10 })).total).toBe(0);
    } finally {
      await svc.stop();
    }
  }, 30_000);
});

describe("migration 005_partitions", () => {
  test("rows stored before partitioning are kept, each in its month, with their pages, counters and idempotency; the months ahead exist", async () => {
    const db = await createTestDb();
    const sql = postgres(db.url, { max: 2, onnotice: () => {} });
    const before = mkdtempSync(join(tmpdir(), "usage-004-"));
    try {
      for (const file of ["001_usage.sql", "002_modes.sql", "003_log_filters.sql", "004_rollups.sql"]) copyFileSync(join(USAGE_MIGRATIONS, file), join(before, file));
      await migrate(sql, "usage", before);
      const old = Date.UTC(2023, 10, 30, 23, 59, 59, 999);
      await sql`
        insert into usage.events (owner_id, mode, seq, event_key, key_id, endpoint, method, status_code, ts, duration_ms)
        select 'old', 'live', s, 'old:' || s, 'key_old', '/old/' || s, 'GET', 200,
               case when s <= 3 then ${new Date(old)}::timestamptz + make_interval(secs => s - 1) else now() - make_interval(secs => 10 - s) end, s
        from generate_series(1, 6) s`;
      await sql`insert into usage.owner_counters (owner_id, mode, total) values ('old', 'live', 6)`;

      expect(await migrate(sql, "usage", USAGE_MIGRATIONS)).toContain("005_partitions.sql");
      const [kind] = await sql`select relkind from pg_class where oid = 'usage.events'::regclass`;
      expect(kind!.relkind).toBe("p");
      const p1 = await readLogsPage(sql, { ownerId: "old", page: 1, limit: 4 });
      expect(p1).toMatchObject({ total: 6, nextBefore: 3 });
      expect(p1.data.map((d) => d.endpoint)).toEqual(["/old/6", "/old/5", "/old/4", "/old/3"]);
      const parts = await sql<{ key: string; part: string }[]>`select event_key as key, tableoid::regclass::text as part from usage.events order by seq`;
      expect(parts.slice(0, 3).map((p) => p.part)).toEqual(["usage.events_y2023m11", "usage.events_y2023m12", "usage.events_y2023m12"]);
      expect(parts).toHaveLength(6);
      const { from, to } = partitionWindow(Date.now());
      const have = await attached(sql);
      for (const name of months(Date.UTC(2023, 10, 1), to.getTime())) expect(have).toContain(name);
      expect(have).toContain(partitionName(from.getTime()));

      // An event stored before is still not a second row.
      const stored = await sql<{ ts: Date }[]>`select ts from usage.events where event_key = 'old:2'`;
      const again = { key: "old:2", ownerId: "old", keyId: "key_old", endpoint: "/old/2", method: "GET", statusCode: 200, ts: stored[0]!.ts.getTime(), durationMs: 2, mode: "live" as const };
      expect(await writeBatch(sql, [again])).toBe(0);
      expect(await writeBatch(sql, [{ ...again, key: "new:1" }])).toBe(1);
      const [c] = await sql<{ total: string; dropped: string }[]>`select total, dropped from usage.owner_counters where owner_id = 'old'`;
      expect(c).toEqual({ total: "7", dropped: "0" });
    } finally {
      rmSync(before, { recursive: true, force: true });
      await sql.end({ timeout: 2 });
      await db.drop();
    }
  }, 30_000);
});
