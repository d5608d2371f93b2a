/**
 * POST /api/v1/loans/predict, refused for what the caller cannot fix with
 * another key: the guard cannot verify (no responder, a silent responder, a
 * broken reply) → 503 VERIFY_UNAVAILABLE, never 401 or another 5xx; and a good
 * key with a bad body → 400. No fake keys service: the only responders are
 * deliberately broken ones, named as such.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { subjects } from "@riskinmind/contracts";
import { newApiKey } from "../../services/keys/src/keys/mint";
import { goodLoan, issueKey, loansApp, loansStack, type LoansStack, newOwner, predictRequest, predictWith, testTopology, trioStack, type TrioStack } from "@riskinmind/testkit";

/** The example behind a guard with no keys service: only listeners and deliberately broken responders on the bus. */
let s: LoansStack;
beforeAll(async () => {
  s = await loansStack({ verifyTimeoutMs: 300 });
});
afterAll(async () => {
  await s?.close();
});

describe("verification unavailable → 503", () => {
  test("with no responder on keys.verify a well-formed key gets 503 VERIFY_UNAVAILABLE", async () => {
    // The spy is a plain subscriber, so NATS reports "no responders" only without it; use another topology.
    const lone = loansApp(s.guardNc, testTopology(), { verifyTimeoutMs: 300 });
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
    const before = s.verifyRequestsSeen();
    const r = await predictWith(s.example, { "x-api-key": newApiKey() });
    expect(r.status).toBe(503);
    expect(r.body.error?.code).toBe("VERIFY_UNAVAILABLE");
    expect(s.verifyRequestsSeen()).toBe(before + 1);
  });

  test("a broken verify reply (garbage or VERIFY_UNAVAILABLE) is 503, and a key-not-found reply is 401", async () => {
    const t = testTopology();
    const replies: unknown[] = ["not json", { valid: true }, { valid: false, code: "VERIFY_UNAVAILABLE" }, { valid: false, code: "KEY_NOT_FOUND" }, { valid: false, code: "KEY_REVOKED" }];
    let i = 0;
    // Deliberately broken responder: answers each request with the next canned reply.
    const sub = s.nc.subscribe(subjects(t).verify, {
      callback: (_e, m) => m.respond(typeof replies[i] === "string" ? (replies[i++] as string) : JSON.stringify(replies[i++])),
    });
    await s.nc.flush();
    const lone = loansApp(s.guardNc, t, { verifyTimeoutMs: 500 });
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
});

describe("a good key with a bad body", () => {
  let stack: TrioStack;
  beforeAll(async () => {
    stack = await trioStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  test("a protected route with a valid key still validates its body (unknown fields refused)", async () => {
    const key = await issueKey(stack.keys, await newOwner());
    const r = await predictWith(stack.example, { "x-api-key": key.apiKey }, { ...goodLoan, extra: 1 });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("VALIDATION_ERROR");
  });
});

describe("public routes", () => {
  test("routes registered before the guard stay public", async () => {
    const res = await s.loans.app.handle(new Request("http://loans.test/health"));
    expect(res.status).toBe(200);
  });
});
