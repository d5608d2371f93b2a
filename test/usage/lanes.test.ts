/**
 * Owner lanes (INGEST_LANES, services/usage/src/ingest/consumer.ts): one
 * batch is written as several transactions at once, one per lane of owners.
 * Messages mix many owners, so every message spans lanes: each event is
 * stored once, every message is acked only once all its lanes committed, and
 * each owner's log keeps gap-free seqs in arrival order, as with one lane.
 * Real JetStream and Postgres.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { USAGE_CONSUMER } from "@riskinmind/contracts";
import postgres from "postgres";
import { event, usageStack, type UsageStack, waitFor } from "@riskinmind/testkit";
import type { IngestEvent } from "../../services/usage/src/ingest/parse";
import { type SeqOrder, writeBatch } from "../../services/usage/src/ingest/writer";

let f: UsageStack;
const OWNERS = Array.from({ length: 12 }, (_, i) => `lane_owner_${i}`);
const MESSAGES = 20;
const PER_OWNER = 10; // per message

beforeAll(async () => {
  f = await usageStack();
  // Four lanes and batches of several messages: lanes and messages cut across each other.
  await f.startService({ lanes: 4, batchMax: 600, batchWaitMs: 20 });
});
afterAll(async () => {
  await f?.cleanup();
});

describe("owner lanes", () => {
  test("messages spanning every lane: each event once, all acked, per-owner seqs gap-free in arrival order", async () => {
    const t0 = Date.now() - 120_000;
    for (let m = 0; m < MESSAGES; m++) {
      const events = [];
      for (let k = 0; k < PER_OWNER; k++) {
        for (const [o, ownerId] of OWNERS.entries()) {
          // Arrival order = (message, k): timestamps rise with it, so "seq order" must be "timestamp order".
          const n = m * PER_OWNER + k;
          events.push(event({ ownerId, id: `${ownerId}_${n}`, timestamp: new Date(t0 + n * 10 + o).toISOString() }));
        }
      }
      await f.publish(events);
    }
    const want = MESSAGES * PER_OWNER;
    await waitFor(async () => (await f.count("owner_id like 'lane_owner_%'")) === want * OWNERS.length, 20_000, "every event stored");

    for (const ownerId of OWNERS) {
      const rows = await f.sql<{ seq: string; event_key: string; ts: Date }[]>`
        select seq, event_key, ts from usage.events where owner_id = ${ownerId} order by seq`;
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: want }, (_, i) => i + 1));
      const times = rows.map((r) => r.ts.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(new Set(rows.map((r) => r.event_key)).size).toBe(want);
      const [c] = await f.sql<{ total: string }[]>`select total from usage.owner_counters where owner_id = ${ownerId}`;
      expect(Number(c!.total)).toBe(want);
    }
    // Every message acked: nothing left pending or awaiting an ack on the shared consumer.
    const jsm = await f.nc.jetstreamManager();
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(f.topo.stream, USAGE_CONSUMER);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      10_000,
      "every message acked",
    );
  }, 60_000);

  test("a batch waiting for its turn holds no connection: with a pool of one, the later batch started first still lets the earlier one commit", async () => {
    const one = postgres(f.db.url, { max: 1, onnotice: () => {} });
    try {
      const ev = (n: number): IngestEvent => ({
        key: `turn_${n}`,
        ownerId: "lane_turn",
        keyId: "key_turn",
        endpoint: "/api/v1/loans/predict",
        method: "POST",
        statusCode: 200,
        ts: Date.now() - 60_000 + n,
        durationMs: 1,
        mode: "live",
      });
      // Batch 2 waits for batch 1's counter bump; it is started first, as when its attribution answered sooner.
      let firstBumped!: () => void;
      const bumped = new Promise<void>((r) => (firstBumped = r));
      const second: SeqOrder = { turn: () => bumped, done: () => {} };
      const first: SeqOrder = { turn: () => Promise.resolve(), done: firstBumped };
      const later = writeBatch(one as never, [ev(2)], second);
      await Bun.sleep(0);
      const earlier = writeBatch(one as never, [ev(1)], first);
      // Waiting for its turn inside a transaction, batch 2 would hold the only connection batch 1 needs: neither would ever finish.
      expect(await Promise.race([Promise.all([earlier, later]), Bun.sleep(10_000).then(() => "stuck")])).toEqual([1, 1]);
      const rows = await f.sql<{ seq: string; event_key: string }[]>`select seq, event_key from usage.events where owner_id = 'lane_turn' order by seq`;
      expect(rows.map((r) => [Number(r.seq), r.event_key])).toEqual([
        [1, "turn_1"],
        [2, "turn_2"],
      ]);
    } finally {
      await one.end({ timeout: 1 });
    }
  });
});
