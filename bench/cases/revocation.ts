/**
 * Revocation propagation: two keys-service replicas and a guard, all with the
 * key cached; the time from POST /revoke returning until both replicas and
 * the guard refuse it. Replicas share one queue group, so "both refuse" is
 * observed as a burst of 64 concurrent verifications all refused (the chance
 * that 64 requests all land on one of two replicas is 2^-63).
 */
import { createGuard } from "@riskinmind/guard";
import type { Ctx } from "../lib/context";
import { benchKey, keyHashHex, keyOwner } from "../lib/keys";
import { startKeys } from "../lib/procs";
import { row, type Row } from "../lib/table";
import { token } from "@riskinmind/testkit";

const enc = new TextEncoder();
const dec = new TextDecoder();
const BURST = 64;
const TRIALS = 5;

async function burst(ctx: Ctx, key: string): Promise<{ valid: number; refused: number }> {
  // As the guard asks: by the key's SHA-256.
  const payload = enc.encode(JSON.stringify({ keyHash: keyHashHex(key) }));
  const replies = await Promise.all(Array.from({ length: BURST }, () => ctx.nc.request(ctx.subj.verify, payload, { timeout: 2000 })));
  let valid = 0;
  for (const r of replies) if ((JSON.parse(dec.decode(r.data)) as { valid: boolean }).valid) valid++;
  return { valid, refused: BURST - valid };
}

/**
 * Ms from `t0` until `probe` holds, polling as fast as the event loop allows
 * (gives up at 5 s). Each round yields to I/O: a cached guard check resolves
 * without any, and a loop of only resolved promises would starve the socket
 * that brings the revocation event (and the replicas' replies) in.
 */
async function until(t0: number, probe: () => Promise<boolean>): Promise<number> {
  while (!(await probe())) {
    if (performance.now() - t0 > 5000) return Infinity;
    await new Promise((r) => setImmediate(r));
  }
  return performance.now() - t0;
}

export async function revocationRows(ctx: Ctx): Promise<Row[]> {
  const second = await startKeys(ctx.env);
  const guard = createGuard({ nc: ctx.nc, topology: ctx.topo });
  const times: number[] = [];
  try {
    for (let t = 0; t < TRIALS; t++) {
      const i = 100 + t;
      const key = benchKey(ctx.tag, i);
      // Cache the key everywhere: several bursts so both replicas answer it.
      for (let w = 0; w < 3; w++) if ((await burst(ctx, key)).valid !== BURST) throw new Error("revocation: a bench key was not valid before revoke");
      if (!(await guard.check(key)).ok) throw new Error("revocation: guard refused a bench key before revoke");
      const res = await fetch(`${ctx.keys.url}/api/v1/keys/revoke`, { method: "POST", headers: { authorization: `Bearer ${await token(keyOwner(i))}` } });
      const t0 = performance.now();
      if (res.status !== 200) throw new Error(`revoke answered ${res.status}: ${await res.text()}`);
      const [g, r] = await Promise.all([until(t0, async () => !(await guard.check(key)).ok), until(t0, async () => (await burst(ctx, key)).refused === BURST)]);
      times.push(Math.max(g, r));
      ctx.log(`revocation trial ${t}: guard ${g.toFixed(2)} ms, replicas ${r.toFixed(2)} ms`);
    }
  } finally {
    await guard.close();
    await second.child.kill();
  }
  return [row(`revocation: revoke returned → 2 keys replicas and a guard refuse, worst of ${TRIALS}`, Math.max(...times), "ms", null, { on: "value", op: "<=", limit: 100 })];
}
