import type { Sql } from "@riskinmind/runtime";
import type { IngestEvent } from "../ingest/parse";
import { HIST_BUCKETS } from "./histogram";

/** The transaction handle `sql.begin` gives its callback. */
type Tx = Parameters<Parameters<Sql["begin"]>[1]>[0];

/** What a rollup row is made of: one stored usage row (an ingested event, its mode settled by attribution). */
export type RolledEvent = Omit<IngestEvent, "key" | "mode"> & { mode: string };

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
const LN2 = Math.log(2);

/**
 * The histogram bucket of a duration; the same function as
 * usage.duration_bucket in 004_rollups.sql (test/usage/aggregate.test.ts
 * compares rollups written here with the migration's backfill of the same rows).
 */
export function durationBucket(ms: number): number {
  return ms <= 1 ? 0 : Math.min(HIST_BUCKETS - 1, Math.ceil((2 * Math.log(ms)) / LN2));
}

/** One rollup table's rows for a batch, as columns (the histograms flattened, HIST_BUCKETS each). */
export interface RollupColumns {
  owner: string[];
  mode: string[];
  bucket: string[];
  keyId: string[];
  endpoint: string[];
  method: string[];
  status: number[];
  count: number[];
  hist: number[];
}

/**
 * Groups a batch's rows by (owner, mode, UTC hour or day, key, endpoint,
 * method, status) with their counts and histograms. Done here rather than
 * in SQL because a batch's rows are all in hand, and a histogram built by a
 * plpgsql aggregate cost ~3 µs a row, a visible share of ingestion.
 */
export function rollupColumns(events: Iterable<RolledEvent>, unit: "hour" | "day"): RollupColumns {
  const size = unit === "hour" ? HOUR_MS : DAY_MS;
  const groups = new Map<string, { e: RolledEvent; bucket: number; count: number; hist: number[] }>();
  for (const e of events) {
    const bucket = Math.floor(e.ts / size) * size;
    // NUL never occurs in stored text (validation refuses it): the key is unambiguous.
    const id = `${e.ownerId}\0${e.mode}\0${bucket}\0${e.keyId}\0${e.endpoint}\0${e.method}\0${e.statusCode}`;
    let g = groups.get(id);
    if (!g) {
      g = { e, bucket, count: 0, hist: new Array<number>(HIST_BUCKETS).fill(0) };
      groups.set(id, g);
    }
    g.count++;
    if (e.durationMs !== null) g.hist[durationBucket(e.durationMs)]!++;
  }
  const c: RollupColumns = { owner: [], mode: [], bucket: [], keyId: [], endpoint: [], method: [], status: [], count: [], hist: [] };
  for (const g of groups.values()) {
    c.owner.push(g.e.ownerId);
    c.mode.push(g.e.mode);
    c.bucket.push(new Date(g.bucket).toISOString());
    c.keyId.push(g.e.keyId);
    c.endpoint.push(g.e.endpoint);
    c.method.push(g.e.method);
    c.status.push(g.e.statusCode);
    c.count.push(g.count);
    for (const n of g.hist) c.hist.push(n);
  }
  return c;
}

/** `array[r.hist[1] + excluded.hist[1], …]`: an element-wise sum inline (usage.hist_add, a SQL function, cost ~50 µs a call). */
const MERGE = `array[${Array.from({ length: HIST_BUCKETS }, (_, i) => `r.hist[${i + 1}] + excluded.hist[${i + 1}]`).join(", ")}]`;

/**
 * The upsert of one rollup table, to run inside the writer's insert statement
 * (a CTE beside it): if that insert skips any row the whole transaction is
 * rolled back, so what is added here is exactly what was inserted.
 */
export function upsertRollup(tx: Tx, table: "usage.rollup_hourly" | "usage.rollup_daily", c: RollupColumns) {
  return tx`
    insert into ${tx.unsafe(table)} as r (owner_id, mode, bucket, key_id, endpoint, method, status_code, count, hist)
    select owner_id, mode, bucket, key_id, endpoint, method, status_code, count, h[(i - 1) * ${HIST_BUCKETS}::int + 1 : i * ${HIST_BUCKETS}::int]
    from unnest(${c.owner}::text[], ${c.mode}::text[], ${c.bucket}::timestamptz[], ${c.keyId}::text[], ${c.endpoint}::text[], ${c.method}::text[],
                ${c.status}::int4[], ${c.count}::int8[]) with ordinality as t(owner_id, mode, bucket, key_id, endpoint, method, status_code, count, i),
         (select ${`{${c.hist.join(",")}}`}::int8[] as h) hs
    on conflict (owner_id, mode, bucket, key_id, method, status_code, md5(endpoint))
    do update set count = r.count + excluded.count, hist = ${tx.unsafe(MERGE)}`;
  // The histograms travel as one array literal: postgres.js serialised a
  // number[] of 34 × rows elements about three times slower.
}

/** One totals table's rows for a batch (006_rollup_totals.sql): per (owner, mode, bucket), the histograms flattened. */
export interface TotalColumns {
  owner: string[];
  mode: string[];
  bucket: string[];
  count: number[];
  client: number[];
  server: number[];
  hist: number[];
}

/** Sums a batch's rollup rows per (owner, mode, bucket): fewer rows than events, already grouped by the finer key. */
export function totalColumns(c: RollupColumns): TotalColumns {
  const at = new Map<string, number>();
  const t: TotalColumns = { owner: [], mode: [], bucket: [], count: [], client: [], server: [], hist: [] };
  for (let i = 0; i < c.owner.length; i++) {
    const id = `${c.owner[i]}\0${c.mode[i]}\0${c.bucket[i]}`;
    let j = at.get(id);
    if (j === undefined) {
      j = t.owner.length;
      at.set(id, j);
      t.owner.push(c.owner[i]!);
      t.mode.push(c.mode[i]!);
      t.bucket.push(c.bucket[i]!);
      t.count.push(0);
      t.client.push(0);
      t.server.push(0);
      for (let b = 0; b < HIST_BUCKETS; b++) t.hist.push(0);
    }
    const n = c.count[i]!;
    const status = c.status[i]!;
    t.count[j]! += n;
    if (status >= 400 && status <= 499) t.client[j]! += n;
    else if (status >= 500 && status <= 599) t.server[j]! += n;
    for (let b = 0; b < HIST_BUCKETS; b++) t.hist[j * HIST_BUCKETS + b]! += c.hist[i * HIST_BUCKETS + b]!;
  }
  return t;
}

/** The upsert of one totals table, a CTE of the writer's insert statement like upsertRollup (same all-or-nothing). */
export function upsertTotals(tx: Tx, table: "usage.rollup_hourly_total" | "usage.rollup_daily_total", t: TotalColumns) {
  return tx`
    insert into ${tx.unsafe(table)} as r (owner_id, mode, bucket, count, client_errors, server_errors, hist)
    select owner_id, mode, bucket, count, client, server, h[(i - 1) * ${HIST_BUCKETS}::int + 1 : i * ${HIST_BUCKETS}::int]
    from unnest(${t.owner}::text[], ${t.mode}::text[], ${t.bucket}::timestamptz[], ${t.count}::int8[], ${t.client}::int8[], ${t.server}::int8[])
           with ordinality as u(owner_id, mode, bucket, count, client, server, i),
         (select ${`{${t.hist.join(",")}}`}::int8[] as h) hs
    on conflict (owner_id, mode, bucket)
    do update set count = r.count + excluded.count, client_errors = r.client_errors + excluded.client_errors,
      server_errors = r.server_errors + excluded.server_errors, hist = ${tx.unsafe(MERGE)}`;
}
