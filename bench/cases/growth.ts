/**
 * Row group 6: the same latencies at the small and the large data size.
 * `measureGrowthPoint` runs once after the small load and once after the
 * large one; `growthRows` turns the two points into rows (large vs small).
 */
import type { Ctx } from "../lib/context";
import { usageCounts } from "../lib/data";
import { lastPage, probeLogs } from "../lib/logs-probe";
import { natsLoad } from "../lib/nats-load";
import { count as n, row, type Row } from "../lib/table";
import { isValidReply, verifyPayloads } from "./verify";
import { token } from "@riskinmind/testkit";

export interface GrowthPoint {
  keys: number;
  rows: number;
  verifyCachedP50: number;
  verifyColdP50: number;
  logsPage1: number;
  logsLast: number;
  /** Slowest logs request at this point, warm-up included. */
  logsMax: number;
  /** Logs requests that failed at this point (counted in the medians). */
  logsFailures: number;
}

const COLD = 1000;

/** Cold keys for a growth point: a range nobody else verifies before it. */
function coldRange(ctx: Ctx, keys: number): [number, number] {
  // Small point: keys in the hot range not yet warmed; large point: just below the cold row's range.
  if (keys === ctx.sizes.keysSmall) return [keys - COLD, keys];
  const end = ctx.sizes.keys - ctx.sizes.cold;
  return [end - COLD, end];
}

export async function measureGrowthPoint(ctx: Ctx, keys: number, rows: number): Promise<GrowthPoint> {
  const [a, b] = coldRange(ctx, keys);
  const cold = await natsLoad(ctx.nc, { subject: ctx.subj.verify, payloads: verifyPayloads(ctx.tag, a, b), inFlight: 1, once: true, check: isValidReply });
  const hotN = Math.min(ctx.sizes.hot, keys);
  const hot = verifyPayloads(ctx.tag, 0, hotN);
  await natsLoad(ctx.nc, { subject: ctx.subj.verify, payloads: hot, inFlight: 32, once: true });
  const cached = await natsLoad(ctx.nc, { subject: ctx.subj.verify, payloads: hot, inFlight: 1, durationMs: ctx.sizes.natsMs, check: isValidReply });
  if (cold.errors || cached.errors) throw new Error(`growth verify at ${keys} keys: ${cold.errors + cached.errors} failed verifications`);
  const { heavy } = usageCounts(ctx.usageShape, rows);
  const jwt = await token(ctx.usageShape.heavyOwner);
  const n = Math.ceil(ctx.sizes.samples / 2);
  const p1 = await probeLogs(ctx, jwt, 1, heavy, n);
  const pl = await probeLogs(ctx, jwt, lastPage(heavy), heavy, n);
  for (const p of [p1, pl]) if (p.failures) ctx.log(`growth logs page ${p.page} at ${rows} rows: ${p.failures} failed (${p.firstFailure})`);
  const point = {
    keys,
    rows,
    verifyCachedP50: cached.p50,
    verifyColdP50: cold.p50,
    logsPage1: p1.medianMs,
    logsLast: pl.medianMs,
    logsFailures: p1.failures + pl.failures,
    logsMax: Math.max(p1.maxMs, pl.maxMs),
  };
  ctx.log(`growth point ${JSON.stringify(point)}`);
  return point;
}

export function growthRows(small: GrowthPoint, large: GrowthPoint): Row[] {
  const k = `${n(large.keys)} keys vs ${n(small.keys)}`;
  const r = `${n(large.rows)} rows vs ${n(small.rows)}`;
  const f = small.logsFailures + large.logsFailures;
  const failed = f ? ` (${f} requests failed)` : "";
  return [
    row(`growth: verify p50, cached key, 1 in flight, ${k}`, large.verifyCachedP50, "ms", small.verifyCachedP50),
    row(`growth: verify p50, uncached key (DB read), 1 in flight, ${k}`, large.verifyColdP50, "ms", small.verifyColdP50),
    row(`growth: logs page 1 median, ${r}${failed}`, large.logsPage1, "ms", small.logsPage1),
    row(`growth: logs last page median, ${r}${failed}`, large.logsLast, "ms", small.logsLast),
    row(`growth: logs slowest single request (the first reads after a bulk load), ${r}`, large.logsMax, "ms", small.logsMax),
  ];
}
