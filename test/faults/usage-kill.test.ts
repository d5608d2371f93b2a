/**
 * The usage service SIGKILLed while 50,000 events stream in, then started
 * again: every event is stored exactly once. (test/usage/process.test.ts does
 * 10,000; this is the 50,000, published while the kill happens.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { USAGE_CONSUMER } from "@riskinmind/contracts";
import { ENTRY, event, serviceEnv, spawnSvc, type Svc, usageDuplicates, usageStack, type UsageStack, waitFor } from "@riskinmind/testkit";

let f: UsageStack;
const svcs: Svc[] = [];

beforeAll(async () => {
  f = await usageStack();
});
afterAll(async () => {
  for (const s of svcs) if (s.alive()) await s.child.kill("SIGKILL");
  await f?.cleanup();
});

const spawnUsage = async () => {
  const s = await spawnSvc(ENTRY.usage, serviceEnv(f.db, f.topo));
  svcs.push(s);
  return s;
};

describe("usage service killed mid-stream", () => {
  test("50,000 events, SIGKILL while they stream in, restart: exactly 50,000 rows, none lost, none doubled", async () => {
    const N = 50_000;
    const PER_MESSAGE = 50;
    const OWNERS = 5;
    const first = await spawnUsage();

    // The publisher runs on its own; the kill lands while it is still sending.
    let sent = 0;
    const publisher = (async () => {
      const pending: Promise<number>[] = [];
      while (sent < N) {
        const base = sent;
        // Half carry an id (idempotent by id), half are keyed by stream sequence + position.
        pending.push(f.publish(Array.from({ length: PER_MESSAGE }, (_, j) => event({ ownerId: `k50_${(base + j) % OWNERS}`, ...((base + j) % 2 === 0 ? { id: `k50_${base + j}` } : {}) }))));
        sent += PER_MESSAGE;
        if (pending.length >= 32) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
    })();

    await waitFor(async () => (await f.count()) >= 2_000, 20_000, "ingestion under way");
    expect(await first.child.kill("SIGKILL")).not.toBe(0);
    const sentAtKill = sent;
    const storedAtKill = await f.count();
    await publisher;
    await spawnUsage();

    // Messages the dead process held unacked come back after the consumer's ack wait (30 s).
    await waitFor(async () => (await f.count()) >= N, 90_000, `${N} rows`);
    const jsm = await f.nc.jetstreamManager();
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(f.topo.stream, USAGE_CONSUMER);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      40_000,
      "every message acked",
    );

    expect(await f.count()).toBe(N);
    for (let o = 0; o < OWNERS; o++) expect(await f.count(`owner_id = 'k50_${o}'`)).toBe(N / OWNERS);
    expect(await usageDuplicates(f.sql)).toBe(0);
    expect(await f.count("event_key like 'i:k50_%'")).toBe(N / 2);
    const [sum] = await f.sql`select sum(total)::int as n from usage.owner_counters`;
    expect(sum!.n).toBe(N);
    // Each owner's seq is gap-free 1..total: a lost or doubled row would show here too.
    const gaps = await f.sql`select owner_id from usage.events group by owner_id having max(seq) <> count(*) or min(seq) <> 1`;
    expect(gaps.length).toBe(0);
    // The kill really was mid-stream: not everything was sent or stored yet.
    expect(storedAtKill).toBeLessThan(N);
    console.log(`[usage-kill] killed with ${sentAtKill} events sent and ${storedAtKill} stored`);
  }, 150_000);
});
