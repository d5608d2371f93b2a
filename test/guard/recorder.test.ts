/**
 * The usage recorder against real JetStream: events arrive batched and
 * deduplicable, survive a publish path that fails (no stream yet), stay within
 * their memory bound, and are flushed on close.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { JetStreamManager, NatsConnection } from "nats";
import { subjects, type Topology, type UsageEvent } from "@riskinmind/contracts";
import { UsageRecorder } from "@riskinmind/guard";
import { connectTestNats, createUsageStream, readUsageEvents, silentLog, testTopology, waitFor } from "@riskinmind/testkit";

/** The recorder's connection (identity "guard": it may publish events, not manage the stream) and the test side's. */
let guardNc: NatsConnection;
let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];
const recorders: UsageRecorder[] = [];

beforeAll(async () => {
  guardNc = await connectTestNats("guard");
  nc = await connectTestNats();
  jsm = await nc.jetstreamManager();
});

afterEach(async () => {
  for (const r of recorders.splice(0)) await r.close(1_000);
});

afterAll(async () => {
  for (const s of streams) await jsm.streams.delete(s).catch(() => {});
  await guardNc.close();
  await nc.close();
});

function event(i: number): UsageEvent {
  return {
    id: Bun.randomUUIDv7(),
    keyId: "key_test",
    ownerId: "owner_recorder",
    endpoint: `/api/v1/loans/predict`,
    method: "POST",
    statusCode: 200,
    timestamp: new Date().toISOString(),
    durationMs: i,
  };
}

function recorder(topo: Topology, opts: Partial<ConstructorParameters<typeof UsageRecorder>[2]> = {}) {
  const r = new UsageRecorder(guardNc, topo, { flushIntervalMs: 5, flushMaxEvents: 200, bufferMax: 100_000, publishTimeoutMs: 1_000, ...opts }, silentLog);
  recorders.push(r);
  return r;
}

async function withStream(topo: Topology) {
  await createUsageStream(jsm, topo, subjects(topo).usageEvents);
  streams.push(topo.stream);
}

async function streamCount(topo: Topology): Promise<number> {
  return (await readUsageEvents(nc, topo.stream)).events.length;
}

describe("usage recorder", () => {
  test("events reach the stream in batches of at most flushMaxEvents, each message with its own Nats-Msg-Id", async () => {
    const topo = testTopology();
    await withStream(topo);
    const r = recorder(topo);
    const sent = Array.from({ length: 1_000 }, (_, i) => event(i));
    for (const e of sent) r.record(e);
    await waitFor(() => r.stats().published === 1_000, 10_000, "1000 events published");
    const { events, messages } = await readUsageEvents(nc, topo.stream);
    expect(events.map((e) => e.id)).toEqual(sent.map((e) => e.id));
    expect(events[0]).toEqual(sent[0] as unknown as Record<string, unknown>);
    expect(messages.length).toBeGreaterThanOrEqual(5);
    expect(messages.every((m) => m.count <= 200)).toBe(true);
    const ids = messages.map((m) => m.msgId);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("a trickle of events is published within the flush interval without waiting for a full batch", async () => {
    const topo = testTopology();
    await withStream(topo);
    const r = recorder(topo, { flushIntervalMs: 5 });
    r.record(event(1));
    await waitFor(async () => (await streamCount(topo)) === 1, 5_000, "single event");
    expect(r.stats().publishedMessages).toBe(1);
  });

  test("events recorded while the stream is missing are buffered and all arrive, once each, when it appears", async () => {
    const topo = testTopology();
    const r = recorder(topo);
    const sent = Array.from({ length: 300 }, (_, i) => event(i));
    for (const e of sent) r.record(e);
    await waitFor(() => r.stats().failedPublishes > 0, 5_000, "a failed publish");
    expect(r.stats().buffered).toBe(300);
    await withStream(topo);
    await waitFor(() => r.stats().published === 300, 15_000, "buffered events published");
    const { events } = await readUsageEvents(nc, topo.stream);
    expect(events.map((e) => e.id).sort()).toEqual(sent.map((e) => e.id!).sort());
    expect(r.stats().dropped).toBe(0);
  });

  test("when the buffer is full the oldest events are dropped and counted; the newest arrive", async () => {
    const topo = testTopology();
    const r = recorder(topo, { bufferMax: 50 });
    const sent = Array.from({ length: 120 }, (_, i) => event(i));
    for (const e of sent) r.record(e);
    expect(r.stats().dropped).toBe(70);
    await waitFor(() => r.stats().failedPublishes > 0, 5_000, "a failed publish");
    for (const e of sent.slice(0, 10)) r.record(e); // keeps dropping the oldest while failing
    expect(r.stats().dropped).toBe(80);
    await withStream(topo);
    await waitFor(() => r.stats().published === 50, 15_000, "the kept events");
    const { events } = await readUsageEvents(nc, topo.stream);
    expect(events.map((e) => e.id)).toEqual([...sent.slice(80), ...sent.slice(0, 10)].map((e) => e.id));
  });

  test("close() publishes what is still queued", async () => {
    const topo = testTopology();
    await withStream(topo);
    const r = new UsageRecorder(guardNc, topo, { flushIntervalMs: 60_000, flushMaxEvents: 200, bufferMax: 1_000 }, silentLog);
    for (let i = 0; i < 10; i++) r.record(event(i));
    expect(r.stats().queued).toBe(10);
    await r.close(5_000);
    expect(await streamCount(topo)).toBe(10);
    expect(r.stats().dropped).toBe(0);
  });
});
