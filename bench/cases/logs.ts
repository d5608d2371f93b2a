/**
 * Row group 4: the heavy owner's logs over HTTP (keys edge → NATS → usage
 * service → Postgres) at page 1, page 10,000 and the last page, against the
 * raw indexed SQL read of page 1 on the same table.
 */
import type { Ctx } from "../lib/context";
import { drainExport, rssOf } from "../lib/export-read";
import { usageCounts } from "../lib/data";
import { lastPage, probeLogs } from "../lib/logs-probe";
import { median, timeEach } from "../lib/stats";
import { row, type Row } from "../lib/table";
import { token } from "@riskinmind/testkit";

/** Median ms of the plain indexed read of an owner's newest 10 rows (live keys, as /logs reads by default). */
export async function rawPage1(ctx: Ctx, owner: string, n: number): Promise<number> {
  const read = () => ctx.sql`
    select endpoint, method, status_code, ts, key_id, duration_ms
    from usage.events where owner_id = ${owner} and mode = 'live' order by seq desc limit 10`;
  for (let i = 0; i < 10; i++) await read();
  return median(await timeEach(n, read));
}

export async function logsRows(ctx: Ctx): Promise<Row[]> {
  const { heavy } = usageCounts(ctx.usageShape, ctx.sizes.rows);
  const jwt = await token(ctx.usageShape.heavyOwner);
  const raw = await rawPage1(ctx, ctx.usageShape.heavyOwner, ctx.sizes.samples);
  const where = `owner with ${heavy.toLocaleString("en-US")} of ${ctx.sizes.rows.toLocaleString("en-US")} rows`;
  const rows: Row[] = [];
  let worst = 0;
  for (const [label, page] of [
    ["page 1", 1],
    ["page 10,000", 10_000],
    [`last page (${lastPage(heavy).toLocaleString("en-US")})`, lastPage(heavy)],
  ] as const) {
    const p = await probeLogs(ctx, jwt, page, heavy, ctx.sizes.samples);
    ctx.log(`logs ${label}: ${p.medianMs.toFixed(2)} ms (raw SQL page 1 ${raw.toFixed(2)} ms)${p.failures ? `, ${p.failures} failed: ${p.firstFailure}` : ""}`);
    const note = p.failures ? ` (${p.failures} of ${ctx.sizes.samples} failed: ${p.firstFailure})` : "";
    const r = row(`logs over HTTP, ${label}, ${where}: median vs raw SQL page 1${note}`, p.medianMs, "ms", raw, { on: "value", op: "<=", limit: 3 });
    rows.push(p.failures ? { ...r, met: false } : r);
    worst = Math.max(worst, p.maxMs);
  }
  rows.push(row("logs over HTTP: slowest single request of those pages, warm-up included (first reads after the bulk load)", worst, "ms"));
  await ensureRollups(ctx);
  rows.push(...(await filterRows(ctx, jwt, heavy, where)));
  rows.push(await exportRow(ctx, jwt, heavy, where));
  return rows;
}

/**
 * Filtered totals are read from the rollups, which the bulk-loaded rows
 * bypassed (bench/lib/data.ts writes usage.events directly): they are
 * rebuilt as the writer would have kept them, unless they already match the
 * owner counters (the usage group rebuilds them too).
 */
