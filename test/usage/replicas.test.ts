import { describe, expect, test } from "bun:test";
import { USAGE_CONSUMER } from "@riskinmind/contracts";
import { parseUsageMessage } from "../../services/usage/src/ingest/parse";
import { writeBatch } from "../../services/usage/src/ingest/writer";
import { ensureIngestConsumer } from "../../services/usage/src/ingest/stream";
import { event, metricValue, useUsageStack, waitFor } from "@riskinmind/testkit";

const f = useUsageStack();

describe("usage replicas and redelivery", () => {
  test("a message committed by a replica that died before acking is not stored twice when redelivered", async () => {
    const jsm = await f.nc.jetstreamManager();
    await jsm.streams.add({ name: f.topo.stream, subjects: [f.subject] });
    await f.publish([event({ ownerId: "redeliver" }), event({ ownerId: "redeliver" }), event({ ownerId: "redeliver", id: "with_id" })]);
    // A "replica" (this test) on the service's durable consumer takes the message first.
    await ensureIngestConsumer(jsm, { stream: f.topo.stream, subject: f.subject });
    const consumer = await f.nc.jetstream().consumers.get(f.topo.stream, USAGE_CONSUMER);
    const msg = await consumer.next({ expires: 5000 });
    expect(msg).not.toBeNull();
    // It commits the events exactly as the service would, then "crashes": the ack never happens.
    const parsed = parseUsageMessage(msg!.data);
    expect(await writeBatch(f.sql, parsed.events)).toBe(3);
    msg!.nak();
    const second = await f.startService();
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(f.topo.stream, USAGE_CONSUMER);
        return info.num_ack_pending === 0 && info.num_pending === 0;
      },
      10_000,
      "redelivered message acked",
    );
    expect(await f.count("owner_id = 'redeliver'")).toBe(3);
    expect(await metricValue(second.metrics, "usage_events_ingested_total")).toBe(0);
    const [c] = await f.sql`select total from usage.owner_counters where owner_id = 'redeliver'`;
    expect(c!.total).toBe("3");
    await second.stop();
  }, 30_000);

  test("two replicas share the durable consumer, split the work, and store every event exactly once", async () => {
    const a = await f.startService({ batchMax: 100 });
    const b = await f.startService({ batchMax: 100 });
    const N = 4000;
    const pending: Promise<number>[] = [];
    for (let i = 0; i < N; i += 2) {
      pending.push(f.publish([event({ ownerId: `split${i % 3}` }), event({ ownerId: `split${(i + 1) % 3}` })]));
      if (pending.length >= 256) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    await waitFor(async () => (await f.count("owner_id like 'split%'")) === N, 30_000, `${N} rows`);
    const byA = await metricValue(a.metrics, "usage_events_ingested_total");
    const byB = await metricValue(b.metrics, "usage_events_ingested_total");
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
    expect(byA + byB).toBe(N);
    // Counters agree with the rows, and seqs are gap-free per owner.
    const check = await f.sql`
      select c.owner_id, c.total, count(e.*) as n, max(e.seq) as max_seq, min(e.seq) as min_seq
      from usage.owner_counters c join usage.events e using (owner_id)
      where c.owner_id like 'split%' group by c.owner_id, c.total`;
    expect(check).toHaveLength(3);
    for (const r of check) {
      expect(r.n).toBe(r.total);
      expect(r.max_seq).toBe(r.total);
      expect(r.min_seq).toBe("1");
    }
  }, 60_000);
});
