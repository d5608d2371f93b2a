import type { LogEntry, LogsQueryRequest } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";

export interface LogsPage {
  data: LogEntry[];
  total: number;
}

interface Row {
  endpoint: string;
  method: string;
  status_code: number;
  ts: Date;
  key_id: string;
  duration_ms: number | null;
}

/**
 * One page of an owner's logs in one key mode (live unless the query says
 * test), newest (most recently recorded) first. The total is the (owner,
 * mode) counter row and the page is a primary-key range of seq, so every
 * page, first or last, costs the same two index lookups.
 *
 * Two statements on purpose: with the bounds as plain values the planner
 * always picks the primary-key range scan. Joined to the counter in one
 * statement, the bounds are unknown at plan time and, for an owner holding a
 * large share of the table, Postgres chose a sequential scan (seconds).
 */
export async function readLogsPage(sql: Sql, q: LogsQueryRequest): Promise<LogsPage> {
  const mode = q.mode ?? "live";
  const [counter] = await sql<{ total: string }[]>`select total from usage.owner_counters where owner_id = ${q.ownerId} and mode = ${mode}`;
  const total = counter ? Number(counter.total) : 0;
  const hi = total - (q.page - 1) * q.limit;
  if (hi < 1) return { data: [], total };
  const lo = Math.max(1, hi - q.limit + 1);
  const rows = await sql<Row[]>`
    select endpoint, method, status_code, ts, key_id, duration_ms
    from usage.events
    where owner_id = ${q.ownerId} and mode = ${mode} and seq between ${lo}::int8 and ${hi}::int8
    order by seq desc`;
  const data: LogEntry[] = rows.map((r) => ({
    endpoint: r.endpoint,
    method: r.method,
    statusCode: r.status_code,
    timestamp: r.ts.toISOString(),
    keyId: r.key_id,
    durationMs: r.duration_ms,
  }));
  return { data, total };
}
