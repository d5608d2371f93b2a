/** GET /api/v1/keys/logs, refused: bad queries (400), a broken or absent usage service (503, never a hang). */
import { describe, expect, test } from "bun:test";
import { subjects, type LogsQueryReply } from "@riskinmind/contracts";
import { fakeLogsResponder, newOwner, useKeysStack } from "@riskinmind/testkit";

const env = useKeysStack({ LOGS_TIMEOUT_MS: "1000" });

/** GET /logs for a fresh owner while the deliberately broken usage responder answers `reply`. */
async function logsAnsweredWith(reply: () => LogsQueryReply | string) {
  const o = await newOwner();
  const u = await fakeLogsResponder(env.nc, env.topo, reply);
  try {
    return await env.a.call("GET", "/api/v1/keys/logs", { headers: o.headers });
  } finally {
    u.stop();
  }
}

describe("GET /api/v1/keys/logs query validation", () => {
  for (const q of ["page=0", "limit=0", "limit=101", "page=1.5", "limit=abc", "page=-1", "page=1e3", "limit=1e9", "page=1;drop", "page="]) {
    test(`${q} → 400 VALIDATION_ERROR`, async () => {
      const o = await newOwner();
      const r = await env.a.call("GET", `/api/v1/keys/logs?${q}`, { headers: o.headers });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ success: false, error: { code: "VALIDATION_ERROR" } });
    });
  }
});

describe("GET /api/v1/keys/logs ?mode= validation", () => {
  for (const q of ["mode=prod", "mode=", "mode=TEST", "mode=Live", "mode=test%00", "mode=live,test", "mode=*"]) {
    test(`${q} → 400 VALIDATION_ERROR, and the usage service is never asked`, async () => {
      const o = await newOwner();
      const u = await fakeLogsResponder(env.nc, env.topo, () => ({ ok: true, data: [], total: 0 }));
      try {
        const r = await env.a.call("GET", `/api/v1/keys/logs?${q}`, { headers: o.headers });
        expect(r.status).toBe(400);
        expect(r.body).toMatchObject({ success: false, error: { code: "VALIDATION_ERROR" } });
        expect(u.seen).toEqual([]);
      } finally {
        u.stop();
      }
    });
  }
});

describe("GET /api/v1/keys/logs edge mapping of broken replies (against a stand-in responder)", () => {
  test("a reply that breaks the contract → 503 USAGE_UNAVAILABLE", async () => {
    const r = await logsAnsweredWith(() => "{not json");
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("USAGE_UNAVAILABLE");
  });

  test("an ok:false reply with an internal code → 503 USAGE_UNAVAILABLE", async () => {
    const r = await logsAnsweredWith(() => ({ ok: false, code: "INTERNAL", message: "db down" }));
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("USAGE_UNAVAILABLE");
  });

  test("an ok:false VALIDATION_ERROR reply → 400 VALIDATION_ERROR with the usage service's message", async () => {
    const r = await logsAnsweredWith(() => ({ ok: false, code: "VALIDATION_ERROR", message: "Invalid logs query 'page'." }));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "VALIDATION_ERROR", message: "Invalid logs query 'page'." });
  });

  test("an ok:false reply with a code outside the contract (even a 4xx one) → 503 USAGE_UNAVAILABLE", async () => {
    const r = await logsAnsweredWith(() => JSON.stringify({ ok: false, code: "RATE_LIMITED", message: "slow down" }));
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("USAGE_UNAVAILABLE");
  });
});

describe("usage service absent", () => {
  test("no responder → an answer, 503 USAGE_UNAVAILABLE (never a hang)", async () => {
    const o = await newOwner();
    const r = await env.a.call("GET", "/api/v1/keys/logs", { headers: o.headers });
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ success: false, error: { code: "USAGE_UNAVAILABLE" } });
  });

  test("a responder that never answers → 503 USAGE_UNAVAILABLE once LOGS_TIMEOUT_MS has passed (a hang fails the test's own timeout)", async () => {
    const o = await newOwner();
    const silent = env.nc.subscribe(subjects(env.topo).logsQuery, { callback: () => {} });
    await env.nc.flush();
    try {
      const r = await env.a.call("GET", "/api/v1/keys/logs", { headers: o.headers });
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe("USAGE_UNAVAILABLE");
    } finally {
      silent.unsubscribe();
    }
  });
});
