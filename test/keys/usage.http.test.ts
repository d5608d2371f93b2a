/**
 * GET /api/v1/keys/usage at the edge (a stand-in usage responder; the real
 * one is test/usage/aggregate.test.ts): JWT first, the range checked and
 * widened before anything is asked, the envelope, and broken or absent
 * usage answers mapped to 503, never a hang.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { QUEUE, subjects, type UsageAggregateReply, type UsageAggregateRequest } from "@riskinmind/contracts";
import { newOwner, useKeysStack } from "@riskinmind/testkit";

const env = useKeysStack({ LOGS_TIMEOUT_MS: "1000" });
let stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops) s();
  stops = [];
});

/** A usage.logs.aggregate responder answering `reply`; `seen` holds what it was asked. */
async function standIn(reply: (req: UsageAggregateRequest) => UsageAggregateReply | string = () => ({ ok: true, data: [] })) {
  const seen: UsageAggregateRequest[] = [];
  const sub = env.nc.subscribe(subjects(env.topo).logsAggregate, {
    queue: QUEUE.usage,
    callback: (_e, m) => {
      const req = JSON.parse(new TextDecoder().decode(m.data)) as UsageAggregateRequest;
      seen.push(req);
      const r = reply(req);
      m.respond(new TextEncoder().encode(typeof r === "string" ? r : JSON.stringify(r)));
    },
  });
  await env.nc.flush();
  stops.push(() => sub.unsubscribe());
  return seen;
}

const RANGE = "from=2026-11-01T10:30:00Z&to=2026-11-01T12:00:01Z";

describe("GET /api/v1/keys/usage answered", () => {
  test("asks with the JWT's owner, live, the range widened to whole hours; answers data as given and meta as served", async () => {
    const o = await newOwner();
    const row = { bucket: "2026-11-01T10:00:00.000Z", group: null, count: 7, clientErrors: 2, serverErrors: 1, p50Ms: 11.314, p95Ms: 90.51 };
    const seen = await standIn(() => ({ ok: true, data: [row] }));
    const r = await env.a.call("GET", `/api/v1/keys/usage?${RANGE}`, { headers: o.headers });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      success: true,
      data: [row],
      meta: { from: "2026-11-01T10:00:00.000Z", to: "2026-11-01T13:00:00.000Z", granularity: "hour", groupBy: "none" },
    });
    expect(seen).toEqual([{ ownerId: o.sub, mode: "live", from: "2026-11-01T10:00:00.000Z", to: "2026-11-01T13:00:00.000Z", granularity: "hour", groupBy: "none" }]);
  });

  test("granularity, groupBy and mode reach the usage service; daily widens to whole UTC days, a zone offset read as its instant", async () => {
    const o = await newOwner();
    const seen = await standIn((req) => ({
      ok: true,
      data: [{ bucket: req.from, group: 200, count: 1, clientErrors: 0, serverErrors: 0, p50Ms: null, p95Ms: null }],
    }));
    const r = await env.a.call("GET", "/api/v1/keys/usage?from=2026-11-01T01:00:00%2B02:00&to=2026-11-03T00:00:00Z&granularity=day&groupBy=status&mode=test", { headers: o.headers });
    expect(r.status).toBe(200);
    expect(r.body.meta).toEqual({ from: "2026-10-31T00:00:00.000Z", to: "2026-11-03T00:00:00.000Z", granularity: "day", groupBy: "status" });
    expect(r.body.data).toEqual([{ bucket: "2026-10-31T00:00:00.000Z", group: 200, count: 1, clientErrors: 0, serverErrors: 0, p50Ms: null, p95Ms: null }]);
    expect(seen).toEqual([{ ownerId: o.sub, mode: "test", from: "2026-10-31T00:00:00.000Z", to: "2026-11-03T00:00:00.000Z", granularity: "day", groupBy: "status" }]);
  });

  test("31 days hourly and 400 days daily are accepted", async () => {
    const o = await newOwner();
    const seen = await standIn();
    expect((await env.a.call("GET", "/api/v1/keys/usage?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z", { headers: o.headers })).status).toBe(200);
    expect((await env.a.call("GET", "/api/v1/keys/usage?from=2025-01-01T00:00:00Z&to=2026-02-05T00:00:00Z&granularity=day", { headers: o.headers })).status).toBe(200);
    expect(seen.length).toBe(2);
  });
});

