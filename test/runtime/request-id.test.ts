/**
 * Every error body carries the request id: `error.requestId` is the answer's
 * `x-request-id` header, on every service (the keys edge, usage, the example
 * behind the guard), from every layer that can refuse (serve()'s Host check,
 * httpBasics' limits and parser, routing, validation, the guard, the routes),
 * so a caller quoting either one names the same log line. A caller's
 * well-formed `x-request-id` comes back in both; an ill-formed one is replaced.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import type { NatsConnection } from "nats";
import { createGuard } from "@riskinmind/guard";
import { serve } from "@riskinmind/runtime";
import { connectTestNats, deploy, type Deployment, goodLoan, issueKey, newOwner, rawConnect, rawRequest, silentLog, type Svc, testTopology } from "@riskinmind/testkit";

interface Answer {
  status: number;
  header: string | null;
  body: { success?: unknown; error?: { code?: string; requestId?: unknown } };
}

/** One error answer, sent with `headers` added (an incoming x-request-id, or none). */
type Probe = (headers: Record<string, string>) => Promise<Answer>;

const BODY_TIMEOUT_MS = 400;
let d: Deployment;
/** A keys edge with a mutation limit of 1 and a short body deadline: for 429 and 408. */
let strict: Svc;
let owner: { sub: string; headers: Record<string, string> };
let apiKey: string;
/** A well-formed key the keys service knows as revoked. */
let revokedKey: string;

// Explicit budgets: a preload's setDefaultTimeout reaches only the first file of a whole-suite run (Bun), and these start services and send ~25 requests per test.
beforeAll(async () => {
  d = await deploy({ services: ["usage", "keys", "example"] });
  strict = await d.spawn("keys", { RATE_LIMIT_PER_MINUTE: "1", BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) });
  owner = await newOwner("rid");
  apiKey = (await issueKey(d.keys!, owner)).apiKey;
  const gone = await newOwner("rid-revoked");
  revokedKey = (await issueKey(d.keys!, gone)).apiKey;
  expect((await fetch(`${d.keys!.url}/api/v1/keys/revoke`, { method: "POST", headers: gone.headers })).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await d?.close();
});

async function viaFetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await fetch(url, { method: init.method ?? "GET", headers: init.headers, body: init.body, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, header: res.headers.get("x-request-id"), body: JSON.parse(await res.text()) };
}

const portOf = (url: string) => Number(new URL(url).port);
const headerLines = (h: Record<string, string>) =>
  Object.entries(h)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");

/** A request fetch will not send (a Host it rewrites, a body it would finish), over a raw socket. */
async function viaRaw(url: string, head: string, headers: Record<string, string>, body = ""): Promise<Answer> {
  const r = await rawRequest(portOf(url), `${head}\r\n${headerLines(headers)}Connection: close\r\n\r\n${body}`);
  return { status: r.status, header: r.headers["x-request-id"] ?? null, body: JSON.parse(r.body) };
}

const json = (headers: Record<string, string>, extra: Record<string, string> = {}) => ({ ...headers, ...extra, "content-type": "application/json" });

