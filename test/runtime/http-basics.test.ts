import { afterAll, describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { Writable } from "node:stream";
import { createLogger, createMetrics, httpBasics } from "@riskinmind/runtime";
import { AppError, GenerateBody } from "@riskinmind/contracts";

// The edge plumbing every service shares, exercised over real HTTP.
const lines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, cb) {
    lines.push(String(chunk));
    cb();
  },
});
const log = createLogger("http-test", "info", sink);
const metrics = createMetrics("http-test");
const app = new Elysia({ normalize: false })
  .use(httpBasics({ log, metrics }))
  .post("/echo", ({ body }) => ({ body }), { body: t.Optional(GenerateBody) })
  .get("/boom", () => {
    throw new Error("internal detail that must not leak");
  })
  .get("/expected", () => {
    throw new AppError("KEY_NOT_FOUND", "No active key.");
  })
  .listen({ port: 0, hostname: "127.0.0.1" });
const base = `http://127.0.0.1:${app.server!.port}`;
afterAll(() => app.stop(true));

async function envelope(res: Response) {
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as { success: boolean; error: { code: string; message: string; requestId: string } };
  expect(body.success).toBe(false);
  return body.error;
}

describe("http basics", () => {
  test("every answer carries a request id: the caller's when well-formed, a fresh one otherwise", async () => {
    const mine = await fetch(`${base}/echo`, { method: "POST", headers: { "x-request-id": "req-abc_123" } });
    expect(mine.headers.get("x-request-id")).toBe("req-abc_123");
    const bad = await fetch(`${base}/echo`, { method: "POST", headers: { "x-request-id": "has spaces and \u00e9" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const fresh = await fetch(`${base}/echo`, { method: "POST" });
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh.headers.get("x-request-id")).not.toBe(bad.headers.get("x-request-id"));
  });

  test("the request id in the header is the one in the request's log line", async () => {
    const res = await fetch(`${base}/echo`, { method: "POST", headers: { "x-request-id": "trace-me-42" } });
    expect(res.status).toBe(200);
    await Bun.sleep(0);
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.requestId === "trace-me-42");
    expect(line).toMatchObject({ msg: "request", method: "POST", route: "/echo", status: 200 });
  });

  test("an error refused before routing (415 in the body parser) names in its body the id of its header and of its log line", async () => {
    const res = await fetch(`${base}/echo`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
    expect(res.status).toBe(415);
    const id = res.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await envelope(res)).requestId).toBe(id!);
    await Bun.sleep(0);
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.requestId === id);
    expect(line).toMatchObject({ msg: "request", method: "POST", status: 415 });
  });

  test("security headers and no-store on success and on every kind of error", async () => {
    const responses = [
      await fetch(`${base}/echo`, { method: "POST" }),
      await fetch(`${base}/nowhere`),
      await fetch(`${base}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" }),
      await fetch(`${base}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(20_000) }),
      await fetch(`${base}/boom`),
    ];
    for (const res of responses) {
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    }
  });

  test("client mistakes map to their 4xx codes in the envelope", async () => {
    const cases: [RequestInit & { path?: string }, number, string][] = [
      [{ method: "POST", headers: { "content-type": "application/json" }, body: "{not json" }, 400, "MALFORMED_JSON"],
      [{ method: "POST", headers: { "content-type": "text/plain" }, body: "hello" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ label: "x".repeat(17_000) }) }, 413, "PAYLOAD_TOO_LARGE"],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ label: 7 }) }, 400, "VALIDATION_ERROR"],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ other: 1 }) }, 400, "VALIDATION_ERROR"],
      [{ method: "POST", headers: { "content-type": "application/json", "x-big": "a".repeat(9000) }, body: "{}" }, 431, "HEADERS_TOO_LARGE"],
      [{ method: "GET", path: "/nowhere" }, 404, "NOT_FOUND"],
      [{ method: "GET", path: "/expected" }, 404, "KEY_NOT_FOUND"],
    ];
    for (const [init, status, code] of cases) {
      const res = await fetch(`${base}${init.path ?? "/echo"}`, init);
      expect({ code, status: res.status }).toEqual({ code, status });
      expect((await envelope(res)).code).toBe(code);
    }
  });

  test("a body streamed without content-length is still cut at 16 KiB", async () => {
    const chunk = new TextEncoder().encode("x".repeat(4096));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 8) c.enqueue(chunk);
        else c.close();
      },
    });
    const res = await fetch(`${base}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect((await envelope(res)).code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("an unexpected error is a 500 envelope without its message or stack", async () => {
    const res = await fetch(`${base}/boom`);
    expect(res.status).toBe(500);
    const text = await res.clone().text();
    expect(text).not.toContain("internal detail");
    expect(text).not.toContain("at ");
    expect((await envelope(res)).code).toBe("INTERNAL");
  });

  test("metrics count requests by route pattern and the status actually sent", async () => {
    await fetch(`${base}/nowhere-${Math.random()}`);
    const text = await metrics.registry.metrics();
    expect(text).toContain('http_requests_total{route="/echo",method="POST",status="400"');
    expect(text).toContain('route="unmatched",method="GET",status="404"');
    expect(text).not.toContain("nowhere-");
  });
});
