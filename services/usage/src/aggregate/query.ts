import { BUCKET_MS, type Granularity, type GroupBy, type KeyMode, type UsageBucket } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import { addHistText, HIST_BUCKETS, p50p95 } from "./histogram";

export interface UsageRead {
  ownerId: string;
  mode: KeyMode;
  /** Epoch ms, already whole buckets (usageRange). */
  from: number;
  to: number;
  granularity: Granularity;
  groupBy: GroupBy;
}

/** The group column of each groupBy; text in byte order ("C") so the order never depends on the database's locale. */
const GROUP_SQL: Record<GroupBy, string> = {
  none: "null::text",
  endpoint: 'endpoint collate "C"',
  status: "status_code",
  method: 'method collate "C"',
  key: 'key_id collate "C"',
};

interface Row {
  /** Bucket start, epoch ms. */
  t: number;
  g: string | number | null;
  n: number;
  client: number;
  server: number;
  /** The group's histograms as Postgres prints int8[], back to back: `{0,3,…}{1,0,…}`. */
  h: string;
}

/**
 * An owner's usage in one mode per UTC bucket (and group), from the rollups:
 * one index range of (owner, mode, bucket), never usage.events. Hourly reads
 * the hourly tables, daily the daily ones (400 days is then at most 400 rows
 * per group). Without a groupBy it reads the per-bucket totals, one row a
 * bucket, and every bucket of the range is present, empty ones as zeros; with
 * one, the rollup rows (one per combination) give the (bucket, group) pairs
 * that saw calls.
 *
 * Postgres groups and counts; the histograms are summed here. Thirty-four
 * sum(hist[i]) per answer row cost ~10 µs a row (each finishes a numeric),
 * most of a 30-day hourly read when a bucket holds one rollup row; handing
 * the rows' printed arrays over in one string and adding the digits here
 * costs a fraction of that, and no more than those sums when a bucket holds
 * many rows.
 *
 * Epoch ms and counts are read as float8: parsed as numbers (exact below
 * 2^53), where timestamptz and int8 would be a Date and a string; float8
 * sums also skip numeric, which sum(int8) would produce.
 */
export async function readUsage(sql: Sql, q: UsageRead): Promise<UsageBucket[]> {
  const rows = q.groupBy === "none" ? await readTotals(sql, q) : await readGroups(sql, q);
  const hist = new Float64Array(HIST_BUCKETS);
  const out = rows.map((r): UsageBucket => {
    hist.fill(0);
    addHistText(hist, r.h);
    const [p50Ms, p95Ms] = p50p95(hist);
    return { bucket: new Date(r.t).toISOString(), group: r.g, count: r.n, clientErrors: r.client, serverErrors: r.server, p50Ms, p95Ms };
  });
  return q.groupBy === "none" ? withEmptyBuckets(out, rows, q) : out;
}

/** Without a groupBy: one totals row per bucket (006_rollup_totals.sql), however many combinations the owner's calls had. */
function readTotals(sql: Sql, q: UsageRead): Promise<Row[]> {
  const table = q.granularity === "hour" ? "usage.rollup_hourly_total" : "usage.rollup_daily_total";
  return sql<Row[]>`
    select (extract(epoch from bucket) * 1000)::float8 as t, null::text as g, count::float8 as n,
      client_errors::float8 as client, server_errors::float8 as server, hist::text as h
    from ${sql.unsafe(table)}
    where owner_id = ${q.ownerId} and mode = ${q.mode} and bucket >= ${new Date(q.from)} and bucket < ${new Date(q.to)}
    order by bucket`;
}

/** With a groupBy: the rollup rows of the range, grouped by bucket and the group's column (with "none", the way totals were read before 006: the benchmark's baseline). */
export function readGroups(sql: Sql, q: UsageRead): Promise<Row[]> {
  const table = q.granularity === "hour" ? "usage.rollup_hourly" : "usage.rollup_daily";
  return sql<Row[]>`
    select (extract(epoch from bucket) * 1000)::float8 as t, ${sql.unsafe(GROUP_SQL[q.groupBy])} as g, sum(count::float8) as n,
      coalesce(sum(count::float8) filter (where status_code between 400 and 499), 0) as client,
      coalesce(sum(count::float8) filter (where status_code between 500 and 599), 0) as server,
      string_agg(hist::text, '') as h
    from ${sql.unsafe(table)}
    where owner_id = ${q.ownerId} and mode = ${q.mode} and bucket >= ${new Date(q.from)} and bucket < ${new Date(q.to)}
    group by bucket, 2 order by bucket, 2`;
}

/** Every bucket from `from` to `to`, the ones without a row as zeros (at most 31·24+1 or 401 of them); `found` is sorted, one per bucket, starting at `rows[i].t`. */
function withEmptyBuckets(found: UsageBucket[], rows: readonly Row[], q: UsageRead): UsageBucket[] {
  const size = BUCKET_MS[q.granularity];
  const out: UsageBucket[] = [];
  let next = 0;
  for (let t = q.from; t < q.to; t += size) {
    if (rows[next]?.t === t) {
      out.push(found[next]!);
      next++;
    } else out.push({ bucket: new Date(t).toISOString(), group: null, count: 0, clientErrors: 0, serverErrors: 0, p50Ms: null, p95Ms: null });
  }
  return out;
}
