/**
 * Row group 1: keys.verify against a bare echo responder, closed loop at 1,
 * 16 and 128 in flight, requests drawn from the hot set; plus a cold row.
 */
import type { Ctx } from "../lib/context";
import { natsLoad, type NatsLoadResult } from "../lib/nats-load";
import { benchKey, keyHashHex } from "../lib/keys";
import { count, row, type Row } from "../lib/table";
import { alternate, combine } from "../lib/alternate";

const ROUNDS = 3;

const enc = new TextEncoder();

/**
 * keys.verify requests for keys `from`..`to`, as the guard sends them (the
 * key's hex SHA-256). The echo baseline is sent these same bytes, so both
 * sides carry the product's request size.
 */
export function verifyPayloads(tag: string, from: number, to: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = from; i < to; i++) out.push(enc.encode(JSON.stringify({ keyHash: keyHashHex(benchKey(tag, i)) })));
  return out;
}

/** True for a `{"valid":true,...}` reply. */
export function isValidReply(data: Uint8Array): boolean {
  try {
    return JSON.parse(new TextDecoder().decode(data)).valid === true;
  } catch {
    return false;
  }
}

function errorsNote(r: NatsLoadResult): string {
  return r.errors ? ` (${r.errors} errors)` : "";
}

export async function verifyRows(ctx: Ctx): Promise<Row[]> {
  const { sizes } = ctx;
  const hot = verifyPayloads(ctx.tag, 0, sizes.hot);
  // Shuffle so consecutive requests hit unrelated keys.
  for (let i = hot.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [hot[i], hot[j]] = [hot[j]!, hot[i]!];
  }
  const rows: Row[] = [];
  const keysLabel = `${count(sizes.keys)} keys`;

  // Cold first, while the tail of the key range has never been asked about.
  const cold = verifyPayloads(ctx.tag, sizes.keys - sizes.cold, sizes.keys);
  const echoCold = await natsLoad(ctx.nc, { subject: ctx.echoSubject, payloads: cold, inFlight: 16, once: true });
  const c = await natsLoad(ctx.nc, { subject: ctx.subj.verify, payloads: cold, inFlight: 16, once: true, check: isValidReply });
  ctx.log(`verify cold K=16: ${c.rps.toFixed(0)}/s p50 ${c.p50.toFixed(2)} ms, echo ${echoCold.rps.toFixed(0)}/s`);
  rows.push(
    row(`verify cold (uncached, each key once), 16 in flight, ${keysLabel}: throughput${errorsNote(c)}`, c.rps, "req/s", echoCold.rps),
    row(`verify cold, 16 in flight: p50`, c.p50, "ms", echoCold.p50),
    row(`verify cold, 16 in flight: p99`, c.p99, "ms", echoCold.p99),
  );

  // Warm every hot key once so the rows below measure the steady state.
  await natsLoad(ctx.nc, { subject: ctx.subj.verify, payloads: hot, inFlight: 32, once: true });

  let cpu = 0;
  for (const k of [1, 16, 128]) {
    const opts = { payloads: hot, inFlight: k, durationMs: sizes.natsMs / ROUNDS, warmupMs: 100 };
    const [echoRounds, vRounds] = await alternate(
      ROUNDS,
      () => natsLoad(ctx.nc, { ...opts, subject: ctx.echoSubject }),
      () => natsLoad(ctx.nc, { ...opts, subject: ctx.subj.verify, check: isValidReply }),
    );
    const echo = combine(echoRounds);
    const v = combine(vRounds);
    cpu = Math.max(cpu, v.cpuShare);
    ctx.log(`verify K=${k}: ${v.rps.toFixed(0)}/s p50 ${v.p50.toFixed(2)} p99 ${v.p99.toFixed(2)} ms; echo ${echo.rps.toFixed(0)}/s p50 ${echo.p50.toFixed(2)} p99 ${echo.p99.toFixed(2)}`);
    const big = k === 128;
    rows.push(
      row(
        `verify ${k} in flight, hot set of ${sizes.hot.toLocaleString("en-US")}, ${keysLabel}: throughput vs echo${errorsNote(v)}`,
        v.rps,
        "req/s",
        echo.rps,
        big ? { on: "ratio", op: ">=", limit: 0.8 } : null,
      ),
      row(`verify ${k} in flight: p50 vs echo`, v.p50, "ms", echo.p50),
      row(`verify ${k} in flight: p99 vs echo`, v.p99, "ms", echo.p99, big ? { on: "ratio", op: "<=", limit: 1.5 } : null),
    );
  }
  rows.push(row("verify: requester (load generator) CPU share, max", cpu, "cores"));
  return rows;
}
