import { BUCKET_MS, type Granularity, type GroupBy, type KeyMode, type UsageBucket } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import { HIST_SUMS_SQL, quantileMs } from "./histogram";

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
  bucket: Date;
  g: string | number | null;
  n: number;
  client: number;
  server: number;
  hist: number[];
}

/**
 * An owner's usage in one mode per UTC bucket (and group), from the rollups:
 * one index range of (owner, mode, bucket), never usage.events. Hourly reads
 * the hourly table, daily the daily one (400 days is then at most 400 rows
 * per group). Without a groupBy every bucket of the range is present, empty
 * ones as zeros; with one, only the (bucket, group) pairs that saw calls.
 */
export async function readUsage(sql: Sql, q: UsageRead): Promise<UsageBucket[]> {
  const table = q.granularity === "hour" ? "usage.rollup_hourly" : "usage.rollup_daily";
  // Counts come back as float8: exact below 2^53 and parsed as numbers, where int8 would be strings.
  const rows = await sql<Row[]>`
    select bucket, ${sql.unsafe(GROUP_SQL[q.groupBy])} as g, sum(count)::float8 as n,
      coalesce(sum(count) filter (where status_code between 400 and 499), 0)::float8 as client,
      coalesce(sum(count) filter (where status_code between 500 and 599), 0)::float8 as server,
      ${sql.unsafe(HIST_SUMS_SQL)} as hist
    from ${sql.unsafe(table)}
    where owner_id = ${q.ownerId} and mode = ${q.mode} and bucket >= ${new Date(q.from)} and bucket < ${new Date(q.to)}
    group by 1, 2 order by 1, 2`;
  const out = rows.map(toBucket);
  return q.groupBy === "none" ? withEmptyBuckets(out, q) : out;
}

function toBucket(r: Row): UsageBucket {
  return {
    bucket: r.bucket.toISOString(),
    group: r.g,
    count: r.n,
    clientErrors: r.client,
    serverErrors: r.server,
    p50Ms: quantileMs(r.hist, 0.5),
    p95Ms: quantileMs(r.hist, 0.95),
  };
}

/** Every bucket from `from` to `to`, the ones without a row as zeros (at most 31·24+1 or 401 of them). */
function withEmptyBuckets(found: UsageBucket[], q: UsageRead): UsageBucket[] {
  const byStart = new Map(found.map((b) => [Date.parse(b.bucket), b]));
  const out: UsageBucket[] = [];
  for (let t = q.from; t < q.to; t += BUCKET_MS[q.granularity]) {
    out.push(byStart.get(t) ?? { bucket: new Date(t).toISOString(), group: null, count: 0, clientErrors: 0, serverErrors: 0, p50Ms: null, p95Ms: null });
  }
  return out;
}
