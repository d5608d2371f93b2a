/**
 * Row group 2: a hello route behind the guard vs the same route unprotected,
 * in one process under the same wrk/autocannon load; and the guard's
 * in-process check of a cached key.
 */
import { createGuard } from "@riskinmind/guard";
import type { Ctx } from "../lib/context";
import { httpLoad, type HttpLoadResult } from "../lib/http-load";
import { benchKey } from "../lib/keys";
import { startGuarded } from "../lib/procs";
import { row, type Row } from "../lib/table";
import { alternate, combine } from "../lib/alternate";

const ROUNDS = 3;

function note(r: HttpLoadResult): string {
  return r.errors ? ` (${r.errors} non-2xx/errors)` : "";
}

export async function guardRows(ctx: Ctx): Promise<Row[]> {
  const key = benchKey(ctx.tag, 1);
  const headers = { "x-api-key": key };
  const app = await startGuarded(ctx.env);
  const rows: Row[] = [];
  try {
    const res = await fetch(`${app.url}/hello`, { headers });
    if (res.status !== 200) throw new Error(`guarded /hello answered ${res.status}: ${await res.text()}`);
    const d = ctx.sizes.httpS;
    const [openRounds, guardedRounds] = await alternate(
      ROUNDS,
      () => httpLoad({ url: `${app.url}/open`, headers, durationS: d / ROUNDS }),
      () => httpLoad({ url: `${app.url}/hello`, headers, durationS: d / ROUNDS }),
    );
    const open = combine(openRounds);
    const guarded = combine(guardedRounds);
    ctx.log(`guard: protected ${guarded.rps.toFixed(0)}/s (p99 ${guarded.p99} ms) vs open ${open.rps.toFixed(0)}/s (p99 ${open.p99} ms), ${guarded.tool} CPU ${guarded.cpuShare.toFixed(2)}`);
    rows.push(
      row(`guard: protected hello route vs unprotected, ${guarded.tool} 64 conns: throughput${note(guarded)}`, guarded.rps, "req/s", open.rps, { on: "ratio", op: ">=", limit: 0.8 }),
      row(`guard: protected hello route: p99 vs unprotected`, guarded.p99, "ms", open.p99),
      row(`guard: ${guarded.tool} (load generator) CPU share`, guarded.cpuShare, "cores"),
    );
  } finally {
    await app.child.kill();
  }
  rows.push(...(await inProcessCheck(ctx, key)));
  return rows;
}

/** `await guard.check(key)` on a cached key, in a tight loop in this process. */
async function inProcessCheck(ctx: Ctx, key: string): Promise<Row[]> {
  const guard = createGuard({ nc: ctx.nc, topology: ctx.topo });
  try {
    const first = await guard.check(key);
    if (!first.ok) throw new Error(`guard.check refused a valid bench key: ${first.reason}`);
    const N = ctx.sizes.httpS >= 5 ? 1_000_000 : 300_000;
    for (let i = 0; i < 10_000; i++) await guard.check(key);
    let refused = 0;
    const t = performance.now();
    for (let i = 0; i < N; i++) if (!(await guard.check(key)).ok) refused++;
    const ms = performance.now() - t;
    if (refused) throw new Error(`guard.check refused a cached valid key ${refused} times`);
    const us = (ms * 1000) / N;
    ctx.log(`guard.check cached: ${us.toFixed(3)} µs/call`);
    return [
      row("guard: in-process check of a cached key (await guard.check)", (N / ms) * 1000, "calls/s"),
      row("guard: in-process check of a cached key, time per call", us, "µs", null, { on: "value", op: "<", limit: 5 }),
    ];
  } finally {
    await guard.close();
  }
}
