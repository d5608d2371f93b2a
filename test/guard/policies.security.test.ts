/**
 * Key policies at the guard, security: X-Forwarded-For is ignored unless the
 * peer is a trusted proxy (and then only the right-most untrusted hop
 * counts); an address the guard cannot see never passes an allowlist; a key
 * lacking the route's scope gets 403 before its body is read (never a 400 or
 * 413 that tells it about the route).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { client, loansApp, predictRequest, predictWith, trioStack, type TrioStack } from "@riskinmind/testkit";
import { expectRefusal, keyWith } from "./policies.helpers";

let s: TrioStack;
let proxied: ReturnType<typeof client>;
beforeAll(async () => {
  s = await trioStack();
  // The same example behind a guard that trusts the loopback as its proxy.
  const behindProxy = loansApp(s.guardNc, s.topo, { trustedProxies: ["127.0.0.1", "::1"] });
  s.onClose(() => behindProxy.guard.close(1_000));
  behindProxy.app.listen({ port: 0, hostname: "127.0.0.1" });
  s.onClose(async () => behindProxy.app.stop(true));
  proxied = client(`http://127.0.0.1:${behindProxy.app.server!.port}`);
});
afterAll(async () => {
  await s?.close();
});

describe("the caller's address", () => {
  test("X-Forwarded-For is ignored by default: a key allowed only for 10.0.0.0/8 is refused even when the header claims 10.1.2.3", async () => {
    const k = await keyWith(s.keys, { ipAllowlist: ["10.0.0.0/8"] });
    expectRefusal(await predictWith(s.example, { "x-api-key": k.apiKey, "x-forwarded-for": "10.1.2.3" }), 403, "IP_NOT_ALLOWED", k.apiKey);
    // The socket's own address is what counts.
    const local = await keyWith(s.keys, { ipAllowlist: ["127.0.0.1", "::1"] });
    expect((await predictWith(s.example, { "x-api-key": local.apiKey, "x-forwarded-for": "203.0.113.5" })).status).toBe(200);
  });

  test("behind a trusted proxy, the right-most forwarded address that is not a trusted proxy is the caller", async () => {
    const k = await keyWith(s.keys, { ipAllowlist: ["10.0.0.0/8"] });
    expect((await predictWith(proxied, { "x-api-key": k.apiKey, "x-forwarded-for": "10.1.2.3" })).status).toBe(200);
    expect((await predictWith(proxied, { "x-api-key": k.apiKey, "x-forwarded-for": "10.1.2.3, 127.0.0.1" })).status).toBe(200);
    // A client writing an allowed address to the left of its real one gains nothing.
    expectRefusal(await predictWith(proxied, { "x-api-key": k.apiKey, "x-forwarded-for": "10.1.2.3, 198.51.100.7" }), 403, "IP_NOT_ALLOWED", k.apiKey);
    // No header: the proxy itself is the caller.
    expectRefusal(await predictWith(proxied, { "x-api-key": k.apiKey }), 403, "IP_NOT_ALLOWED", k.apiKey);
  });

  test("with no socket to ask (app.handle), a key with an allowlist is refused: an unknown address is not an allowed one", async () => {
    const k = await keyWith(s.keys, { ipAllowlist: ["0.0.0.0/0", "::/0"] });
    expect((await predictWith(s.example, { "x-api-key": k.apiKey })).status).toBe(200);
    const res = await s.loans.app.handle(predictRequest({ "x-api-key": k.apiKey }));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("IP_NOT_ALLOWED");
  });
});

describe("scope before body", () => {
  test("a key without the route's scope gets 403 INSUFFICIENT_SCOPE whatever its body: never 400, 413 or 415", async () => {
    const k = await keyWith(s.keys, { scopes: ["loans:read"] });
    const post = (headers: Record<string, string>, body: string) => fetch(`${s.loansUrl}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": k.apiKey, ...headers }, body });
    const answers = [
      await post({ "content-type": "application/json" }, "{not json"),
      await post({ "content-type": "text/plain" }, "hello"),
      await post({ "content-type": "application/json" }, "x".repeat(64 * 1024)),
      await post({ "content-type": "application/json" }, JSON.stringify({ creditScore: "high" })),
    ];
    for (const res of answers) {
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INSUFFICIENT_SCOPE");
    }
  });

  test("an expired or disallowed key is refused before its body too (401/403, not 400)", async () => {
    const k = await keyWith(s.keys, { ipAllowlist: ["203.0.113.0/24"] });
    const res = await fetch(`${s.loansUrl}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": k.apiKey, "content-type": "application/json" }, body: "{not json" });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("IP_NOT_ALLOWED");
  });
});
