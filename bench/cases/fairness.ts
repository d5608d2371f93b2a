/**
 * Row group "fairness": a quiet owner's /logs latency alone, then beside a
 * noisy owner hammering /logs with 64 connections. The per-owner limits
 * (LOGS_MAX_IN_FLIGHT_PER_OWNER, READ_RATE_LIMIT_PER_MINUTE) are what keep the
 * ratio near 1; before them it was 2.7 ms → 37.5 ms (issue 9, item 9).
 */
import type { Ctx } from "../lib/context";
import { usageCounts } from "../lib/data";
import { httpLoad } from "../lib/http-load";
import { summarize } from "../lib/stats";
import { row, type Row } from "../lib/table";
import { token } from "@riskinmind/testkit";

const QUIET = "uo_00001";

/** Sequential page-1 reads of the quiet owner until `until()` or `max` samples; each answer checked. */
async function quietReads(ctx: Ctx, jwt: string, max: number, until: () => boolean): Promise<{ times: number[]; failures: number }> {
  const url = `${ctx.keys.url}/api/v1/keys/logs?page=1&limit=10`;
  const headers = { authorization: `Bearer ${jwt}` };
  const times: number[] = [];
  let failures = 0;
  while (times.length < max && !until()) {
    const t = performance.now();
    const res = await fetch(url, { headers });
    const body = (await res.json().catch(() => ({}))) as { data?: unknown[] };
    times.push(performance.now() - t);
    if (res.status !== 200 || body.data?.length !== 10) failures++;
  }
  return { times, failures };
}

export async function fairnessRows(ctx: Ctx): Promise<Row[]> {
  const { perOwner } = usageCounts(ctx.usageShape, ctx.sizes.rows);
  if (perOwner < 10) throw new Error(`the quiet owner has ${perOwner} rows, fewer than a page`);
  const quietJwt = await token(QUIET);
  const noisyJwt = await token(ctx.usageShape.heavyOwner);
  // Warm-up, unmeasured.
  await quietReads(ctx, quietJwt, 20, () => false);
  const alone = await quietReads(ctx, quietJwt, ctx.sizes.samples, () => false);

  let noisyDone = false;
  const durationS = Math.max(2, ctx.sizes.httpS);
  const noisy = httpLoad({ url: `${ctx.keys.url}/api/v1/keys/logs?page=1&limit=10`, headers: { authorization: `Bearer ${noisyJwt}` }, connections: 64, durationS }).finally(() => (noisyDone = true));
  await Bun.sleep(300); // let the 64 connections open before measuring
  const beside = await quietReads(ctx, quietJwt, ctx.sizes.samples, () => noisyDone);
  const load = await noisy;

  const a = summarize(alone.times);
  const b = summarize(beside.times);
  const refused = load.requests ? load.errors / load.requests : 0;
  ctx.log(`fairness: quiet p50 ${a.p50.toFixed(2)} ms alone, ${b.p50.toFixed(2)} ms beside noisy (${load.rps.toFixed(0)}/s, ${(refused * 100).toFixed(0)}% 429); ${beside.times.length} samples`);
  const note = alone.failures + beside.failures ? ` (${alone.failures + beside.failures} quiet reads failed)` : "";
  return [
    row(`fairness: quiet owner's /logs p50 beside a noisy owner (/logs, ${load.tool} 64 conns) vs alone${note}`, b.p50, "ms", a.p50),
    row("fairness: quiet owner's /logs p99 beside the noisy owner vs alone", b.p99, "ms", a.p99),
    row("fairness: noisy owner's share of answers refused with 429 (LOGS_MAX_IN_FLIGHT_PER_OWNER)", refused * 100, "%"),
  ];
}
