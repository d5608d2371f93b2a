/**
 * NATS (JetStream on file storage, a server of this test's own) killed and
 * started again while requests flow through the example service's guard:
 * keys, usage and the guard reconnect without a restart, the usage events the
 * guard buffered arrive, and no protected request failed because of usage
 * recording.
 */
import { describe, expect, test } from "bun:test";
import { issueKey, newOwner, predict, req, usageDuplicates, usageRows, useOwnNatsDeployment, waitFor } from "@riskinmind/testkit";

const s = useOwnNatsDeployment(["usage", "keys", "example"]);

describe("NATS restarted while requests flow", () => {
  test("services reconnect by themselves, buffered usage arrives, no protected request fails because of usage recording", async () => {
    const owner = await newOwner("natsrestart");
    const { apiKey } = await issueKey(s.d.keys!, owner);
    // Cached in the guard before the outage.
    expect((await predict(s.d.example!, apiKey)).status).toBe(200);

    const outcomes: { status: number; code?: string; phase: string }[] = [];
    let phase = "before";
    let running = true;
    const loop = async () => {
      while (running) {
        const r = await predict(s.d.example!, apiKey);
        outcomes.push({ status: r.status, code: r.body?.error?.code, phase });
      }
    };
    const loops = [loop(), loop()];
    await waitFor(() => outcomes.length >= 50, 10_000, "traffic before the outage");

    phase = "down";
    await s.nats.kill();
    const downAt = outcomes.length;
    await waitFor(() => outcomes.length >= downAt + 100, 15_000, "traffic while NATS is down");

    phase = "restarting";
    await s.nats.start();
    // Every service finds the server again on its own.
    await waitFor(async () => (await req(`${s.d.keys!.url}/ready`)).status === 200, 15_000, "keys ready again");
    await waitFor(async () => (await req(`${s.d.usage!.url}/ready`)).status === 200, 15_000, "usage ready again");
    phase = "after";
    const afterAt = outcomes.length;
    await waitFor(() => outcomes.length >= afterAt + 50, 15_000, "traffic after the restart");
    running = false;
    await Promise.all(loops);

    // No request failed because of usage recording: every request while NATS was down and
    // after the services reconnected was served. After its reconnect the guard verifies
    // cached keys again (revocations may have been missed) and serves the cached answer
    // while verification is unreachable; a 503 VERIFY_UNAVAILABLE is the one refusal
    // allowed, and only in the restart window.
    const ok = outcomes.filter((o) => o.status === 200).length;
    const other = outcomes.filter((o) => o.status !== 200);
    const byPhase = outcomes.reduce((m: Record<string, number>, o) => ((m[`${o.phase}:${o.status}`] = (m[`${o.phase}:${o.status}`] ?? 0) + 1), m), {});
    for (const o of other) expect(o).toMatchObject({ status: 503, code: "VERIFY_UNAVAILABLE", phase: "restarting" });
    expect(byPhase["down:200"]).toBeGreaterThanOrEqual(100);
    expect(byPhase["after:200"]).toBeGreaterThanOrEqual(50);

    // The events buffered while NATS was away arrive: one row per served request (+1 warm-up).
    await waitFor(async () => (await usageRows(s.d.sql, owner.sub)) >= ok + 1, 30_000, `${ok + 1} usage rows`);
    await Bun.sleep(200); // nothing more may trickle in
    expect(await usageRows(s.d.sql, owner.sub)).toBe(ok + 1);
    expect(await usageDuplicates(s.d.sql)).toBe(0);

    // No process was restarted: the same ones answer.
    expect(s.d.keys!.alive() && s.d.usage!.alive() && s.d.example!.alive()).toBe(true);
    // keys.verify answers again (an uncached, new key opens the route), and /logs reaches usage.
    const other2 = await newOwner("natsrestart2");
    const fresh = await issueKey(s.d.keys!, other2);
    expect((await predict(s.d.example!, fresh.apiKey)).status).toBe(200);
    const logs = await req(`${s.d.keys!.url}/api/v1/keys/logs?limit=5`, { headers: owner.headers });
    expect(logs.status).toBe(200);
    expect(logs.body.meta.total).toBe(ok + 1);
    console.log(`[nats-restart] ${outcomes.length} requests by phase:status ${JSON.stringify(byPhase)}`);
  }, 90_000);
});