async function ensureRollups(ctx: Ctx): Promise<void> {
  const [m] = await ctx.sql<{ same: boolean }[]>`
    select (select coalesce(sum(count), 0) from usage.rollup_daily) = (select coalesce(sum(total), 0) from usage.owner_counters) as same`;
  if (m?.same) return;
  const t = performance.now();
  await ctx.sql`select usage.rebuild_rollups()`;
  ctx.log(`logs: rollups rebuilt from ${ctx.sizes.rows.toLocaleString("en-US")} bulk-loaded rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** Epoch ms of the heavy owner's row 0 (see bench/lib/data.ts: its row `seq` is `seq` seconds later). */
const T0 = Date.parse("2026-01-01T00:00:00Z");

/**
 * First page of the heavy owner's log under each filter alone and combined,
 * median over sequential requests, each answer checked for its exact total.
 * The heavy owner's rows are all POST 200 /api/v1/loans/predict, one second
 * apart: status=5xx matches none, method and endpoint match all (so the
 * exact total is a count over every one of the owner's index entries).
 */
async function filterRows(ctx: Ctx, jwt: string, heavy: number, where: string): Promise<Row[]> {
  const last7From = new Date(T0 + (heavy - 7 * 86_400) * 1000).toISOString();
  const inLast7 = Math.min(heavy, 7 * 86_400 + 1);
  const cases: [string, string, number][] = [
    ["status=5xx", "status=5xx", 0],
    ["method=POST", "method=POST", heavy],
    ["endpoint=/api/v1/loans/*", `endpoint=${encodeURIComponent("/api/v1/loans/*")}`, heavy],
    ["the last 7 days", `from=${encodeURIComponent(last7From)}`, inLast7],
    ["all four combined", `status=5xx&method=POST&endpoint=${encodeURIComponent("/api/v1/loans/*")}&from=${encodeURIComponent(last7From)}`, 0],
  ];
  const out: Row[] = [];
  const n = Math.min(ctx.sizes.samples, 30);
  for (const [label, query, total] of cases) {
    const url = `${ctx.keys.url}/api/v1/keys/logs?${query}&limit=10`;
    let failures = 0;
    let firstFailure = "";
    const once = async () => {
      const t = performance.now();
      const res = await fetch(url, { headers: { authorization: `Bearer ${jwt}` } });
      const body = (await res.json().catch(() => ({}))) as { meta?: { total: number }; data?: unknown[] };
      const ms = performance.now() - t;
      if (res.status !== 200 || body.meta?.total !== total || body.data?.length !== Math.min(10, total)) {
        failures++;
        firstFailure ||= `status ${res.status}, total ${body.meta?.total} (want ${total})`;
      }
      return ms;
    };
    for (let i = 0; i < 3; i++) await once();
    failures = 0;
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push(await once());
    const ms = median(times);
    ctx.log(`logs ${label}: ${ms.toFixed(2)} ms median, total ${total}${failures ? `, ${failures} failed: ${firstFailure}` : ""}`);
    const r = row(`logs over HTTP, first page filtered by ${label} with its exact total (${total.toLocaleString("en-US")}), ${where}: median of ${n}`, ms, "ms", null, {
      on: "value",
      op: "<=",
      limit: 10,
    });
    out.push(failures ? { ...r, met: false } : r);
  }
  return out;
}

/**
 * The export's baseline: Postgres's own COPY of the same rows and columns,
 * newest first, to a postgres.js client that counts the lines (no bus, no
 * HTTP, no JSON). An export cannot beat it; the ratio says what the rest of
 * the path costs on this machine, whatever its speed.
 */
async function rawCopyOut(ctx: Ctx, owner: string): Promise<number> {
  const t = performance.now();
  // COPY takes no parameters: the owner is the benchmark's own name, quoted as a literal.
  const literal = `'${owner.replaceAll("'", "''")}'`;
  const stream = await ctx.sql
    .unsafe(`copy (select seq, endpoint, method, status_code, ts, key_id, duration_ms from usage.events
             where owner_id = ${literal} and mode = 'live' order by seq desc) to stdout`)
    .readable();
  let lines = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  return lines / ((performance.now() - t) / 1000);
}

/** The heavy owner's whole log exported as NDJSON: rows per second against the raw COPY, and the keys service's RSS growth meanwhile. */
async function exportRow(ctx: Ctx, jwt: string, heavy: number, where: string): Promise<Row> {
  const copyRate = await rawCopyOut(ctx, ctx.usageShape.heavyOwner);
  const pid = ctx.keys.child.proc.pid;
  const before = rssOf(pid);
  let peak = before ?? 0;
  const t = performance.now();
  const res = await fetch(`${ctx.keys.url}/api/v1/keys/logs/export?format=ndjson`, { headers: { authorization: `Bearer ${jwt}` } });
  if (res.status !== 200) throw new Error(`export answered ${res.status}`);
  const lines = await drainExport(res, () => {
    peak = Math.max(peak, rssOf(pid) ?? 0);
  });
  const s = (performance.now() - t) / 1000;
  if (lines !== heavy) throw new Error(`export gave ${lines} rows, want ${heavy}`);
  const growthMb = before === null ? Number.NaN : (peak - before) / 1_048_576;
  ctx.log(`logs export: ${heavy} rows in ${s.toFixed(1)} s (${Math.round(heavy / s)} rows/s; raw COPY ${Math.round(copyRate)} rows/s), keys RSS growth ${growthMb.toFixed(1)} MB`);
  return row(
    `logs export (NDJSON) of the ${where}: rows/s vs Postgres's raw COPY TO STDOUT of the same rows (keys service RSS growth meanwhile: ${growthMb.toFixed(1)} MB)`,
    heavy / s,
    "rows/s",
    copyRate,
    {
      on: "value",
      op: ">=",
      limit: 150_000,
    },
  );
}
