/**
 * Policy-change propagation: two keys-service replicas and three guards, all
 * with the key cached; the time from PATCH returning (the key's scope
 * removed) until every guard refuses the route's scope and both replicas
 * answer keys.verify with the new scopes. Modelled on the revocation row.
 */
import { createGuard } from "@riskinmind/guard";
import type { Ctx } from "../lib/context";
import { benchKey, keyHashHex } from "../lib/keys";
import { allPolicies, BENCH_SCOPE, patchBenchKey } from "../lib/policy";
import { startKeys } from "../lib/procs";
import { row, type Row } from "../lib/table";

const enc = new TextEncoder();
const dec = new TextDecoder();
const BURST = 64;
const TRIALS = 5;
const GUARDS = 3;

/** How many of a burst of verifications still report the old scope (replicas share a queue group, so 64 reach both). */
async function stale(ctx: Ctx, key: string): Promise<number> {
  const payload = enc.encode(JSON.stringify({ keyHash: keyHashHex(key) }));
  const replies = await Promise.all(Array.from({ length: BURST }, () => ctx.nc.request(ctx.subj.verify, payload, { timeout: 2000 })));
  let old = 0;
  for (const r of replies) if (((JSON.parse(dec.decode(r.data)) as { scopes?: string[] }).scopes ?? ["*"]).includes(BENCH_SCOPE)) old++;
  return old;
}

/** Ms from `t0` until `probe` holds, yielding to I/O each round (gives up at 5 s). */
async function until(t0: number, probe: () => Promise<boolean>): Promise<number> {
  while (!(await probe())) {
    if (performance.now() - t0 > 5000) return Infinity;
    await new Promise((r) => setImmediate(r));
  }
  return performance.now() - t0;
}

export async function policyChangeRows(ctx: Ctx): Promise<Row[]> {
  const second = await startKeys(ctx.env);
  const guards = Array.from({ length: GUARDS }, () => createGuard({ nc: ctx.nc, topology: ctx.topo }));
  const call = { scope: BENCH_SCOPE, ip: "127.0.0.1" };
  const times: number[] = [];
  try {
    for (let t = 0; t < TRIALS; t++) {
      const i = 200 + t;
      const key = benchKey(ctx.tag, i);
      await patchBenchKey(ctx.keys.url, i, allPolicies());
      // Cached everywhere: several bursts so both replicas answer it, and each guard has judged it.
      for (let w = 0; w < 3; w++) if ((await stale(ctx, key)) !== BURST) throw new Error("policy-change: the bench key lacked its scope before the change");
      for (const g of guards) if (!(await g.authorize(key, call)).ok) throw new Error("policy-change: a guard refused the bench key before the change");
      await patchBenchKey(ctx.keys.url, i, { scopes: ["bench:other"] });
      const t0 = performance.now();
      const waits = await Promise.all([...guards.map((g) => until(t0, async () => (await g.authorize(key, call)).ok === false)), until(t0, async () => (await stale(ctx, key)) === 0)]);
      times.push(Math.max(...waits));
      ctx.log(
        `policy change trial ${t}: guards ${waits
          .slice(0, GUARDS)
          .map((w) => w.toFixed(2))
          .join(", ")} ms, replicas ${waits[GUARDS]!.toFixed(2)} ms`,
      );
    }
  } finally {
    await Promise.all(guards.map((g) => g.close()));
    await second.child.kill();
  }
  return [row(`policy change: PATCH returned → ${GUARDS} guards and 2 keys replicas enforce it, worst of ${TRIALS}`, Math.max(...times), "ms", null, { on: "value", op: "<=", limit: 100 })];
}
