/**
 * Accuracy with many guards (issue 11): three example processes, each its
 * own guard, in front of one keys service. A key limited to L per window,
 * called evenly through all three at 10× L, is accepted L ± 10% in every
 * window; a quota of 1,000 is accepted 1,000–1,050 times, and GET shows
 * quota.used equal to the calls accepted within 5 s.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rateWindow, subjects } from "@riskinmind/contracts";
import { createUsageStream, deploy, issueKey, newOwner, predict, waitFor, type Deployment, type Svc } from "@riskinmind/testkit";

let d: Deployment;
let guards: Svc[];

beforeAll(async () => {
  d = await deploy({ services: ["keys"] });
  // The guards' usage events need somewhere to go; no usage service is needed here.
  await createUsageStream(await d.nc.jetstreamManager(), d.topo, subjects(d.topo).usageEvents);
  guards = await Promise.all([d.spawn("example"), d.spawn("example"), d.spawn("example")]);
});
afterAll(async () => {
  await d.close();
});

async function keyWith(policy: Record<string, unknown>) {
  const owner = await newOwner("accuracy");
  const { apiKey } = await issueKey(d.keys!, owner);
  const r = await d.keys!.call("PATCH", "/api/v1/keys/", { headers: owner.headers, json: policy });
  if (r.status !== 200) throw new Error(`PATCH: ${r.status} ${r.text}`);
  // Warm each guard's verdict so the measured calls start with the policy in place.
  for (const g of guards) await predict(g, apiKey);
  return { owner, apiKey };
}

describe("accuracy over 3 guards", () => {
  test("L per window at 10× L, evenly through 3 guards: L ± 10% accepted in each of 3 windows", async () => {
    const L = 50;
    const windowS = 2;
    const { apiKey } = await keyWith({ rateLimit: { limit: L, windowSeconds: windowS } });
    // Start on a window boundary, so that every measured window is whole.
    const first = rateWindow(windowS, Date.now()).end;
    await Bun.sleep(first - Date.now());
    const stop = first + 3 * windowS * 1000;
    const gapMs = (windowS * 1000) / (10 * L);
    const sent = new Map<number, number>();
    const accepted = new Map<number, number>();
    const calls: Promise<void>[] = [];
    let headersSeen = 0;
    let retryAfterSeen = 0;
    for (let i = 0; Date.now() < stop; i++) {
      const at = Date.now();
      const w = rateWindow(windowS, at).start;
      sent.set(w, (sent.get(w) ?? 0) + 1);
      calls.push(
        predict(guards[i % 3]!, apiKey).then((r) => {
          if (r.status === 200) {
            accepted.set(w, (accepted.get(w) ?? 0) + 1);
            if (r.headers.get("ratelimit-limit") === String(L)) headersSeen++;
          } else if (r.status === 429 && r.body.error?.code === "RATE_LIMITED" && Number(r.headers.get("retry-after")) >= 1) retryAfterSeen++;
          else throw new Error(`unexpected ${r.status} ${r.text}`);
        }),
      );
      // Paced against the clock, not by the gap alone, so the rate holds however late a timer fires.
      const next = first + (i + 1) * gapMs;
      if (next > Date.now()) await Bun.sleep(next - Date.now());
    }
    await Promise.all(calls);
    const windows = [...sent.keys()].sort();
    expect(windows).toHaveLength(3);
    for (const w of windows) {
      // the load really was about 10× L in every window, and the limit held it to L ± 10%
      expect(sent.get(w)!).toBeGreaterThanOrEqual(8 * L);
      const got = accepted.get(w) ?? 0;
      expect(got).toBeGreaterThanOrEqual(L * 0.9);
      expect(got).toBeLessThanOrEqual(L * 1.1);
    }
    expect(headersSeen).toBeGreaterThan(0);
    expect(retryAfterSeen).toBeGreaterThan(0);
  });

  test("a quota of 1,000 through 3 guards: accepted 1,000 to 1,050 times, and GET's quota.used catches up with the truth", async () => {
    const { owner, apiKey } = await keyWith({ quota: { limit: 1000, period: "day" } });
    // The warm-up calls count: one per guard.
    let accepted = guards.length;
    let exceeded = 0;
    let next = 0;
    const worker = async () => {
      while (next < 1500) {
        const r = await predict(guards[next++ % 3]!, apiKey);
        if (r.status === 200) accepted++;
        else if (r.status === 429 && r.body.error?.code === "QUOTA_EXCEEDED" && Number(r.headers.get("retry-after")) >= 1) exceeded++;
        else throw new Error(`unexpected ${r.status} ${r.text}`);
      }
    };
    await Promise.all(Array.from({ length: 12 }, worker));
    expect(accepted).toBeGreaterThanOrEqual(1000);
    expect(accepted).toBeLessThanOrEqual(1050);
    expect(exceeded).toBeGreaterThan(0);
    // The issue's bound: GET's used is within 5 s of the truth (the calls accepted).
    let shown = -1;
    await waitFor(
      async () => {
        const r = await d.keys!.list(owner);
        shown = r.body.success ? (r.body.data.quota?.used ?? -1) : -1;
        return shown === Math.min(accepted, 1000);
      },
      5_000,
      "quota.used to reach the calls accepted",
    ).catch((e) => {
      throw new Error(`${(e as Error).message}: shown ${shown}, accepted ${accepted}`);
    });
  });
});
