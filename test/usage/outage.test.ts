import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { subjects, USAGE_CONSUMER } from "@riskinmind/contracts";
import { type Child, event, freePort, type PgRelay, serviceEnv, startPgRelay, startService, usageStack, type UsageStack, waitFor } from "@riskinmind/testkit";

let f: UsageStack;
let proxy: PgRelay;
let child: Child | undefined;

beforeAll(async () => {
  f = await usageStack();
  const real = new URL(f.db.url);
  proxy = startPgRelay({ host: real.hostname, port: Number(real.port || 5432) });
});
afterAll(async () => {
  if (child && child.proc.exitCode === null) await child.kill("SIGKILL");
  proxy?.close();
  await f?.cleanup();
});

describe("usage ingestion through a Postgres outage", () => {
  test("ingestion pauses while Postgres is unreachable and resumes by itself with nothing lost or doubled", async () => {
    const viaProxy = new URL(f.db.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const port = freePort();
    child = await startService("services/usage/src/main.ts", serviceEnv(f.db, f.topo, { DATABASE_URL: viaProxy.toString() }), port);
    const ready = async () => (await fetch(`http://127.0.0.1:${port}/ready`)).status;
    expect(await ready()).toBe(200);

    await f.publish(Array.from({ length: 100 }, () => event({ ownerId: "outage" })));
    await waitFor(async () => (await f.count()) === 100, 10_000, "first 100 rows");

    proxy.cut("dropping");
    await waitFor(async () => (await ready()) === 503, 10_000, "/ready 503 during the outage");
    for (let i = 0; i < 20; i++) await f.publish(Array.from({ length: 10 }, (_, j) => event({ ownerId: "outage", ...(j % 2 ? { id: `out_${i}_${j}` } : {}) })));
    // The service sees the events but cannot commit them: they stay unacked in JetStream.
    const jsm = await f.nc.jetstreamManager();
    await waitFor(async () => (await jsm.consumers.info(f.topo.stream, USAGE_CONSUMER)).num_pending === 0, 10_000, "events delivered");
    expect(await f.count()).toBe(100);
    // Log reads answer at once with a code the edge maps to 503, never a hang.
    const reply = await f.nc.request(subjects(f.topo).logsQuery, new TextEncoder().encode(JSON.stringify({ ownerId: "outage", page: 1, limit: 10 })), { timeout: 5000 });
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ ok: false, code: "DATABASE_UNAVAILABLE" });
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);

    proxy.restore();
    await waitFor(async () => (await f.count()) === 300, 30_000, "300 rows after recovery");
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(f.topo.stream, USAGE_CONSUMER);
        return info.num_ack_pending === 0 && info.num_pending === 0;
      },
      15_000,
      "all acked",
    );
    expect(await f.count()).toBe(300);
    const [c] = await f.sql`select total from usage.owner_counters where owner_id = 'outage'`;
    expect(c!.total).toBe("300");
    expect(await ready()).toBe(200);
    // Not asserted: the "usage batch not written; will retry" line. A write sent just as the relay
    // cut the link can stay in flight on the dropped socket until the link is back and then
    // succeed, so whether a write fails (and logs) during the outage is a matter of timing; the
    // pause itself is proved above (100 rows while the events were delivered).
  }, 90_000);
});
