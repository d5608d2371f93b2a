import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { USAGE_CONSUMER } from "@riskinmind/contracts";
import { type Child, event, freePort, serviceEnv, startService, usageStack, type UsageStack, waitFor } from "@riskinmind/testkit";

const ENTRY = "services/usage/src/main.ts";
let f: UsageStack;
const children: Child[] = [];

beforeAll(async () => {
  f = await usageStack();
});
afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && !c.proc.killed) await c.kill("SIGKILL");
  await f?.cleanup();
});

async function spawnUsage(extra: Record<string, string> = {}): Promise<{ child: Child; port: number }> {
  const port = freePort();
  const child = await startService(ENTRY, serviceEnv(f.db, f.topo, extra), port);
  children.push(child);
  return { child, port };
}

async function consumerInfo() {
  const jsm = await f.nc.jetstreamManager();
  return jsm.consumers.info(f.topo.stream, USAGE_CONSUMER);
}

describe("usage service process", () => {
  test("10,000 events published while the service is SIGKILLed midway and restarted: exactly 10,000 rows", async () => {
    const first = await spawnUsage();
    const N = 10_000;
    const PER_MESSAGE = 10;
    let sent = 0;
    const publishUpTo = async (limit: number) => {
      const pending: Promise<number>[] = [];
      while (sent < limit) {
        const base = sent;
        // Half the events carry an id, half are keyed by stream sequence and position.
        pending.push(f.publish(Array.from({ length: PER_MESSAGE }, (_, j) => event({ ownerId: `kill${(base + j) % 4}`, ...((base + j) % 2 === 0 ? { id: `kill_${base + j}` } : {}) }))));
        sent += PER_MESSAGE;
        if (pending.length >= 128) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
    };
    await publishUpTo(N / 2);
    // Kill while it is ingesting: some batches committed, some in hand, some maybe committed but unacked.
    await waitFor(async () => (await f.count()) > 0, 10_000, "ingestion under way");
    expect(await first.child.kill("SIGKILL")).not.toBe(0);
    const atKill = await f.count();
    await publishUpTo(N);
    await spawnUsage();
    // Messages the dead process held come back after the ack wait (30 s).
    await waitFor(async () => (await f.count()) === N, 60_000, `${N} rows`);
    await waitFor(
      async () => {
        const info = await consumerInfo();
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      10_000,
      "every message acked",
    );
    expect(await f.count()).toBe(N);
    const [dupes] = await f.sql`select count(*)::int as n from (select event_key from usage.events group by event_key having count(*) > 1) d`;
    expect(dupes!.n).toBe(0);
    const [sum] = await f.sql`select sum(total)::int as n from usage.owner_counters`;
    expect(sum!.n).toBe(N);
    expect(atKill).toBeLessThanOrEqual(N / 2);
  }, 120_000);

  test("SIGTERM commits and acks the batch in hand before exiting 0", async () => {
    await f.sql`delete from usage.events`;
    await f.sql`delete from usage.owner_counters`;
    for (const c of children) if (c.proc.exitCode === null && !c.proc.killed) await c.kill("SIGKILL");
    // A batch that would wait 10 s to be written: only the shutdown can write it.
    const { child } = await spawnUsage({ INGEST_BATCH_WAIT_MS: "10000", INGEST_BATCH_MAX: "10000" });
    const before = await consumerInfo();
    await f.publish(Array.from({ length: 50 }, () => event({ ownerId: "term" })));
    await f.publish(event({ ownerId: "term" }));
    await waitFor(
      async () => {
        const info = await consumerInfo();
        return info.delivered.stream_seq >= before.delivered.stream_seq + 2 && info.num_pending === 0;
      },
      10_000,
      "messages delivered to the service",
    );
    expect(await f.count("owner_id = 'term'")).toBe(0);
    expect(await child.kill("SIGTERM")).toBe(0);
    expect(await f.count("owner_id = 'term'")).toBe(51);
    await waitFor(async () => (await consumerInfo()).num_ack_pending === 0, 5000, "acks received");
  }, 60_000);
});
