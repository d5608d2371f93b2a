/**
 * Row group "usage": GET /api/v1/keys/usage for the heavy owner over HTTP
 * (keys edge → NATS → usage service → rollups), 30 days hourly and 400 days
 * daily, against the same rollup read in SQL without the transports. The
 * bulk-loaded rows bypass the writer, so the rollups are rebuilt first
 * (usage.rebuild_rollups, the migration's backfill).
 */
import { readUsage } from "../../services/usage/src/aggregate/query";
import { token } from "@riskinmind/testkit";
import type { Ctx } from "../lib/context";
import { usageCounts } from "../lib/data";
import { median, timeEach } from "../lib/stats";
import { row, type Row } from "../lib/table";

const DAY_MS = 24 * 3600_000;
/** The heavy owner's first row is at T0 + 1 s (bench/lib/data.ts). */
const T0 = Date.parse("2026-01-01T00:00:00Z");

export async function usageAggregateRows(ctx: Ctx): Promise<Row[]> {
  const t = performance.now();
  await ctx.sql`select usage.rebuild_rollups()`;
  ctx.log(`usage: rollups rebuilt from ${ctx.sizes.rows.toLocaleString("en-US")} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const { heavy } = usageCounts(ctx.usageShape, ctx.sizes.rows);
  const owner = ctx.usageShape.heavyOwner;
  const headers = { authorization: `Bearer ${await token(owner)}` };
  const where = `owner with ${heavy.toLocaleString("en-US")} of ${ctx.sizes.rows.toLocaleString("en-US")} rows`;
  const rows: Row[] = [];
  for (const [label, granularity, days, limit] of [
    ["30 days hourly", "hour", 30, 10],
    ["400 days daily", "day", 400, 20],
  ] as const) {
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + days * DAY_MS).toISOString();
    // Rows are 1 s apart from T0 + 1 s: the range holds the first (days · 86,400 − 1) of them.
    const expect = Math.min(heavy, days * 86_400 - 1);
    const buckets = granularity === "hour" ? days * 24 : days;
    let failures = 0;
    let firstFailure: string | null = null;
    const once = async () => {
      const res = await fetch(`${ctx.keys.url}/api/v1/keys/usage?from=${from}&to=${to}&granularity=${granularity}`, { headers });
      const body = (await res.json().catch(() => ({}))) as { data?: { count: number }[]; error?: { code: string } };
      const sum = body.data?.reduce((s, b) => s + b.count, 0);
      if (res.status !== 200 || body.data?.length !== buckets || sum !== expect) {
        failures++;
        firstFailure ??= `status ${res.status}${body.error ? ` ${body.error.code}` : ""}, ${body.data?.length} buckets (want ${buckets}), ${sum} calls (want ${expect})`;
      }
    };
    for (let i = 0; i < 10; i++) await once();
    failures = 0;
    const http = median(await timeEach(ctx.sizes.samples, once));
    const q = { ownerId: owner, mode: "live" as const, from: T0, to: T0 + days * DAY_MS, granularity, groupBy: "none" as const };
    for (let i = 0; i < 10; i++) await readUsage(ctx.sql as never, q);
    const raw = median(await timeEach(ctx.sizes.samples, () => readUsage(ctx.sql as never, q)));
    ctx.log(`usage ${label}: ${http.toFixed(2)} ms over HTTP, ${raw.toFixed(2)} ms the rollup read alone${failures ? `, ${failures} wrong: ${firstFailure}` : ""}`);
    const note = failures ? ` (${failures} of ${ctx.sizes.samples} wrong: ${firstFailure})` : "";
    const r = row(`usage over HTTP, ${label}, ${where}: median vs the rollup read in SQL${note}`, http, "ms", raw, { on: "value", op: "<=", limit });
    rows.push(failures ? { ...r, met: false } : r);
  }
  return rows;
}
