/**
 * Row group 2: a hello route behind the guard vs the same route unprotected,
 * in one process under the same wrk/autocannon load, with a plain key and
 * with a key that has every policy on; and the guard's in-process check of a
 * cached key, plain and with every policy.
 */
import { createGuard } from "@riskinmind/guard";
import type { Ctx } from "../lib/context";
import { httpLoad, type HttpLoadResult } from "../lib/http-load";
import { benchKey } from "../lib/keys";
import { allPolicies, BENCH_SCOPE, patchBenchKey } from "../lib/policy";
import { startGuarded } from "../lib/procs";
import { row, type Row } from "../lib/table";
import { alternate, combine } from "../lib/alternate";

const ROUNDS = 3;

function note(r: HttpLoadResult): string {
  return r.errors ? ` (${r.errors} non-2xx/errors)` : "";
}

const POLICED = 2;

export async function guardRows(ctx: Ctx): Promise<Row[]> {
  const key = benchKey(ctx.tag, 1);
  const headers = { "x-api-key": key };
  const policedKey = benchKey(ctx.tag, POLICED);
  await patchBenchKey(ctx.keys.url, POLICED, allPolicies());
  const app = await startGuarded(ctx.env);
  const rows: Row[] = [];
  try {
    const res = await fetch(`${app.url}/hello`, { headers });
    if (res.status !== 200) throw new Error(`guarded /hello answered ${res.status}: ${await res.text()}`);
    const pres = await fetch(`${app.url}/policed`, { headers: { "x-api-key": policedKey } });
    if (pres.status !== 200 || pres.headers.get("ratelimit-limit") === null)
      throw new Error(`/policed with every policy answered ${pres.status} (RateLimit-Limit ${pres.headers.get("ratelimit-limit")}): ${await pres.text()}`);
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
    const [open2Rounds, policedRounds] = await alternate(
      ROUNDS,
      () => httpLoad({ url: `${app.url}/open`, headers, durationS: d / ROUNDS }),
      () => httpLoad({ url: `${app.url}/policed`, headers: { "x-api-key": policedKey }, durationS: d / ROUNDS }),
    );
    const open2 = combine(open2Rounds);
    const policed = combine(policedRounds);
    ctx.log(`guard, every policy on: ${policed.rps.toFixed(0)}/s (p99 ${policed.p99} ms) vs open ${open2.rps.toFixed(0)}/s`);
    rows.push(
      row(
        `guard: protected route, key with every policy on (expiry, scope, allowlist, rate limit, quota) vs unprotected, ${policed.tool} 64 conns: throughput${note(policed)}`,
        policed.rps,
        "req/s",
        open2.rps,
        { on: "ratio", op: ">=", limit: 0.8 },
      ),
      row(`guard: every policy on: p99 vs unprotected`, policed.p99, "ms", open2.p99),
    );
  } finally {
    await app.child.kill();
  }
  rows.push(...(await inProcessCheck(ctx, key)));
  rows.push(...(await inProcessPolicies(ctx, policedKey)));
  return rows;
}

/** `await guard.authorize(key, { scope, ip })` for a cached key with every policy on: the check a guarded call makes. */
async function inProcessPolicies(ctx: Ctx, key: string): Promise<Row[]> {
  const guard = createGuard({ nc: ctx.nc, topology: ctx.topo });
  const call = { scope: BENCH_SCOPE, ip: "127.0.0.1" };
  try {
    const first = await guard.authorize(key, call);
    if (!first.ok) throw new Error(`guard.authorize refused the bench key with every policy: ${first.code}`);
    const N = ctx.sizes.httpS >= 5 ? 1_000_000 : 300_000;
    for (let i = 0; i < 10_000; i++) await guard.authorize(key, call);
    let refused = 0;
    const t = performance.now();
    for (let i = 0; i < N; i++) if (!(await guard.authorize(key, call)).ok) refused++;
    const ms = performance.now() - t;
    if (refused) throw new Error(`guard.authorize refused a cached key with every policy ${refused} times`);
    const us = (ms * 1000) / N;
    ctx.log(`guard.authorize cached, every policy: ${us.toFixed(3)} µs/call`);
    return [
      row("guard: in-process check of a cached key with every policy on (await guard.authorize)", (N / ms) * 1000, "calls/s"),
      row("guard: in-process check with every policy on, time per call", us, "µs", null, { on: "value", op: "<", limit: 5 }),
    ];
  } finally {
    await guard.close();
  }
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
