/**
 * POST /api/v1/loans/predict, security: no key, a key of the wrong shape
 * (refused locally, not one NATS request), or no key with any body → 401
 * before the body is read; an unknown, revoked or replaced key → 401 once the
 * keys service says so, within a second of the revocation even when cached.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newApiKey } from "../../services/keys/src/keys/mint";
import { issueKey, loansStack, type LoansStack, newOwner, predictWith, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

/** The example behind a guard with no keys service: only listeners and deliberately broken responders on the bus. */
let s: LoansStack;
beforeAll(async () => {
  s = await loansStack({ verifyTimeoutMs: 300 });
});
afterAll(async () => {
  await s?.close();
});

describe("refused by the guard alone (no keys service)", () => {
  test("a caller without a good key gets 401 before its body is read: never 400, 413 or 415 for a body it should not have been able to send", async () => {
    const post = (headers: Record<string, string>, body: string) => s.loans.app.handle(new Request("http://loans.test/api/v1/loans/predict", { method: "POST", headers, body }));
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
    const r = await predictWith(s.example, {});
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ success: false, error: { code: "INVALID_API_KEY", message: expect.stringContaining("Missing"), requestId: expect.any(String) } });
  });

  test("a bearer that is not an sk_ key (e.g. a JWT) is not taken as a key", async () => {
    const r = await predictWith(s.example, { authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x" });
    expect(r.status).toBe(401);
    expect(r.body.error?.message).toContain("Missing");
  });

  test("ill-formed keys are refused with 401 locally, without a single NATS request", async () => {
    const before = s.loans.guard.stats().verify.verifyRequests;
    const good = newApiKey();
    const broken = [
      "sk_live_short",
      good.slice(0, -1) + (good.endsWith("A") ? "B" : "A"), // checksum mismatch
      good + "x",
      "sk_prod_" + good.slice(8), // an unknown mode
      "sk_" + "x".repeat(300),
      "sk_live_" + "ä".repeat(49),
    ];
    for (const k of broken) {
      for (const headers of [{ authorization: `Bearer ${k}` }, { "x-api-key": k }] as Record<string, string>[]) {
        const r = await predictWith(s.example, headers);
        expect(r.status).toBe(401);
        expect(r.body).toEqual({ success: false, error: { code: "INVALID_API_KEY", message: "Invalid API key.", requestId: expect.any(String) } });
      }
    }
    // Anything the guard sent has reached the server, and then the spy.
    await s.guardNc.flush();
    await s.nc.flush();
    expect(s.loans.guard.stats().verify.verifyRequests).toBe(before);
    expect(s.verifyRequestsSeen()).toBe(0);
  });

  test("the key is checked before the body: no key and a bad body is still 401, not a schema hint", async () => {
    const r = await predictWith(s.example, {}, { amount: "lots" });
    expect(r.status).toBe(401);
  });

  test("refusals carry the security headers and record no usage", async () => {
    const r = await predictWith(s.example, {});
    expect(r.status).toBe(401);
    expect(r.headers.get("cache-control")).toBe("no-store");
    await Bun.sleep(0);
    expect(s.loans.guard.stats().usage.recorded).toBe(0);
  });
});

describe("refused by the keys service", () => {
  let stack: TrioStack;
  beforeAll(async () => {
    stack = await trioStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  test("a key revoked over HTTP is refused by the guard within one second, even though it was cached", async () => {
    const owner = await newOwner();
    const key = await issueKey(stack.keys, owner);
    expect((await predictWith(stack.example, { "x-api-key": key.apiKey })).status).toBe(200);
    expect((await stack.loans.guard.check(key.apiKey)).ok).toBe(true); // now cached
    const rev = await stack.keys.revoke(owner);
    expect(rev.status).toBe(200);
    let last: { status: number; body: any } = { status: 0, body: null };
    await waitFor(
      async () => {
        last = await predictWith(stack.example, { "x-api-key": key.apiKey });
        return last.status === 401;
      },
      1_000,
      "revoked key refused",
    );
    expect(last.body).toEqual({ success: false, error: { code: "INVALID_API_KEY", message: expect.stringContaining("revoked"), requestId: expect.any(String) } });
  });

  test("after regenerate the old key is refused and the new one works", async () => {
    const owner = await newOwner();
    const old = await issueKey(stack.keys, owner);
    expect((await predictWith(stack.example, { "x-api-key": old.apiKey })).status).toBe(200);
    const regen = await stack.keys.call("POST", "/api/v1/keys/regenerate", { headers: owner.headers, json: {} });
    expect(regen.status).toBe(200);
    await waitFor(async () => (await predictWith(stack.example, { "x-api-key": old.apiKey })).status === 401, 1_000, "old key refused");
    const fresh = await predictWith(stack.example, { authorization: `Bearer ${regen.body.data.apiKey}` });
    expect(fresh.status).toBe(200);
    expect(fresh.body.data.keyId).toBe(regen.body.data.keyId);
  });

  test("an unknown but well-formed key is refused with 401 after asking the keys service", async () => {
    const before = stack.loans.guard.stats().verify.verifyRequests;
    const r = await predictWith(stack.example, { "x-api-key": newApiKey() });
    expect(r.status).toBe(401);
    expect(r.body.error).toEqual({ code: "INVALID_API_KEY", message: "Invalid API key.", requestId: expect.any(String) });
    expect(stack.loans.guard.stats().verify.verifyRequests).toBe(before + 1);
  });
});
