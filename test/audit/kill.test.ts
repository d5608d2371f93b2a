/**
 * A keys process SIGKILLed between a change's commit and its event's publish:
 * the event is in keys.outbox (committed with the change), and the next
 * process publishes it, exactly once. No failpoint: the first process cannot
 * reach its stream (deleted under it by the test's admin connection), so
 * its publisher keeps the rows and retries, as it would through a NATS or
 * JetStream outage, until it is killed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { connect, type NatsConnection } from "nats";
import { keyStreamOf, type Topology } from "@riskinmind/contracts";
import { createTestDb, ENTRY, natsOptions, newOwner, serviceEnv, spawnSvc, testTopology, waitFor, type TestDb } from "@riskinmind/testkit";
import { countById, outboxRows, readKeyEvents } from "./helpers";

let db: TestDb;
let topo: Topology;
let sql: postgres.Sql;
let nc: NatsConnection;

beforeAll(async () => {
  db = await createTestDb();
  topo = testTopology();
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
  nc = await connect(natsOptions());
});
afterAll(async () => {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(keyStreamOf(topo)).catch(() => {});
  await nc.close();
  await sql.end();
  await db.drop();
});

describe("kill -9 between commit and publish", () => {
  test("the committed changes' events are published once by the next process; none is lost or doubled", async () => {
    const stream = keyStreamOf(topo);
    const jsm = await nc.jetstreamManager();
    const first = await spawnSvc(ENTRY.keys, serviceEnv(db, topo, { RATE_LIMIT_PER_MINUTE: "1000" }));
    // The first process made its stream; it is taken away so that nothing the process commits can go out.
    await waitFor(async () => (await jsm.streams.info(stream)).config.name === stream, 10_000, "the key-events stream");
    await jsm.streams.delete(stream);

    const o = await newOwner("kill");
    expect((await first.generate(o, { label: "before-kill" })).status).toBe(201);
    expect((await first.revoke(o)).status).toBe(200);
    const pending = (await sql<{ event_id: string }[]>`select event_id from keys.outbox order by id`).map((r) => r.event_id);
    expect(pending).toHaveLength(2);

    first.child.proc.kill("SIGKILL");
    await first.child.exited;
    expect(first.child.proc.signalCode).toBe("SIGKILL");
    // Nothing was published: the stream is gone, the rows are still there.
    await expect(jsm.streams.info(stream)).rejects.toThrow(/stream not found/);
    expect(await outboxRows(sql)).toBe(2);

    const second = await spawnSvc(ENTRY.keys, serviceEnv(db, topo));
    try {
      await waitFor(async () => (await outboxRows(sql)) === 0, 15_000, "the outbox drained by the restarted process");
      const events = await readKeyEvents(nc, stream);
      expect(events.map((e) => e.event.id)).toEqual(pending);
      expect(events.map((e) => e.event.type)).toEqual(["key.created", "key.revoked"]);
      for (const [, n] of countById(events)) expect(n).toBe(1);
      expect(events[0]!.event.data).toMatchObject({ ownerId: o.sub, action: "key.generated", changes: { label: "before-kill" } });
    } finally {
      expect(await second.child.kill("SIGTERM")).toBe(0);
    }
  });
});
