/** GET /api/v1/keys/logs, answered: the edge asks usage.logs.query for the JWT's owner and maps the reply (a stand-in responder; the real end to end is test/guard/e2e-loop.test.ts). */
import { expect, test } from "bun:test";
import { fakeLogsResponder, newOwner, useKeysStack } from "@riskinmind/testkit";

const env = useKeysStack({ LOGS_TIMEOUT_MS: "1000" });

test("the edge asks with the JWT's owner and the parsed page/limit and maps the reply to data + meta", async () => {
  const o = await newOwner();
  const entry = { endpoint: "/api/v1/loans/predict", method: "POST", statusCode: 200, timestamp: "2023-10-01T12:05:00.000Z", keyId: "key_x", durationMs: 3.5 };
  const u = await fakeLogsResponder(env.nc, env.topo, () => ({ ok: true, data: [entry], total: 150 }));
  try {
    const r = await env.a.logs(o, { page: 3, limit: 25 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ success: true, data: [entry], meta: { total: 150, page: 3, limit: 25 } });
    // No ?mode= is live, and the edge says so.
    expect(u.seen).toEqual([{ ownerId: o.sub, page: 3, limit: 25, mode: "live" }]);
    const d = await env.a.logs(o);
    expect(d.body.success && d.body.meta).toEqual({ total: 150, page: 1, limit: 10 });
  } finally {
    u.stop();
  }
});

test("?mode=test and ?mode=live reach the usage service as that mode, the answer shaped as ever", async () => {
  const o = await newOwner();
  const entry = { endpoint: "/api/v1/loans/predict", method: "POST", statusCode: 200, timestamp: "2023-10-01T12:05:00.000Z", keyId: "key_t", durationMs: 1 };
  // The stand-in answers by mode, so a mode lost on the way shows in the body too.
  const u = await fakeLogsResponder(env.nc, env.topo, (req) => (req.mode === "test" ? { ok: true, data: [entry], total: 7 } : { ok: true, data: [], total: 0 }));
  try {
    const t = await env.a.call("GET", "/api/v1/keys/logs?mode=test&page=2&limit=5", { headers: o.headers });
    expect(t.status).toBe(200);
    expect(t.body).toEqual({ success: true, data: [entry], meta: { total: 7, page: 2, limit: 5 } });
    const l = await env.a.call("GET", "/api/v1/keys/logs?mode=live", { headers: o.headers });
    expect(l.status).toBe(200);
    expect(l.body).toEqual({ success: true, data: [], meta: { total: 0, page: 1, limit: 10 } });
    expect(u.seen).toEqual([
      { ownerId: o.sub, page: 2, limit: 5, mode: "test" },
      { ownerId: o.sub, page: 1, limit: 10, mode: "live" },
    ]);
  } finally {
    u.stop();
  }
});
