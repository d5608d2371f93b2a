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

/**
 * The group column of each groupBy and its order. Text sorts in byte order
 * ("C") so the order never depends on the database's locale; the status code
 * is already read for the error counts, so it needs no second column.
 */
const GROUP_SQL: Record<GroupBy, { select: string; order: string }> = {
  none: { select: "", order: "" },
  endpoint: { select: ", endpoint as g", order: ', endpoint collate "C"' },
  status: { select: "", order: ", status_code" },
  method: { select: ", method as g", order: ', method collate "C"' },
  key: { select: ", key_id as g", order: ', key_id collate "C"' },
};

interface Row {
  /** Bucket start, epoch ms. */
  t: number;
  s: number;
  n: number;
  /** The histogram as Postgres prints an int8[]: `{0,3,…}`. */
  h: string;
  g?: string;
}

/**
 * An owner's usage in one mode per UTC bucket (and group), from the rollups:
 * one index range of (owner, mode, bucket), never usage.events. Hourly reads
 * the hourly table, daily the daily one. Without a groupBy every bucket of
 * the range is present, empty ones as zeros; with one, only the (bucket,
 * group) pairs that saw calls.
 *
 * The rollup rows come back as they are, sorted, and are summed here: the
 * same sums in SQL (34 `sum(hist[i])` per row) cost ~10 µs a row, most of a
 * 30-day hourly read, where adding the printed array here costs under 1 µs.
 */
export async function readUsage(sql: Sql, q: UsageRead): Promise<UsageBucket[]> {
  const table = q.granularity === "hour" ? "usage.rollup_hourly" : "usage.rollup_daily";
  const group = GROUP_SQL[q.groupBy];
  // Epoch ms and counts as float8: parsed as numbers (exact below 2^53), where timestamptz and int8 would be a Date and a string.
  const rows = await sql<Row[]>`
    select (extract(epoch from bucket) * 1000)::float8 as t, status_code as s, count::float8 as n, hist::text as h${sql.unsafe(group.select)}
    from ${sql.unsafe(table)}
    where owner_id = ${q.ownerId} and mode = ${q.mode} and bucket >= ${new Date(q.from)} and bucket < ${new Date(q.to)}
    order by bucket${sql.unsafe(group.order)}`;
  const groupOf = groupReader(q.groupBy);
  const out: UsageBucket[] = [];
  const starts: number[] = [];
  const hist = new Float64Array(HIST_BUCKETS);
  let i = 0;
  while (i < rows.length) {
    // Rows are sorted by (bucket, group): one run of equal pairs is one answer row.
    const first = rows[i]!;
    const g = groupOf(first);
    let count = 0;
    let client = 0;
    let server = 0;
    hist.fill(0);
    for (; i < rows.length && rows[i]!.t === first.t && groupOf(rows[i]!) === g; i++) {
      const r = rows[i]!;
      count += r.n;
      if (r.s >= 400 && r.s <= 499) client += r.n;
      else if (r.s >= 500 && r.s <= 599) server += r.n;
      addHistText(hist, r.h);
    }
    const [p50Ms, p95Ms] = p50p95(hist);
    out.push({ bucket: new Date(first.t).toISOString(), group: g, count, clientErrors: client, serverErrors: server, p50Ms, p95Ms });
    starts.push(first.t);
  }
  return q.groupBy === "none" ? withEmptyBuckets(out, starts, q) : out;
}

function groupReader(groupBy: GroupBy): (r: Row) => string | number | null {
  if (groupBy === "none") return () => null;
  if (groupBy === "status") return (r) => r.s;
  return (r) => r.g!;
}

/** Every bucket from `from` to `to`, the ones without a row as zeros (at most 31·24+1 or 401 of them); `found` is sorted, one per bucket, starting at `starts`. */
function withEmptyBuckets(found: UsageBucket[], starts: number[], q: UsageRead): UsageBucket[] {
  const size = BUCKET_MS[q.granularity];
  const out: UsageBucket[] = [];
  let next = 0;
  for (let t = q.from; t < q.to; t += size) {
    if (starts[next] === t) {
      out.push(found[next]!);
      next++;
    } else out.push({ bucket: new Date(t).toISOString(), group: null, count: 0, clientErrors: 0, serverErrors: 0, p50Ms: null, p95Ms: null });
  }
  return out;
}
