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
    expect(u.seen).toEqual([{ ownerId: o.sub, page: 3, limit: 25 }]);
    const d = await env.a.logs(o);
    expect(d.body.success && d.body.meta).toEqual({ total: 150, page: 1, limit: 10 });
  } finally {
    u.stop();
  }
});
