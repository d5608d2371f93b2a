import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "nats";
import postgres from "postgres";
import { check, subjects, type LogEntry, type LogsQueryReply } from "@riskinmind/contracts";
import { createLogger, createMetrics } from "@riskinmind/runtime";
import { createUsageService } from "../../services/usage/src/app";
import { event, natsOptions, testTopology, usageStack, type UsageStack, usageTestConfig, waitFor } from "@riskinmind/testkit";

let f: UsageStack;
let query: (req: unknown) => Promise<LogsQueryReply>;
const TOTAL = 23;
const base = Date.now() - 3600_000;

beforeAll(async () => {
  f = await usageStack();
  await f.startService({ batchMax: 7 });
  const subject = subjects(f.topo).logsQuery;
  query = async (req) => {
    const data = typeof req === "string" ? req : JSON.stringify(req);
    const msg = await f.nc.request(subject, new TextEncoder().encode(data), { timeout: 3000 });
    const reply = JSON.parse(new TextDecoder().decode(msg.data));
    expect(check.logsQueryReply.Check(reply)).toBe(true);
    return reply as LogsQueryReply;
  };
  // In-order traffic for owner "pager": one message per few events, timestamps rising.
  for (let i = 0; i < TOTAL; i += 4) {
    const chunk = [];
    for (let j = i; j < Math.min(TOTAL, i + 4); j++) {
      chunk.push(event({ ownerId: "pager", keyId: `key_p${j}`, statusCode: 200 + j, timestamp: new Date(base + j * 1000).toISOString() }));
    }
    await f.publish(chunk);
  }
  await f.publish(Array.from({ length: 5 }, (_, j) => event({ ownerId: "other", keyId: "key_other", timestamp: new Date(base + j).toISOString() })));
  await waitFor(async () => (await f.count()) === TOTAL + 5, 15_000, "all rows");
}, 30_000);
afterAll(async () => {
  await f?.cleanup();
});

function ok(r: LogsQueryReply): { ok: true; data: LogEntry[]; total: number; nextCursor?: string | null } {
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r;
}

describe("usage.logs.query", () => {
  test("pages are newest first with the right total, an exact last page, and [] past the end", async () => {
    const p1 = ok(await query({ ownerId: "pager", page: 1, limit: 10 }));
    expect(p1.total).toBe(TOTAL);
    expect(p1.data).toHaveLength(10);
    expect(p1.data[0]!.keyId).toBe(`key_p${TOTAL - 1}`);
    expect(p1.data[0]).toEqual({
      endpoint: "/api/v1/loans/predict",
      method: "POST",
      statusCode: 200 + TOTAL - 1,
      timestamp: new Date(base + (TOTAL - 1) * 1000).toISOString(),
      keyId: `key_p${TOTAL - 1}`,
      durationMs: 12.5,
    });
    const p3 = ok(await query({ ownerId: "pager", page: 3, limit: 10 }));
    expect(p3.total).toBe(TOTAL);
    expect(p3.data.map((d) => d.keyId)).toEqual(["key_p2", "key_p1", "key_p0"]);
    const p4 = ok(await query({ ownerId: "pager", page: 4, limit: 10 }));
    expect(p4).toEqual({ ok: true, data: [], total: TOTAL, nextCursor: null });
    const far = ok(await query({ ownerId: "pager", page: 999_999_999, limit: 100 }));
    expect(far).toEqual({ ok: true, data: [], total: TOTAL, nextCursor: null });
  });

  test("walking every page of any size visits each row once, in descending time order", async () => {
    for (const limit of [1, 3, 7, 10, 23, 100]) {
      const seen: string[] = [];
      const times: string[] = [];
      for (let page = 1; ; page++) {
        const r = ok(await query({ ownerId: "pager", page, limit }));
        if (r.data.length === 0) break;
        expect(r.data.length).toBeLessThanOrEqual(limit);
        seen.push(...r.data.map((d) => d.keyId));
        times.push(...r.data.map((d) => d.timestamp));
      }
      expect(seen).toEqual(Array.from({ length: TOTAL }, (_, i) => `key_p${TOTAL - 1 - i}`));
      expect([...times].sort().reverse()).toEqual(times);
    }
  });

  test("an owner sees only its own rows", async () => {
    const other = ok(await query({ ownerId: "other", page: 1, limit: 100 }));
    expect(other.total).toBe(5);
    expect(new Set(other.data.map((d) => d.keyId))).toEqual(new Set(["key_other"]));
    const pager = ok(await query({ ownerId: "pager", page: 1, limit: 100 }));
    expect(pager.data.some((d) => d.keyId === "key_other")).toBe(false);
    expect(ok(await query({ ownerId: "nobody", page: 1, limit: 10 }))).toEqual({ ok: true, data: [], total: 0, nextCursor: null });
  });

  test("total is the owner's counter row, kept by ingestion, not a count of rows", async () => {
    const counters = await f.sql`select owner_id, total from usage.owner_counters order by owner_id`;
    expect(counters.map((c) => [c.owner_id, Number(c.total)])).toEqual([
      ["other", 5],
      ["pager", TOTAL],
    ]);
    // A counter with no rows behind it: the reply's total can only have come from the counter.
    await f.sql`insert into usage.owner_counters (owner_id, total) values ('ghost', 7)`;
    expect(ok(await query({ ownerId: "ghost", page: 1, limit: 10 }))).toEqual({ ok: true, data: [], total: 7, nextCursor: null });
  });

  test("a malformed request gets a VALIDATION_ERROR reply, never silence", async () => {
    const bad: unknown[] = [
      "not json",
      "null",
      {},
      { ownerId: "pager", page: 0, limit: 10 },
      { ownerId: "pager", page: 1, limit: 5001 },
      { ownerId: "pager", page: 1, limit: 0 },
      { ownerId: "pager", page: 1.5, limit: 10 },
      { ownerId: "pager", page: "1", limit: 10 },
      { ownerId: "", page: 1, limit: 10 },
      { ownerId: "pager", page: 1_000_000_000, limit: 10 },
    ];
    for (const req of bad) {
      const r = await query(req);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe("VALIDATION_ERROR");
        expect(r.message.length).toBeGreaterThan(0);
      }
    }
  });

  test("with Postgres unreachable the reply is DATABASE_UNAVAILABLE and /ready is 503", async () => {
    const topo = testTopology();
    const nc = await connect(natsOptions());
    const usageNc = await connect(natsOptions("usage"));
    const deadSql = postgres("postgres://postgres@127.0.0.1:1/none", { max: 1, connect_timeout: 1, onnotice: () => {} });
    const svc = createUsageService({
      sql: deadSql,
      nc: usageNc,
      log: createLogger("usage", "silent"),
      metrics: createMetrics("usage"),
      config: usageTestConfig(topo, { KEY_OWNER_CACHE_MAX: 1000 }),
    });
    try {
      await svc.start();
      const msg = await nc.request(subjects(topo).logsQuery, new TextEncoder().encode(JSON.stringify({ ownerId: "x", page: 1, limit: 10 })), { timeout: 5000 });
      const reply = JSON.parse(new TextDecoder().decode(msg.data));
      expect(reply).toMatchObject({ ok: false, code: "DATABASE_UNAVAILABLE" });
      const ready = await svc.app.handle(new Request("http://local/ready"));
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ success: false, error: { code: "NOT_READY" }, checks: { postgres: "down", nats: "up" } });
    } finally {
      await svc.stop();
      await usageNc.close();
      await deadSql.end({ timeout: 1 });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(topo.stream).catch(() => {});
      await nc.close();
    }
  }, 20_000);
});
