import { describe, expect, test } from "bun:test";
import { nanos } from "nats";
import { event, useUsageStack, waitFor } from "@riskinmind/testkit";

const f = useUsageStack();

describe("usage stream setup", () => {
  test("events published before the service existed are ingested once it starts, and the stream takes the service's config", async () => {
    const jsm = await f.nc.jetstreamManager();
    // A publisher that started first and made a bare stream of its own.
    await jsm.streams.add({ name: f.topo.stream, subjects: [f.subject] });
    await f.publish([event({ ownerId: "early", id: "early_1" }), event({ ownerId: "early", id: "early_2" })]);
    await f.startService();
    await waitFor(async () => (await f.count("owner_id = 'early'")) === 2, 10_000, "early events");
    const info = await jsm.streams.info(f.topo.stream);
    expect(info.config.max_age).toBe(nanos(3600_000));
    expect(info.config.duplicate_window).toBe(nanos(120_000));
    expect(info.config.subjects).toEqual([f.subject]);
    expect(info.state.messages).toBe(1); // the stream kept its data through the update
  }, 30_000);

  test("starting replicas again and at the same time is harmless: one stream, one consumer, no double rows", async () => {
    const [a, b] = await Promise.all([f.startService(), f.startService()]);
    const c = await f.startService();
    expect(a && b && c).toBeTruthy();
    const jsm = await f.nc.jetstreamManager();
    const consumers = await jsm.consumers.list(f.topo.stream).next();
    expect(consumers.map((ci) => ci.name)).toEqual(["usage-ingest"]);
    await f.publish(Array.from({ length: 30 }, () => event({ ownerId: "again" })));
    await waitFor(async () => (await f.count("owner_id = 'again'")) === 30, 10_000, "30 rows");
    await f.publish(event({ ownerId: "again-marker" }));
    await waitFor(async () => (await f.count("owner_id = 'again-marker'")) === 1, 10_000, "marker");
    expect(await f.count("owner_id = 'again'")).toBe(30);
    expect(await f.count("owner_id = 'early'")).toBe(2);
  }, 30_000);
});
