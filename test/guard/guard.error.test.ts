/**
 * The guard refuses what it must without the keys service: no key, a key of
 * the wrong shape (decided locally, no NATS request), and "cannot verify"
 * (no responder, a silent responder, a broken reply) as 503, never 401 or 5xx
 * of another kind. No fake keys service here: the only responders are
 * deliberately broken ones, named as such.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { NatsConnection, Subscription } from "nats";
import { subjects, type Topology } from "@riskinmind/contracts";
import { newApiKey } from "../../services/keys/src/keys/mint";
import { connectTestNats, loansApp, predictRequest, testTopology } from "@riskinmind/testkit";

/** The guard's connection (its own identity) and the test side's (admin: spies and deliberately broken responders). */
let guardNc: NatsConnection;
let nc: NatsConnection;
let topo: Topology;
let loans: ReturnType<typeof loansApp>;
let verifySpy: Subscription;
let verifyRequestsSeen = 0;

beforeAll(async () => {
  guardNc = await connectTestNats("guard");
  nc = await connectTestNats();
  topo = testTopology();
  loans = loansApp(guardNc, topo, { verifyTimeoutMs: 300 });
  // A listener (not a responder): counts every request on the verify subject.
  verifySpy = nc.subscribe(subjects(topo).verify, { callback: () => verifyRequestsSeen++ });
  await nc.flush();
});

afterAll(async () => {
  verifySpy.unsubscribe();
  await loans.guard.close();
  await guardNc.close();
  await nc.close();
});

async function call(headers: Record<string, string>, body?: unknown) {
  const res = await loans.app.handle(predictRequest(headers, body));
  return { status: res.status, body: (await res.json()) as { success: boolean; error?: { code: string; message: string; requestId: string } } };
}

describe("guard refusals", () => {
  test("a caller without a good key gets 401 before its body is read: never 400, 413 or 415 for a body it should not have been able to send", async () => {
    const post = (headers: Record<string, string>, body: string) => loans.app.handle(new Request("http://loans.test/api/v1/loans/predict", { method: "POST", headers, body }));
    const cases = [
      await post({ "content-type": "application/json" }, "{not json"),
      await post({ "content-type": "text/plain" }, "hello"),
      await post({ "content-type": "application/json" }, "x".repeat(64 * 1024)),
      await post({ "content-type": "application/json", "x-api-key": "sk_live_short" }, "{not json"),
    ];
    for (const res of cases) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_API_KEY");
    }
  });

  test("a request without any key is refused with 401 INVALID_API_KEY saying the key is missing", async () => {
    const r = await call({});
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ success: false, error: { code: "INVALID_API_KEY", message: expect.stringContaining("Missing"), requestId: expect.any(String) } });
  });

  test("a bearer that is not an sk_ key (e.g. a JWT) is not taken as a key", async () => {
    const r = await call({ authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x" });
    expect(r.status).toBe(401);
    expect(r.body.error?.message).toContain("Missing");
  });

  test("ill-formed keys are refused with 401 locally, without a single NATS request", async () => {
    const before = loans.guard.stats().verify.verifyRequests;
    const good = newApiKey();
    const broken = [
      "sk_live_short",
      good.slice(0, -1) + (good.endsWith("A") ? "B" : "A"), // checksum mismatch
      good + "x",
      "sk_test_" + good.slice(8),
      "sk_" + "x".repeat(300),
      "sk_live_" + "ä".repeat(49),
    ];
    for (const k of broken) {
      for (const headers of [{ authorization: `Bearer ${k}` }, { "x-api-key": k }] as Record<string, string>[]) {
        const r = await call(headers);
        expect(r.status).toBe(401);
        expect(r.body).toEqual({ success: false, error: { code: "INVALID_API_KEY", message: "Invalid API key.", requestId: expect.any(String) } });
      }
    }
    // Anything the guard sent has reached the server, and then the spy.
    await guardNc.flush();
    await nc.flush();
    expect(loans.guard.stats().verify.verifyRequests).toBe(before);
    expect(verifyRequestsSeen).toBe(0);
  });

  test("the key is checked before the body: no key and a bad body is still 401, not a schema hint", async () => {
    const r = await call({}, { amount: "lots" });
    expect(r.status).toBe(401);
  });

  test("with no responder on keys.verify a well-formed key gets 503 VERIFY_UNAVAILABLE", async () => {
    // The spy is a plain subscriber, so NATS reports "no responders" only without it; use another topology.
    const lone = loansApp(guardNc, testTopology(), { verifyTimeoutMs: 300 });
    try {
      const res = await lone.app.handle(predictRequest({ "x-api-key": newApiKey() }));
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ success: false, error: { code: "VERIFY_UNAVAILABLE", message: expect.any(String), requestId: expect.any(String) } });
      expect(lone.guard.stats().verify.verifyFailures).toBe(1);
    } finally {
      await lone.guard.close();
    }
  });

  test("a silent verify responder (deliberately broken) makes the guard answer 503 after its timeout", async () => {
    const before = verifyRequestsSeen;
    const r = await call({ "x-api-key": newApiKey() });
    expect(r.status).toBe(503);
    expect(r.body.error?.code).toBe("VERIFY_UNAVAILABLE");
    expect(verifyRequestsSeen).toBe(before + 1);
  });

  test("a broken verify reply (garbage or VERIFY_UNAVAILABLE) is 503, and a key-not-found reply is 401", async () => {
    const t = testTopology();
    const replies: unknown[] = ["not json", { valid: true }, { valid: false, code: "VERIFY_UNAVAILABLE" }, { valid: false, code: "KEY_NOT_FOUND" }, { valid: false, code: "KEY_REVOKED" }];
    let i = 0;
    // Deliberately broken responder: answers each request with the next canned reply.
    const sub = nc.subscribe(subjects(t).verify, {
      callback: (_e, m) => m.respond(typeof replies[i] === "string" ? (replies[i++] as string) : JSON.stringify(replies[i++])),
    });
    await nc.flush();
    const lone = loansApp(guardNc, t, { verifyTimeoutMs: 500 });
    try {
      const statuses: [number, string, string][] = [];
      for (let n = 0; n < replies.length; n++) {
        const res = await lone.app.handle(predictRequest({ "x-api-key": newApiKey() }));
        const b = (await res.json()) as { error: { code: string; message: string } };
        statuses.push([res.status, b.error.code, b.error.message]);
      }
      expect(statuses.map((s) => s[0])).toEqual([503, 503, 503, 401, 401]);
      expect(statuses[3]![2]).toBe("Invalid API key.");
      expect(statuses[4]![2]).toContain("revoked");
      expect(lone.guard.stats().usage.recorded).toBe(0);
    } finally {
      sub.unsubscribe();
      await lone.guard.close();
    }
  });

  test("routes registered before the guard stay public", async () => {
    const res = await loans.app.handle(new Request("http://loans.test/health"));
    expect(res.status).toBe(200);
  });

  test("refusals carry the security headers and record no usage", async () => {
    const res = await loans.app.handle(predictRequest({}));
    expect(res.headers.get("cache-control")).toBe("no-store");
    await Bun.sleep(0);
    expect(loans.guard.stats().usage.recorded).toBe(0);
  });
});
