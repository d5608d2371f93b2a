/**
 * Routing never depends on the Host header, and no Host makes a service
 * answer 5xx, a stack or source: every service run by `bun run start` (which
 * must behave as production) answers each Host variant with its normal answer
 * or a 400 envelope. Raw sockets, since fetch rewrites Host.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type Child, createTestDb, freePort, newOwner, type RawReply, rawRequest, spawnChild, startEnv, type TestDb, testTopology, waitFor } from "@riskinmind/testkit";

const ROOT = join(import.meta.dir, "../..");
let db: TestDb;
let start: Child;
const ports = { keys: freePort(), usage: freePort(), example: freePort() };

beforeAll(async () => {
  db = await createTestDb();
  const env = { ...startEnv(db, testTopology()), KEYS_PORT: String(ports.keys), USAGE_PORT: String(ports.usage), EXAMPLE_PORT: String(ports.example) };
  // NODE_ENV unset on purpose: `bun run start` must not fall back to Bun's development mode.
  start = spawnChild(["bun", "scripts/start.ts", "--with-example"], env, ROOT);
  const healthy = async (p: number) => (await fetch(`http://127.0.0.1:${p}/health`)).status === 200;
  await waitFor(async () => (await healthy(ports.keys)) && (await healthy(ports.usage)) && (await healthy(ports.example)), 30_000, "all /health");
}, 40_000);
afterAll(async () => {
  await start?.kill("SIGTERM");
  await db?.drop();
});

/** Host header lines to try; `null` sends none. */
const HOSTS: [string, string | null][] = [
  ["no Host", null],
  ["empty Host", ""],
  ["one character", "x"],
  ["three characters", "abc"],
  ["a bracket", "["],
  ["an at sign", "a@b"],
  ["a slash", "a/b"],
  ["a non-ASCII letter", "é"],
  ["port 99999", "localhost:99999"],
  ["a space", "a b"],
  ["an IPv6 literal", "[::1]:3000"],
];
const request = (version: "1.0" | "1.1", method: string, path: string, host: string | null, extra = "") =>
  `${method} ${path} HTTP/${version}\r\n${host === null ? "" : `Host: ${host}\r\n`}${extra}Connection: close\r\n\r\n`;

/**
 * Bun's HTTP parser itself refuses an HTTP/1.1 request without Host, and a
 * `*` target, with a bare 400 (no body) before any code of ours runs: safe,
 * if not our envelope.
 */
const parserRefusal = (r: RawReply) => r.status === 400 && r.body === "";

/** Never 5xx, never a page, a stack or a path; a refusal is our envelope (or the parser's bare 400). */
function expectSafe(r: RawReply, what: string): void {
  expect({ what, status: r.status < 500 }).toEqual({ what, status: true });
  expect(r.body.length).toBeLessThan(2_000);
  expect(r.body).not.toMatch(/\bat [^ ]+ \(|\/work\/|\.ts:\d+|<html/i);
  if (r.status >= 400 && !parserRefusal(r))
    expect({ what, body: JSON.parse(r.body) }).toEqual({ what, body: { success: false, error: { code: expect.any(String), message: expect.any(String), requestId: expect.any(String) } } });
}

describe("Host header variants", () => {
  for (const svc of ["keys", "usage", "example"] as const) {
    for (const [what, host] of HOSTS) {
      for (const version of ["1.0", "1.1"] as const) {
        test(`${svc}, HTTP/${version}, ${what}: /health answers 200 or a 400 envelope`, async () => {
          const r = await rawRequest(ports[svc], request(version, "GET", "/health", host));
          expectSafe(r, `${svc} ${what}`);
          expect([200, 400]).toContain(r.status);
          if (r.status === 400 && !(host === null && version === "1.1")) expect(JSON.parse(r.body).error.code).toBe("VALIDATION_ERROR");
        });
      }
    }
  }

  test("a missing or empty Host (HTTP/1.0 allows it) gets the normal answer", async () => {
    for (const svc of ["keys", "usage", "example"] as const) {
      for (const host of [null, ""]) {
        const r = await rawRequest(ports[svc], request("1.0", "GET", "/health", host));
        expect({ svc, host, status: r.status }).toEqual({ svc, host, status: 200 });
      }
    }
  });

  test("a malformed Host is a 400 VALIDATION_ERROR envelope on every service", async () => {
    for (const svc of ["keys", "usage", "example"] as const) {
      for (const host of ["[", "a@b", "a/b", "é", "localhost:99999"]) {
        const r = await rawRequest(ports[svc], request("1.1", "GET", "/health", host));
        expect({ svc, host, status: r.status, code: JSON.parse(r.body).error?.code }).toEqual({ svc, host, status: 400, code: "VALIDATION_ERROR" });
      }
    }
  });

  test("a short Host never shifts routing: /api/metrics is not /metrics, /x/health is not /health", async () => {
    for (const svc of ["keys", "usage", "example"] as const) {
      for (const host of ["x", "ab", "abc", null, ""]) {
        for (const path of ["/api/metrics", "/x/health", "/api/v1/keys/logs"]) {
          const r = await rawRequest(ports[svc], request(host === null ? "1.0" : "1.1", "GET", path, host));
          expectSafe(r, `${svc} ${host} ${path}`);
          // None of these paths exists unauthenticated: never the metrics text or a health answer.
          expect({ svc, host, path, status: r.status }).toEqual({ svc, host, path, status: svc === "keys" && path === "/api/v1/keys/logs" ? 401 : 404 });
        }
      }
    }
  });

  test("keys routes route by path alone: an owner's GET / works under any well-formed Host", async () => {
    const o = await newOwner("host");
    const auth = `Authorization: ${o.headers.authorization}\r\n`;
    for (const host of [null, "", "x", "abc", "keys.example.com", "[::1]:3000", "127.0.0.1:1"]) {
      const r = await rawRequest(ports.keys, request(host === null ? "1.0" : "1.1", "GET", "/api/v1/keys/", host, auth));
      // No key yet: the route ran and answered for this owner.
      expect({ host, status: r.status, code: JSON.parse(r.body).error?.code }).toEqual({ host, status: 404, code: "KEY_NOT_FOUND" });
    }
  });

  test("an error inside a request never shows Bun's development page under bun run start", async () => {
    // Targets no URL can be built from, and Hosts our own code once tripped over.
    for (const svc of ["keys", "usage", "example"] as const) {
      for (const req of [`GET * HTTP/1.1\r\nHost: x\r\n\r\n`, `GET /a HTTP/1.0\r\nHost: a@b\r\n\r\n`, `POST /api/v1/keys/generate HTTP/1.0\r\nHost: [\r\ncontent-length: 2\r\n\r\n{}`]) {
        expectSafe(await rawRequest(ports[svc], req), `${svc} ${JSON.stringify(req)}`);
      }
    }
    expect(start.output()).not.toMatch(/\.ts:\d+:\d+/);
  });
});