describe("GET /api/v1/keys/usage refused", () => {
  const bad = [
    "",
    "from=2026-11-01T00:00:00Z",
    "to=2026-11-01T00:00:00Z",
    "from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z",
    "from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z",
    "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:01Z",
    "from=2025-01-01T00:00:00Z&to=2026-02-05T00:00:01Z&granularity=day",
    "from=2026-11-01T00:00:00&to=2026-11-02T00:00:00Z",
    "from=2026-11-01&to=2026-11-02T00:00:00Z",
    "from=2026-02-30T00:00:00Z&to=2026-03-02T00:00:00Z",
    "from=yesterday&to=2026-11-02T00:00:00Z",
    `${RANGE}&granularity=week`,
    `${RANGE}&granularity=`,
    `${RANGE}&groupBy=owner`,
    `${RANGE}&groupBy=Status`,
    `${RANGE}&mode=prod`,
  ];
  for (const q of bad) {
    test(`?${q} → 400 VALIDATION_ERROR, the usage service never asked`, async () => {
      const o = await newOwner();
      const seen = await standIn();
      const r = await env.a.call("GET", `/api/v1/keys/usage?${q}`, { headers: o.headers });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ success: false, error: { code: "VALIDATION_ERROR" } });
      expect(typeof r.body.error.requestId).toBe("string");
      expect(seen).toEqual([]);
    });
  }

  test("no token, or a bad one → 401 UNAUTHORIZED, the usage service never asked", async () => {
    const seen = await standIn();
    const none = await env.a.call("GET", `/api/v1/keys/usage?${RANGE}`);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ success: false, error: { code: "UNAUTHORIZED" } });
    const forged = await env.a.call("GET", `/api/v1/keys/usage?${RANGE}`, { headers: { authorization: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." } });
    expect(forged.status).toBe(401);
    // Bad query and no token: 401 first.
    expect((await env.a.call("GET", "/api/v1/keys/usage?from=x")).status).toBe(401);
    expect(seen).toEqual([]);
  });

  test("counts as a read: over READ_RATE_LIMIT_PER_MINUTE (shared with /logs) → 429 RATE_LIMITED with Retry-After", async () => {
    const inst = await env.start({ READ_RATE_LIMIT_PER_MINUTE: "2" });
    const o = await newOwner();
    await standIn();
    expect((await inst.call("GET", `/api/v1/keys/usage?${RANGE}`, { headers: o.headers })).status).toBe(200);
    expect((await inst.call("GET", `/api/v1/keys/usage?${RANGE}`, { headers: o.headers })).status).toBe(200);
    const r = await inst.call("GET", `/api/v1/keys/usage?${RANGE}`, { headers: o.headers });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe("RATE_LIMITED");
    expect(r.headers.get("retry-after")).not.toBeNull();
  });

  test("a VALIDATION_ERROR from the usage service (too many groups) → 400 with its message", async () => {
    const o = await newOwner();
    await standIn(() => ({ ok: false, code: "VALIDATION_ERROR", message: "Too many groups for one answer." }));
    const r = await env.a.call("GET", `/api/v1/keys/usage?${RANGE}&groupBy=endpoint`, { headers: o.headers });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "VALIDATION_ERROR", message: "Too many groups for one answer." });
  });

  test("a broken reply, an internal failure, or none at all → 503 USAGE_UNAVAILABLE", async () => {
    const o = await newOwner();
    for (const reply of ["{not json", JSON.stringify({ ok: true, data: [{ bucket: "x" }] }), JSON.stringify({ ok: false, code: "INTERNAL", message: "db" })]) {
      await standIn(() => reply);
      const r = await env.a.call("GET", `/api/v1/keys/usage?${RANGE}`, { headers: o.headers });
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe("USAGE_UNAVAILABLE");
      for (const s of stops) s();
      stops = [];
    }
    // Nobody answering: the request comes back 503, not a hang (the test's own timeout would fail it).
    const r = await env.a.call("GET", `/api/v1/keys/usage?${RANGE}`, { headers: o.headers });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("USAGE_UNAVAILABLE");
  });
});

test("/openapi.json documents GET /api/v1/keys/usage with its query and error responses", async () => {
  const doc = (await env.a.call("GET", "/openapi.json")).body;
  const op = doc.paths["/api/v1/keys/usage"]?.get;
  expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(["200", "400", "401", "429", "503"]));
  expect((op?.parameters ?? []).map((p: { name: string }) => p.name).sort()).toEqual(["from", "granularity", "groupBy", "mode", "to"]);
});
