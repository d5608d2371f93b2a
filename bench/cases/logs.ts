/**
 * Row group 4: the heavy owner's logs over HTTP (keys edge → NATS → usage
 * service → Postgres) at page 1, page 10,000 and the last page, against the
 * raw indexed SQL read of page 1 on the same table.
 */
import type { Ctx } from "../lib/context";
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
  return rows;
}
