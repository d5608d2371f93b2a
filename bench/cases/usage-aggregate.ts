/**
 * Row group "usage": GET /api/v1/keys/usage for the heavy owner over HTTP
 * (keys edge → NATS → usage service → rollups), 30 days hourly and 400 days
 * daily, against the same rollup read in SQL without the transports. The
 * bulk-loaded rows bypass the writer, so the rollups are rebuilt first
 * (usage.rebuild_rollups, the migration's backfill). Then an owner whose
 * calls spread over 50 (key, endpoint, method, status) combinations every
 * hour: 30 days hourly over HTTP, which reads the per-bucket totals
 * (006_rollup_totals.sql), against the same answer summed in SQL from the
 * per-combination rollups, the way it was read before.
 */
import { HIST_BUCKETS } from "../../services/usage/src/aggregate/histogram";
import { readGroups, readUsage } from "../../services/usage/src/aggregate/query";
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
  rows.push(await wideOwnerRow(ctx));
  return rows;
}

const WIDE = { owner: "wide_owner", combos: 50, days: 30 };

/** 30 days hourly for an owner with 50 combinations an hour (36,000 rollup rows), rollups written directly, totals rebuilt from them. */
async function wideOwnerRow(ctx: Ctx): Promise<Row> {
  const from = T0;
  const to = T0 + WIDE.days * DAY_MS;
  // Ten calls per combination and hour, all 200s but for combinations 0..4 (404) and 5 (503), all in the 3rd histogram bucket.
  await ctx.sql`
    insert into usage.rollup_hourly (owner_id, mode, bucket, key_id, endpoint, method, status_code, count, hist)
    select ${WIDE.owner}, 'live', ${new Date(from)}::timestamptz + make_interval(hours => h), 'key_wide_' || (c % 5), '/api/v1/e' || c, 'POST',
           case when c < 5 then 404 when c = 5 then 503 else 200 end, 10,
           array_fill(0::int8, array[2]) || 10::int8 || array_fill(0::int8, array[${HIST_BUCKETS - 3}::int])
    from generate_series(0, ${WIDE.days * 24 - 1}) h, generate_series(0, ${WIDE.combos - 1}) c`;
  await ctx.sql`select usage.rebuild_rollup_totals()`;
  const expect = WIDE.days * 24 * WIDE.combos * 10;
  const headers = { authorization: `Bearer ${await token(WIDE.owner)}` };
  const url = `${ctx.keys.url}/api/v1/keys/usage?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&granularity=hour`;
  let wrong: string | null = null;
  const once = async () => {
    const res = await fetch(url, { headers });
    const body = (await res.json().catch(() => ({}))) as { data?: { count: number; clientErrors: number }[] };
    const sum = body.data?.reduce((s, b) => s + b.count, 0);
    const client = body.data?.reduce((s, b) => s + b.clientErrors, 0);
    if (res.status !== 200 || sum !== expect || client !== expect / 10) wrong ??= `status ${res.status}, ${sum} calls (want ${expect}), ${client} 4xx`;
  };
  for (let i = 0; i < 10; i++) await once();
  const http = median(await timeEach(ctx.sizes.samples, once));
  const q = { ownerId: WIDE.owner, mode: "live" as const, from, to, granularity: "hour" as const, groupBy: "none" as const };
  for (let i = 0; i < 5; i++) await readGroups(ctx.sql as never, q);
  const before = median(await timeEach(ctx.sizes.samples, () => readGroups(ctx.sql as never, q)));
  ctx.log(
    `usage 30 days hourly, ${WIDE.combos} combinations an hour: ${http.toFixed(2)} ms over HTTP, ${before.toFixed(2)} ms summing the per-combination rollups in SQL${wrong ? `, wrong: ${wrong}` : ""}`,
  );
  const r = row(
    `usage over HTTP, 30 days hourly, owner with ${WIDE.combos} combinations an hour (${(WIDE.days * 24 * WIDE.combos).toLocaleString("en-US")} rollup rows): median vs summing those rows in SQL${wrong ? ` (wrong: ${wrong})` : ""}`,
    http,
    "ms",
    before,
    { on: "value", op: "<=", limit: 10 },
  );
  return wrong ? { ...r, met: false } : r;
}
