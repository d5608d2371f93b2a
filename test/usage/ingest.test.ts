import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { captureLogger, event, metricValue, type UsageInstance, usageStack, type UsageStack, waitFor } from "@riskinmind/testkit";

let f: UsageStack;
let svc: UsageInstance;

beforeAll(async () => {
  f = await usageStack();
  svc = await f.startService();
});
afterAll(async () => {
  await f?.cleanup();
});

describe("usage ingestion", () => {
  test("one event in a message is stored with every field", async () => {
    const ts = new Date(Date.now() - 60_000).toISOString();
    const e = event({ ownerId: "one", keyId: "key_one", endpoint: "/api/v1/loans/predict", method: "POST", statusCode: 201, timestamp: ts, durationMs: 3.25 });
    await f.publish(e);
    await waitFor(async () => (await f.count("owner_id = 'one'")) === 1, 10_000, "the event row");
    const [row] = await f.sql`select * from usage.events where owner_id = 'one'`;
    expect(row).toMatchObject({ owner_id: "one", key_id: "key_one", endpoint: "/api/v1/loans/predict", method: "POST", status_code: 201, duration_ms: 3.25, seq: "1" });
    expect((row!.ts as Date).toISOString()).toBe(ts);
    expect(row!.event_key).toBe(`i:${e.id}`);
  }, 30_000);

  test("an array of events is stored as one row each, durationMs optional", async () => {
    const batch = Array.from({ length: 25 }, (_, i) => event({ ownerId: "arr", statusCode: 200 + i, durationMs: i === 0 ? undefined : i }));
    delete (batch[0] as { durationMs?: number }).durationMs;
    await f.publish(batch);
    await waitFor(async () => (await f.count("owner_id = 'arr'")) === 25, 10_000, "25 rows");
    const rows = await f.sql`select status_code, duration_ms from usage.events where owner_id = 'arr' order by status_code`;
    expect(rows.map((r) => r.status_code)).toEqual(Array.from({ length: 25 }, (_, i) => 200 + i));
    expect(rows[0]!.duration_ms).toBeNull();
    const [c] = await f.sql`select total from usage.owner_counters where owner_id = 'arr'`;
    expect(c!.total).toBe("25");
  }, 30_000);

  test("the same event id published twice is one row", async () => {
    const e = event({ id: "evt_dup_1", ownerId: "dup" });
    await f.publish(e);
    await f.publish([e, event({ id: "evt_dup_2", ownerId: "dup" }), e]);
    await waitFor(async () => (await f.count("owner_id = 'dup'")) === 2, 10_000, "2 rows");
    // A marker published after: once it is in, the duplicates have been processed.
    await f.publish(event({ ownerId: "dup-marker" }));
    await waitFor(async () => (await f.count("owner_id = 'dup-marker'")) === 1, 10_000, "marker");
    expect(await f.count("owner_id = 'dup'")).toBe(2);
    const [c] = await f.sql`select total from usage.owner_counters where owner_id = 'dup'`;
    expect(c!.total).toBe("2");
  }, 30_000);

  test("invalid messages and events are refused one by one; every valid event is stored", async () => {
    const before = await metricValue(svc.metrics, "usage_events_invalid_total");
    const now = Date.now();
    const valid = (i: number) => event({ ownerId: "mix", id: `mix_${i}` });
    await f.publishRaw("not json at all {");
    await f.publishRaw("[]");
    await f.publishRaw("42");
    await f.publishRaw("null");
    await f.publish(Array.from({ length: 1001 }, (_, i) => event({ ownerId: "mix", id: `too_many_${i}` })));
    await f.publish([
      valid(1),
      event({ ownerId: "mix", statusCode: "200" as unknown as number }),
      { keyId: "key_x", ownerId: "mix", endpoint: "/x", method: "GET", timestamp: new Date().toISOString() },
      valid(2),
      event({ ownerId: "mix", method: "FETCH" as "GET" }),
      event({ ownerId: "mix", statusCode: 99 }),
      event({ ownerId: "mix", timestamp: new Date(now + 3600_000).toISOString() }),
      event({ ownerId: "mix", timestamp: new Date(now - 30 * 86_400_000).toISOString() }),
      event({ ownerId: "mix", timestamp: "yesterday" }),
      event({ ownerId: "mix", endpoint: "no-leading-slash" }),
      event({ ownerId: "mix\u0000nul" }),
      event({ ownerId: "mix", id: undefined }),
      "a string",
      valid(3),
    ]);
    // A message whose only event is invalid is terminated, not retried forever.
    await f.publish(event({ ownerId: "mix", statusCode: 600 }));
    await f.publish(valid(4));
    await waitFor(async () => (await f.count("owner_id = 'mix'")) === 4, 10_000, "4 valid rows");
    const keys = (await f.sql`select event_key from usage.events where owner_id like 'mix%' order by event_key`).map((r) => r.event_key);
    expect(keys).toEqual(["i:mix_1", "i:mix_2", "i:mix_3", "i:mix_4"]);
    // 5 refused messages + 11 refused events in the mixed array + 1 refused single event
    await waitFor(async () => (await metricValue(svc.metrics, "usage_events_invalid_total")) - before === 17, 5000, "invalid counted");
    expect(await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "timestamp" })).toBe(2);
    // the NUL owner and the event without an id are schema refusals too
    expect(await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "schema" })).toBe(10);
    expect(await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "too_many_events" })).toBe(1);
    // Nothing is left pending: the poison messages were terminated, not naked.
    const jsm = await f.nc.jetstreamManager();
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(f.topo.stream, "usage-ingest");
        return info.num_ack_pending === 0 && info.num_pending === 0;
      },
      10_000,
      "consumer drained",
    );
  }, 30_000);

  test("a refused message is logged once, with sizes and reasons but none of its contents", async () => {
    const { log, lines } = captureLogger();
    const f2 = await usageStack();
    try {
      await f2.startService({ log });
      const secret = "sk_live_" + "Z".repeat(49);
      await f2.publishRaw(`{"apiKey":"${secret}", broken`);
      await f2.publish([event({ ownerId: secret, statusCode: 42 }), event({ ownerId: "visible-owner", endpoint: `/${secret}` })]);
      await waitFor(() => lines.filter((l) => l.includes("refused")).length >= 2, 10_000, "two warn lines");
      const refused = lines.filter((l) => l.includes("refused"));
      expect(refused).toHaveLength(2);
      for (const l of refused) {
        expect(JSON.parse(l).level).toBe("warn");
        expect(l).not.toContain(secret);
        expect(l).not.toContain("visible-owner");
      }
      expect(refused.join("\n")).toContain('"not_json"');
    } finally {
      await f2.cleanup();
    }
  }, 30_000);

  test("ingested events and batch sizes show in /metrics", async () => {
    const res = await svc.service.app.handle(new Request("http://local/metrics"));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/usage_events_ingested_total\{service="usage"\} [1-9]/);
    expect(text).toContain("usage_batch_size_bucket");
    expect(text).toContain("usage_batch_commit_seconds_bucket");
    expect(text).toContain('usage_events_invalid_total{reason="not_json"');
    expect(text).toContain("usage_consumer_lag");
  }, 30_000);

  test("/health is 200 and /ready is 200 with Postgres and NATS up", async () => {
    const health = await svc.service.app.handle(new Request("http://local/health"));
    expect(health.status).toBe(200);
    const ready = await svc.service.app.handle(new Request("http://local/ready"));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { postgres: "up", nats: "up" } });
  }, 30_000);
});
