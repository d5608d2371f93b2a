/**
 * Rate-limit accuracy over 3 guards: one key limited to L per window, called
 * evenly through 3 guarded processes at 10× L for 3 whole windows; the rows
 * are the fewest and the most calls accepted in a window, against L (the
 * issue's target: L ± 10%).
 */
import { rateWindow } from "@riskinmind/contracts";
import { token } from "@riskinmind/testkit";
import type { Ctx } from "../lib/context";
import { benchKey, keyOwner } from "../lib/keys";
import { startGuarded } from "../lib/procs";
import { row, type Row } from "../lib/table";

const L = 100;
const WINDOW_S = 2;
const WINDOWS = 3;
const KEY_INDEX = 300;

export async function limitsRows(ctx: Ctx): Promise<Row[]> {
  const guards = await Promise.all([startGuarded(ctx.env), startGuarded(ctx.env), startGuarded(ctx.env)]);
  try {
    const key = benchKey(ctx.tag, KEY_INDEX);
    const patch = await fetch(`${ctx.keys.url}/api/v1/keys/`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${await token(keyOwner(KEY_INDEX))}`, "content-type": "application/json" },
      body: JSON.stringify({ rateLimit: { limit: L, windowSeconds: WINDOW_S } }),
    });
    if (patch.status !== 200) throw new Error(`PATCH answered ${patch.status}: ${await patch.text()}`);
    const call = async (i: number) => {
      const r = await fetch(`${guards[i % 3]!.url}/hello`, { headers: { "x-api-key": key } });
      await r.arrayBuffer();
      return r.status;
    };
    for (let i = 0; i < 3; i++) if ((await call(i)) !== 200) throw new Error("limits: a guard refused the bench key before the run");
    const first = rateWindow(WINDOW_S, Date.now()).end;
    await Bun.sleep(first - Date.now());
    const stop = first + WINDOWS * WINDOW_S * 1000;
    const gapMs = (WINDOW_S * 1000) / (10 * L);
    const accepted = new Map<number, number>();
    const calls: Promise<void>[] = [];
    for (let i = 0; Date.now() < stop; i++) {
      const w = rateWindow(WINDOW_S, Date.now()).start;
      calls.push(
        call(i).then((status) => {
          if (status === 200) accepted.set(w, (accepted.get(w) ?? 0) + 1);
          else if (status !== 429) throw new Error(`limits: the guard answered ${status}`);
        }),
      );
      const next = first + (i + 1) * gapMs;
      if (next > Date.now()) await Bun.sleep(next - Date.now());
    }
    await Promise.all(calls);
    const counts = [...accepted.values()];
    ctx.log(`limits: accepted per ${WINDOW_S} s window at 10x L=${L}: ${counts.join(", ")}`);
    return [
      row(`rate-limit accuracy over 3 guards: fewest accepted in a window (10x L, ${WINDOWS} windows)`, Math.min(...counts), "calls", L, { on: "ratio", op: ">=", limit: 0.9 }),
      row(`rate-limit accuracy over 3 guards: most accepted in a window (10x L, ${WINDOWS} windows)`, Math.max(...counts), "calls", L, { on: "ratio", op: "<=", limit: 1.1 }),
    ];
  } finally {
    for (const g of guards) await g.child.kill().catch(() => {});
  }
}