/** [name, expected status, expected code, probe]: a sample of every kind of error answer on each service. */
function probes(): [string, number, string, Probe][] {
  const K = d.keys!.url;
  const U = d.usage!.url;
  const X = d.example!.url;
  const auth = owner.headers;
  return [
    ["keys: no token", 401, "UNAUTHORIZED", (h) => viaFetch(`${K}/api/v1/keys/`, { headers: h })],
    ["keys: no token, with a body (refused before it is read)", 401, "UNAUTHORIZED", (h) => viaFetch(`${K}/api/v1/keys/generate`, { method: "POST", headers: json(h), body: "{" })],
    ["keys: 409 ACTIVE_KEY_EXISTS", 409, "ACTIVE_KEY_EXISTS", (h) => viaFetch(`${K}/api/v1/keys/generate`, { method: "POST", headers: { ...auth, ...h } })],
    ["keys: body validation", 400, "VALIDATION_ERROR", (h) => viaFetch(`${K}/api/v1/keys/regenerate`, { method: "POST", headers: json(auth, h), body: '{"label":7}' })],
    ["keys: malformed JSON", 400, "MALFORMED_JSON", (h) => viaFetch(`${K}/api/v1/keys/regenerate`, { method: "POST", headers: json(auth, h), body: '{"label":' })],
    ["keys: query validation", 400, "VALIDATION_ERROR", (h) => viaFetch(`${K}/api/v1/keys/logs?page=0`, { headers: { ...auth, ...h } })],
    ["keys: 415", 415, "UNSUPPORTED_MEDIA_TYPE", (h) => viaFetch(`${K}/api/v1/keys/regenerate`, { method: "POST", headers: { ...auth, ...h, "content-type": "text/plain" }, body: "x" })],
    ["keys: 413", 413, "PAYLOAD_TOO_LARGE", (h) => viaFetch(`${K}/api/v1/keys/regenerate`, { method: "POST", headers: json(auth, h), body: JSON.stringify({ label: "x".repeat(17_000) }) })],
    ["keys: 431", 431, "HEADERS_TOO_LARGE", (h) => viaFetch(`${K}/api/v1/keys/`, { headers: { ...auth, ...h, "x-big": "a".repeat(9_000) } })],
    ["keys: unknown route", 404, "NOT_FOUND", (h) => viaFetch(`${K}/nowhere`, { headers: h })],
    ["keys: wrong method", 404, "NOT_FOUND", (h) => viaFetch(`${K}/api/v1/keys/revoke`, { method: "PUT", headers: { ...auth, ...h } })],
    ["keys: malformed Host (serve)", 400, "VALIDATION_ERROR", (h) => viaRaw(K, "GET /health HTTP/1.1\r\nHost: a@b", h)],
    [
      "keys: 429",
      429,
      "RATE_LIMITED",
      async (h) => {
        // The strict edge allows one mutation a minute per owner: a fresh owner's second one is refused.
        const o = await newOwner("rid429");
        await viaFetch(`${strict.url}/api/v1/keys/revoke`, { method: "POST", headers: o.headers });
        return viaFetch(`${strict.url}/api/v1/keys/revoke`, { method: "POST", headers: { ...o.headers, ...h } });
      },
    ],
    [
      "keys: 408",
      408,
      "REQUEST_TIMEOUT",
      async (h) => {
        const c = rawConnect(portOf(strict.url));
        try {
          // Announces more than it sends: the body never completes, the deadline answers.
          c.send(`POST /api/v1/keys/revoke HTTP/1.1\r\nHost: 127.0.0.1\r\n${headerLines(json(auth, h))}content-length: 100\r\n\r\n{`);
          const r = await c.reply;
          return { status: r.status, header: r.headers["x-request-id"] ?? null, body: JSON.parse(r.body) };
        } finally {
          c.destroy();
        }
      },
    ],
    ["usage: unknown route", 404, "NOT_FOUND", (h) => viaFetch(`${U}/api/v1/keys/`, { headers: h })],
    ["usage: 431", 431, "HEADERS_TOO_LARGE", (h) => viaFetch(`${U}/health`, { headers: { ...h, "x-big": "a".repeat(9_000) } })],
    ["usage: malformed Host (serve)", 400, "VALIDATION_ERROR", (h) => viaRaw(U, "GET /health HTTP/1.1\r\nHost: a@b", h)],
    ["example: no key, no body (guard plugin)", 401, "INVALID_API_KEY", (h) => viaFetch(`${X}/api/v1/loans/predict`, { method: "POST", headers: h })],
    [
      "example: no key, with a body (guard before the body)",
      401,
      "INVALID_API_KEY",
      (h) => viaFetch(`${X}/api/v1/loans/predict`, { method: "POST", headers: json(h), body: JSON.stringify(goodLoan) }),
    ],
    [
      "example: revoked key (asked the keys service)",
      401,
      "INVALID_API_KEY",
      (h) => viaFetch(`${X}/api/v1/loans/predict`, { method: "POST", headers: json({ "x-api-key": revokedKey, ...h }), body: JSON.stringify(goodLoan) }),
    ],
    [
      "example: body validation",
      400,
      "VALIDATION_ERROR",
      (h) => viaFetch(`${X}/api/v1/loans/predict`, { method: "POST", headers: json({ "x-api-key": apiKey, ...h }), body: JSON.stringify({ ...goodLoan, extra: 1 }) }),
    ],
    ["example: unknown route", 404, "NOT_FOUND", (h) => viaFetch(`${X}/nowhere`, { headers: h })],
    ["example: malformed Host (serve)", 400, "VALIDATION_ERROR", (h) => viaRaw(X, "GET /health HTTP/1.1\r\nHost: a@b", h)],
  ];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("error bodies carry the answer's request id, on every service", () => {
  test("without an incoming id: a fresh one, the same in the body and the x-request-id header", async () => {
    const seen = new Set<string>();
    for (const [name, status, code, probe] of probes()) {
      const a = await probe({});
      expect({ name, status: a.status, code: a.body.error?.code, success: a.body.success }).toEqual({ name, status, code, success: false });
      expect({ name, header: a.header, body: a.body.error?.requestId }).toEqual({ name, header: expect.stringMatching(UUID), body: a.header });
      seen.add(a.header!);
    }
    // Fresh per request, not one id for everything.
    expect(seen.size).toBe(probes().length);
  }, 30_000);

  test("a well-formed incoming x-request-id is echoed in the body and the header", async () => {
    for (const [i, [name, status, , probe]] of probes().entries()) {
      const mine = `trace.${i}_rid-${Math.random().toString(36).slice(2, 10)}`;
      const a = await probe({ "x-request-id": mine });
      expect({ name, status: a.status, header: a.header, body: a.body.error?.requestId }).toEqual({ name, status, header: mine, body: mine });
    }
  }, 30_000);

  test("an ill-formed incoming x-request-id is replaced, in the body and the header alike", async () => {
    for (const [name, , , probe] of probes()) {
      const a = await probe({ "x-request-id": "has spaces, and is not ours" });
      expect({ name, header: a.header, body: a.body.error?.requestId }).toEqual({ name, header: expect.stringMatching(UUID), body: a.header });
    }
  }, 30_000);

  test("an API key or a JWT sent as x-request-id is never echoed or logged as the id: a fresh one replaces it", async () => {
    // Both fit the id's character set; a caller pasting a secret in the wrong header must not get it copied into bodies and logs.
    const jwtShaped = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    const chosen = probes().filter(([n]) => n.startsWith("keys: unknown") || n.startsWith("example: no key, no body"));
    expect(chosen.length).toBe(2);
    for (const [name, , , probe] of chosen) {
      for (const secret of [apiKey, jwtShaped]) {
        const a = await probe({ "x-request-id": secret });
        expect({ name, header: a.header, body: a.body.error?.requestId }).toEqual({ name, header: expect.stringMatching(UUID), body: a.header });
      }
    }
  }, 30_000);
});

describe("outside httpBasics", () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connectTestNats("guard");
  });
  afterAll(async () => {
    await nc?.close();
  });

  test("the guard mounted alone sends the caller's id (or a fresh one) in its refusals' body and header", async () => {
    // No keys service on this topology: a good key cannot be verified (503), a missing one is 401.
    const guard = createGuard({ nc, topology: testTopology(), log: silentLog, options: { verifyTimeoutMs: 300 } });
    const app = new Elysia().use(guard.plugin).get("/guarded", () => "ok");
    try {
      for (const [headers, status] of [
        [{}, 401],
        [{ "x-api-key": apiKey }, 503],
      ] as const) {
        for (const incoming of [undefined, "guard-only-42"]) {
          const res = await app.handle(new Request("http://guard.test/guarded", { headers: { ...headers, ...(incoming ? { "x-request-id": incoming } : {}) } }));
          const body = (await res.json()) as Answer["body"];
          const header = res.headers.get("x-request-id");
          expect({ status: res.status, header, body: body.error?.requestId }).toEqual({ status, header: incoming ?? expect.stringMatching(UUID), body: header });
        }
      }
    } finally {
      await guard.close();
    }
  });

  test("serve()'s 500 fallback, for an error escaping the app, is an envelope whose requestId is its header's", async () => {
    const server = serve({ fetch: () => Promise.reject(new Error("escaped")) }, { port: 0, hostname: "127.0.0.1" });
    try {
      const a = await viaFetch(`http://127.0.0.1:${server.port}/anything`);
      expect({ status: a.status, code: a.body.error?.code, header: a.header, body: a.body.error?.requestId }).toEqual({
        status: 500,
        code: "INTERNAL",
        header: expect.stringMatching(UUID),
        body: a.header,
      });
    } finally {
      server.stop(true);
    }
  });
});
