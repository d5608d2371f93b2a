/**
 * The keys edge refuses an anonymous caller (401) before it reads a byte of
 * the body, and reads a body within BODY_TIMEOUT_MS or answers 408 and closes
 * the connection: neither an announced-but-missing body nor a slow drip can
 * hold a connection. Raw sockets, since fetch always sends what it announces.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type KeysInstance, type KeysStack, keysStack, newOwner, rawConnect, rawRequest } from "@riskinmind/testkit";

const BODY_TIMEOUT_MS = 400;
let env: KeysStack;
let a: KeysInstance;
let port: number;
beforeAll(async () => {
  env = await keysStack();
  a = await env.start({ BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) });
  port = Number(new URL(a.url).port);
});
afterAll(async () => {
  await env?.close();
});

const head = (path: string, headers: Record<string, string>) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
const rows = async (sub: string) => Number((await env.sql`select count(*)::int as n from keys.api_keys where owner_id = ${sub}`)[0]!.n);

describe("anonymous callers get 401 before any body is read", () => {
  const routes = ["/api/v1/keys/generate", "/api/v1/keys/regenerate", "/api/v1/keys/revoke"];
  const bodies: [string, Record<string, string>, string][] = [
    ["non-JSON", { "content-type": "text/plain", "content-length": "5" }, "hello"],
    ["malformed JSON", { "content-type": "application/json", "content-length": "9" }, '{"label":'],
    ["over 16 KiB (announced)", { "content-type": "application/json", "content-length": String(64 * 1024) }, "{}"],
    ["announced 16000 bytes, sent 100", { "content-type": "application/json", "content-length": "16000" }, "x".repeat(100)],
    ["invalid fields", { "content-type": "application/json", "content-length": "13" }, '{"label":123}'],
  ];
  for (const path of routes) {
    for (const [what, headers, body] of bodies) {
      test(`${path}, ${what}, no token → 401 UNAUTHORIZED`, async () => {
        const r = await rawRequest(port, head(path, headers) + body);
        expect({ status: r.status, code: JSON.parse(r.body).error.code }).toEqual({ status: 401, code: "UNAUTHORIZED" });
      });
      test(`${path}, ${what}, a forged token → 401 UNAUTHORIZED`, async () => {
        const forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        const r = await rawRequest(port, head(path, { ...headers, authorization: `Bearer ${forged}` }) + body);
        expect({ status: r.status, code: JSON.parse(r.body).error.code }).toEqual({ status: 401, code: "UNAUTHORIZED" });
      });
    }
  }
});

describe("a body that does not arrive in time gets 408 and the connection closes", () => {
  test("announces 16000 bytes, sends 100: 408 REQUEST_TIMEOUT, Connection: close, socket closed, nothing written", async () => {
    const o = await newOwner("slow");
    const c = rawConnect(port);
    c.send(head("/api/v1/keys/generate", { ...o.headers, "content-type": "application/json", "content-length": "16000" }) + `{"label":"${"x".repeat(88)}`);
    const r = await c.reply;
    expect(r.status).toBe(408);
    expect(JSON.parse(r.body)).toEqual({ success: false, error: { code: "REQUEST_TIMEOUT", message: expect.any(String), requestId: expect.any(String) } });
    expect(r.headers.connection?.toLowerCase()).toBe("close");
    await c.closed;
    expect(c.socket.destroyed || c.socket.readableEnded).toBe(true);
    expect(await rows(o.sub)).toBe(0);
  });

  test("a body dripped a byte at a time is cut off at the deadline: 408 and closed before the drip ends", async () => {
    const o = await newOwner("drip");
    const body = JSON.stringify({ label: "drip".repeat(10) });
    const c = rawConnect(port);
    c.send(head("/api/v1/keys/generate", { ...o.headers, "content-type": "application/json", "content-length": String(body.length) }));
    let sent = 0;
    let answered = false;
    void c.reply.then(
      () => (answered = true),
      () => (answered = true),
    );
    // One byte per quarter of the deadline: the whole body would need ~10 deadlines.
    while (!answered && sent < body.length) {
      c.send(body[sent++]!);
      await Promise.race([Bun.sleep(BODY_TIMEOUT_MS / 4), c.reply.catch(() => {})]);
    }
    const r = await c.reply;
    expect(sent).toBeLessThan(body.length);
    expect(r.status).toBe(408);
    expect(JSON.parse(r.body).error.code).toBe("REQUEST_TIMEOUT");
    await c.closed;
    expect(await rows(o.sub)).toBe(0);
  });

  test("a body sent in time is served as usual (the deadline is not a per-request cost)", async () => {
    const o = await newOwner("ok");
    const body = JSON.stringify({ label: "fine" });
    const r = await rawRequest(port, head("/api/v1/keys/generate", { ...o.headers, "content-type": "application/json", "content-length": String(body.length), connection: "close" }) + body);
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body).data.label).toBe("fine");
  });
});
