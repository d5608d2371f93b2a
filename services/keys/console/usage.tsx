import { useCallback, useEffect, useState } from "preact/hooks";
import { Scroll } from "./scroll";
import { call } from "./api";
import { type Bucket, buckets, UsageChart } from "./chart";
import { errorText, ms, num } from "./format";
import { LogsTable } from "./logs";
import type { Mode, UsageRow } from "./types";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RANGES = [
  { id: "24h", label: "Last 24 hours, hourly", span: DAY, granularity: "hour" },
  { id: "7d", label: "Last 7 days, hourly", span: 7 * DAY, granularity: "hour" },
  { id: "30d", label: "Last 30 days, daily", span: 30 * DAY, granularity: "day" },
] as const;

interface UsageMeta {
  from: string;
  to: string;
}
interface EndpointRow {
  endpoint: string;
  calls: number;
  client: number;
  server: number;
  p95: number | null;
}

/** Per endpoint over the whole range; p95 is the worst bucket's (percentiles do not add up). */
function byEndpoint(rows: UsageRow[]): EndpointRow[] {
  const m = new Map<string, EndpointRow>();
  for (const r of rows) {
    const e = m.get(r.group ?? "") ?? { endpoint: r.group ?? "", calls: 0, client: 0, server: 0, p95: null };
    e.calls += r.count;
    e.client += r.clientErrors;
    e.server += r.serverErrors;
    if (r.p95Ms !== null) e.p95 = Math.max(e.p95 ?? 0, r.p95Ms);
    m.set(e.endpoint, e);
  }
  return [...m.values()].sort((a, b) => b.calls - a.calls);
}

export function UsageTab({ mode }: { mode: Mode }) {
  const [rangeId, setRangeId] = useState<(typeof RANGES)[number]["id"]>("24h");
  const [chart, setChart] = useState<Bucket[] | null>(null);
  const [endpoints, setEndpoints] = useState<EndpointRow[] | null>(null);
  const [error, setError] = useState("");
  const [refreshes, setRefreshes] = useState(0);
  const range = RANGES.find((r) => r.id === rangeId)!;

  const load = useCallback(async () => {
    setError("");
    const to = new Date(Date.now() + 1000).toISOString();
    const from = new Date(Date.now() - range.span).toISOString();
    const q = { from, to, granularity: range.granularity, mode };
    try {
      const [all, ep] = await Promise.all([
        call<UsageRow[], UsageMeta>("GET", "/usage", { query: { ...q, groupBy: "none" } }),
        call<UsageRow[]>("GET", "/usage", { query: { ...q, groupBy: "endpoint" } }),
      ]);
      setChart(buckets(all.data, all.meta!.from, all.meta!.to, range.granularity === "hour" ? HOUR : DAY));
      setEndpoints(byEndpoint(ep.data));
    } catch (e) {
      setError(errorText(e));
    }
  }, [range, mode]);
  useEffect(() => void load(), [load, refreshes]);

  return (
    <div class="stack">
      <h2 class="sr-only">Usage</h2>
      <div class="toolbar">
        <label for="range">Range</label>
        <select id="range" value={rangeId} onChange={(e) => setRangeId(e.currentTarget.value as typeof rangeId)}>
          {RANGES.map((r) => (
            <option key={r.id} value={r.id}>
              {r.label}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => setRefreshes((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <section class="card" aria-labelledby="calls-title">
        <h3 id="calls-title">Calls ({mode})</h3>
        {chart ? <UsageChart data={chart} label={`Calls per ${range.granularity}, ${mode} mode`} hourly={range.granularity === "hour"} /> : <p>Loading…</p>}
      </section>
      <section class="card" aria-labelledby="ep-title">
        <h3 id="ep-title">By endpoint</h3>
        {endpoints && endpoints.length === 0 && <p>No calls in this range.</p>}
        {endpoints && endpoints.length > 0 && (
          <Scroll label="Calls by endpoint">
            <table id="endpoints">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col" class="n">
                    Calls
                  </th>
                  <th scope="col" class="n">
                    4xx
                  </th>
                  <th scope="col" class="n">
                    5xx
                  </th>
                  <th scope="col" class="n">
                    p95 (worst {range.granularity})
                  </th>
                </tr>
              </thead>
              <tbody>
                {endpoints.map((e) => (
                  <tr key={e.endpoint}>
                    <th scope="row" class="mono">
                      {e.endpoint}
                    </th>
                    <td class="n">{num(e.calls)}</td>
                    <td class="n">{num(e.client)}</td>
                    <td class="n">{num(e.server)}</td>
                    <td class="n">{ms(e.p95)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )}
      </section>
      <LogsTable mode={mode} refreshes={refreshes} />
    </div>
  );
}
