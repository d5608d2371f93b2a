/**
 * Security headers on every response of every service (successes, refusals,
 * errors, ops routes), no-store on anything carrying a key, and the request
 * size limits: bodies over 16 KiB (declared or streamed) → 413, headers over
 * 8 KiB → 431, both in the envelope. The rate limit (429 RATE_LIMITED with
 * Retry-After) is proven by test/keys/keys.error.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deploy, type Deployment, goodLoan, isEnvelope, issueKey, newOwner, type Reply, req } from "@riskinmind/testkit";

let d: Deployment;
beforeAll(async () => {
  d = await deploy({ services: ["usage", "keys", "example"] });
});
afterAll(async () => {
  await d?.close();
});

const EXPECTED = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=63072000; includeSubDomains",
};

function securityHeaders(r: Reply): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const k of Object.keys(EXPECTED)) out[k] = r.headers.get(k);
  out.csp = r.headers.get("content-security-policy") ? "present" : null;
  return out;
}

describe("security headers", () => {
  test("every response of every service carries them, whatever its status", async () => {
    const owner = await newOwner("hdr");
    const key = await issueKey(d.keys!, owner);
    const K = d.keys!.url;
    const calls: [string, () => Promise<Reply>][] = [
      ["keys GET / 200", () => req(`${K}/api/v1/keys/`, { headers: owner.headers })],
      ["keys generate 409", () => req(`${K}/api/v1/keys/generate`, { method: "POST", headers: owner.headers })],
      ["keys generate 401", () => req(`${K}/api/v1/keys/generate`, { method: "POST" })],
      ["keys generate 400", () => req(`${K}/api/v1/keys/generate`, { method: "POST", headers: owner.headers, json: { label: 1 } })],
      ["keys generate 415", () => req(`${K}/api/v1/keys/generate`, { method: "POST", headers: { ...owner.headers, "content-type": "text/plain" }, body: "x" })],
      ["keys logs 200", () => req(`${K}/api/v1/keys/logs`, { headers: owner.headers })],
      ["keys logs 400", () => req(`${K}/api/v1/keys/logs?page=0`, { headers: owner.headers })],
      ["keys 404", () => req(`${K}/nope`)],
      ["keys wrong method", () => req(`${K}/api/v1/keys/revoke`, { method: "PUT", headers: owner.headers })],
      ["keys /health", () => req(`${K}/health`)],
      ["keys /ready", () => req(`${K}/ready`)],
      ["keys /metrics", () => req(`${K}/metrics`)],
      ["usage /health", () => req(`${d.usage!.url}/health`)],
      ["usage /ready", () => req(`${d.usage!.url}/ready`)],
      ["usage /metrics", () => req(`${d.usage!.url}/metrics`)],
      ["usage 404", () => req(`${d.usage!.url}/api/v1/keys/`)],
      ["example 200", () => req(`${d.example!.url}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": key.apiKey }, json: goodLoan })],
      ["example 401", () => req(`${d.example!.url}/api/v1/loans/predict`, { method: "POST", json: goodLoan })],
      ["example 400", () => req(`${d.example!.url}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": key.apiKey }, json: { ...goodLoan, extra: 1 } })],
      ["example /health", () => req(`${d.example!.url}/health`)],
      ["example 404", () => req(`${d.example!.url}/nope`)],
    ];
    for (const [name, call] of calls) {
      const r = await call();
      expect({ name, ...securityHeaders(r) } as Record<string, unknown>).toEqual({ name, ...EXPECTED, csp: "present" });
      if (r.status >= 400) expect({ name, envelope: isEnvelope(r.body) }).toEqual({ name, envelope: true });
    }
  });

  test("generate and regenerate, which carry the plaintext key, are no-store", async () => {
    const owner = await newOwner("nostore");
    const g = await req(`${d.keys!.url}/api/v1/keys/generate`, { method: "POST", headers: owner.headers });
    const r = await req(`${d.keys!.url}/api/v1/keys/regenerate`, { method: "POST", headers: owner.headers });
    for (const res of [g, r]) {
      expect(res.body.data.apiKey).toMatch(/^sk_live_/);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("pragma") === null || res.headers.get("pragma") === "no-cache").toBe(true);
    }
  });
});

describe("request size limits", () => {
  const big = JSON.stringify({ label: "x".repeat(17 * 1024) });

  test("a body over 16 KiB is 413 PAYLOAD_TOO_LARGE on every POST route, declared or streamed without a length", async () => {
    const owner = await newOwner("big");
    const key = await issueKey(d.keys!, owner);
    const targets: [string, Record<string, string>][] = [
      [`${d.keys!.url}/api/v1/keys/generate`, owner.headers],
      [`${d.keys!.url}/api/v1/keys/regenerate`, owner.headers],
      [`${d.keys!.url}/api/v1/keys/revoke`, owner.headers],
      [`${d.example!.url}/api/v1/loans/predict`, { "x-api-key": key.apiKey }],
    ];
    for (const [url, headers] of targets) {
      const declared = await req(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: big });
      expect({ url, status: declared.status, code: declared.body?.error?.code }).toEqual({ url, status: 413, code: "PAYLOAD_TOO_LARGE" });
      // Chunked: no Content-Length to refuse up front; the reader stops at the limit.
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          const chunk = new TextEncoder().encode("x".repeat(4096));
          for (let i = 0; i < 6; i++) c.enqueue(chunk);
          c.close();
        },
      });
      const streamed = await req(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: stream });
      expect({ url, status: streamed.status, code: streamed.body?.error?.code }).toEqual({ url, status: 413, code: "PAYLOAD_TOO_LARGE" });
    }
    // An anonymous caller of the keys edge is refused before its body is looked at (test/security/body-before-auth.test.ts).
    const anonymous = await req(`${d.keys!.url}/api/v1/keys/generate`, { method: "POST", headers: { "content-type": "application/json" }, body: big });
    expect({ status: anonymous.status, code: anonymous.body?.error?.code }).toEqual({ status: 401, code: "UNAUTHORIZED" });
    // So is a caller of a guarded route without a key (the guard checks before the body is read).
    const keyless = await req(`${d.example!.url}/api/v1/loans/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: big });
    expect({ status: keyless.status, code: keyless.body?.error?.code }).toEqual({ status: 401, code: "INVALID_API_KEY" });
    // Nothing was rotated or revoked by the refused requests.
    expect((await req(`${d.keys!.url}/api/v1/keys/`, { headers: owner.headers })).body.data.keyId).toBe(key.keyId);
  });

  test("headers over 8 KiB are 431 HEADERS_TOO_LARGE on every service, in the envelope; just under passes", async () => {
    const owner = await newOwner("bighdr");
    for (const url of [`${d.keys!.url}/api/v1/keys/`, `${d.usage!.url}/health`, `${d.example!.url}/health`]) {
      const r = await req(url, { headers: { ...owner.headers, "x-pad": "p".repeat(9 * 1024) } });
      expect({ url, status: r.status, envelope: isEnvelope(r.body), code: r.body?.error?.code }).toEqual({ url, status: 431, envelope: true, code: "HEADERS_TOO_LARGE" });
    }
    const ok = await req(`${d.keys!.url}/health`, { headers: { "x-pad": "p".repeat(6 * 1024) } });
    expect(ok.status).toBe(200);
  });
});
