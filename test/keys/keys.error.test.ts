import { describe, expect, test } from "bun:test";
import { freePort, useKeysStack, newOwner, issueKey } from "@riskinmind/testkit";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000" });

const rowsOf = async (sub: string) => Number((await env.sql`select count(*)::int as n from keys.api_keys where owner_id = ${sub}`)[0]!.n);

function expectEnvelope(r: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.body.success).toBe(false);
  expect(r.body.error.code).toBe(code);
  expect(typeof r.body.error.message).toBe("string");
  expect(r.body.error.requestId).toBe(r.headers.get("x-request-id")!);
  expect(JSON.stringify(r.body)).not.toMatch(/at .+\.ts:\d+/); // no stack trace
}

describe("bad generate bodies are refused with a 4xx envelope and write nothing", () => {
  const cases: [string, { json?: unknown; body?: string; type?: string }, number, string][] = [
    ["malformed JSON", { body: '{"label": ', type: "application/json" }, 400, "MALFORMED_JSON"],
    ["text/plain body", { body: "label=x", type: "text/plain" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    ["label is a number", { json: { label: 42 } }, 400, "VALIDATION_ERROR"],
    ["label is empty", { json: { label: "" } }, 400, "VALIDATION_ERROR"],
    ["label is 101 chars", { json: { label: "x".repeat(101) } }, 400, "VALIDATION_ERROR"],
    ["unknown field", { json: { label: "ok", admin: true } }, 400, "VALIDATION_ERROR"],
    ["body is a JSON array", { json: ["label"] }, 400, "VALIDATION_ERROR"],
    ["body is JSON null", { body: "null", type: "application/json" }, 400, "VALIDATION_ERROR"],
    ["body over 16 KiB", { json: { label: "x".repeat(17 * 1024) } }, 413, "PAYLOAD_TOO_LARGE"],
  ];
  for (const [name, input, status, code] of cases) {
    test(`${name} → ${status} ${code}`, async () => {
      const o = await newOwner();
      const headers = { ...o.headers, ...(input.type ? { "content-type": input.type } : {}) };
      const r = await env.a.call("POST", "/api/v1/keys/generate", { headers, json: input.json, body: input.body });
      expectEnvelope(r, status, code);
      expect(await rowsOf(o.sub)).toBe(0);
    });
  }

  test("a label of exactly 100 chars is accepted (the bound is inclusive)", async () => {
    const o = await newOwner();
    const r = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: { label: "y".repeat(100) } });
    expect(r.status).toBe(201);
    expect(await rowsOf(o.sub)).toBe(1);
  });

  test("regenerate with a bad body changes nothing (the active key stays)", async () => {
    const o = await newOwner();
    const k = await issueKey(env.a, o);
    expectEnvelope(await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { label: 7 } }), 400, "VALIDATION_ERROR");
    expect(await rowsOf(o.sub)).toBe(1);
    expect(await env.verify(k.apiKey)).toMatchObject({ valid: true });
  });
});

describe("policy and lookup errors", () => {
  test("a second generate with an active key is 409 ACTIVE_KEY_EXISTS pointing at regenerate", async () => {
    const o = await newOwner();
    expect((await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers })).status).toBe(201);
    const r = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers });
    expectEnvelope(r, 409, "ACTIVE_KEY_EXISTS");
    expect(r.body.error.message).toContain("POST /api/v1/keys/regenerate");
    expect(await rowsOf(o.sub)).toBe(1);
  });

  test("GET / with no key ever issued is 404 KEY_NOT_FOUND", async () => {
    const o = await newOwner();
    expectEnvelope(await env.a.call("GET", "/api/v1/keys/", { headers: o.headers }), 404, "KEY_NOT_FOUND");
  });

  test("revoke with no active key is 404 KEY_NOT_FOUND", async () => {
    const o = await newOwner();
    expectEnvelope(await env.a.call("POST", "/api/v1/keys/revoke", { headers: o.headers }), 404, "KEY_NOT_FOUND");
  });

  test("an unknown route is 404 NOT_FOUND in the envelope", async () => {
    const o = await newOwner();
    expectEnvelope(await env.a.call("GET", "/api/v1/keys/nope", { headers: o.headers }), 404, "NOT_FOUND");
    expectEnvelope(await env.a.call("GET", "/nothing-here"), 404, "NOT_FOUND");
  });

  test("a wrong method on a known path is 404 NOT_FOUND in the envelope (a route is its method and path: there is no 405)", async () => {
    const o = await newOwner();
    for (const [m, p] of [
      ["DELETE", "/api/v1/keys/"],
      ["GET", "/api/v1/keys/generate"],
      ["PUT", "/api/v1/keys/revoke"],
      ["POST", "/api/v1/keys/logs"],
    ] as const) {
      const r = await env.a.call(m, p, { headers: o.headers });
      expect({ m, p, status: r.status, code: r.body.error?.code }).toEqual({ m, p, status: 404, code: "NOT_FOUND" });
      expectEnvelope(r, 404, "NOT_FOUND");
    }
  });
});

describe("rate limit on key mutations", () => {
  test("the (N+1)th mutation within a minute is 429 RATE_LIMITED with Retry-After, per owner", async () => {
    const limited = await env.start({ RATE_LIMIT_PER_MINUTE: "3" });
    const o = await newOwner();
    const statuses: number[] = [];
    for (const p of ["/generate", "/regenerate", "/revoke"]) statuses.push((await limited.call("POST", "/api/v1/keys" + p, { headers: o.headers })).status);
    expect(statuses).toEqual([201, 200, 200]);
    const r = await limited.call("POST", "/api/v1/keys/generate", { headers: o.headers });
    expectEnvelope(r, 429, "RATE_LIMITED");
    const retry = Number(r.headers.get("retry-after"));
    expect(Number.isInteger(retry) && retry >= 1 && retry <= 60).toBe(true);
    expect(await rowsOf(o.sub)).toBe(2); // the refused generate wrote nothing
    // Reads are not limited, and another owner has a bucket of its own.
    expect((await limited.call("GET", "/api/v1/keys/", { headers: o.headers })).status).toBe(404);
    const other = await newOwner();
    expect((await limited.call("POST", "/api/v1/keys/generate", { headers: other.headers })).status).toBe(201);
  });
});

describe("Postgres unreachable", () => {
  test("management endpoints answer 503 DATABASE_UNAVAILABLE in the envelope, and /ready is 503", async () => {
    const down = await env.start({ DATABASE_URL: `postgres://postgres@127.0.0.1:${freePort()}/nowhere` });
    const o = await newOwner();
    for (const [m, p] of [
      ["GET", "/api/v1/keys/"],
      ["POST", "/api/v1/keys/generate"],
      ["POST", "/api/v1/keys/regenerate"],
      ["POST", "/api/v1/keys/revoke"],
    ] as const) {
      expectEnvelope(await down.call(m, p, { headers: o.headers }), 503, "DATABASE_UNAVAILABLE");
    }
    expectEnvelope(await down.call("GET", "/ready"), 503, "NOT_READY");
    expect((await down.call("GET", "/health")).status).toBe(200);
  });
});
