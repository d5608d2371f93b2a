import type { LogEntry, LogsQueryRequest } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";

export interface LogsPage {
  data: LogEntry[];
  total: number;
}

interface Row {
  total: string;
  endpoint: string | null;
  method: string | null;
  status_code: number | null;
  ts: Date | null;
  key_id: string | null;
  duration_ms: number | null;
}

/**
 * One page of an owner's logs, newest (most recently recorded) first. The
 * total is the owner's counter row and the page is a primary-key range of
 * seq, so every page, first or last, costs the same two index lookups.
 */
export async function readLogsPage(sql: Sql, q: LogsQueryRequest): Promise<LogsPage> {
  const rows = await sql<Row[]>`
    select c.total, e.endpoint, e.method, e.status_code, e.ts, e.key_id, e.duration_ms
    from usage.owner_counters c
    left join lateral (
      select endpoint, method, status_code, ts, key_id, duration_ms, seq
      from usage.events
      where owner_id = c.owner_id
        and seq between c.total - ${q.page}::int8 * ${q.limit}::int8 + 1
                    and c.total - (${q.page}::int8 - 1) * ${q.limit}::int8
    ) e on true
    where c.owner_id = ${q.ownerId}
    order by e.seq desc`;
  if (rows.length === 0) return { data: [], total: 0 };
  const total = Number(rows[0]!.total);
  const data: LogEntry[] = [];
  for (const r of rows) {
    if (r.endpoint === null) continue; // the page is past the end: the lateral join matched nothing
    data.push({
      endpoint: r.endpoint,
      method: r.method!,
      statusCode: r.status_code!,
      timestamp: r.ts!.toISOString(),
      keyId: r.key_id!,
      durationMs: r.duration_ms,
    });
  }
  return { data, total };
}
