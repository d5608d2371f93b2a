/**
 * GET /api/v1/keys/audit over real HTTP: the owner's entries newest first,
 * paged by an opaque cursor, filtered by mode; each entry names who changed
 * what from where (peer address, User-Agent, request id). Bad parameters are
 * a 400 envelope; an owner sees only its own entries; reads count against
 * READ_RATE_LIMIT_PER_MINUTE.
 */
import { describe, expect, test } from "bun:test";
import { isEnvelope, newOwner, useKeysStack, type Owner } from "@riskinmind/testkit";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000" });

const audit = (o: Owner, qs = "", headers: Record<string, string> = {}) => env.a.call("GET", `/api/v1/keys/audit${qs}`, { headers: { ...o.headers, ...headers } });

interface Entry {
  id: string;
  action: string;
  keyId: string;
  mode: string;
  actor: { type: string; id: string };
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  at: string;
  changes: Record<string, unknown>;
  prevHash: string | null;
  hash: string;
}

/** Five changes: generate, PATCH, regenerate (live), generate (test), revoke (live). */
async function history(o: Owner): Promise<void> {
  expect((await env.a.generate(o, { label: "one" })).status).toBe(201);
  expect((await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: { label: "two" } })).status).toBe(200);
  expect((await env.a.regenerate(o)).status).toBe(200);
  expect((await env.a.call("POST", "/api/v1/keys/generate?mode=test", { headers: o.headers })).status).toBe(201);
  expect((await env.a.revoke(o)).status).toBe(200);
}

describe("happy path", () => {
  test("newest first, chained, each entry with actor, peer address, User-Agent and the answer's request id", async () => {
    const o = await newOwner("aud");
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: { ...o.headers, "user-agent": "audit-test/1.0" }, json: { label: "ci" } });
    expect(g.status).toBe(201);
    const p = await env.a.call("PATCH", "/api/v1/keys/", { headers: { ...o.headers, "user-agent": "audit-test/2.0" }, json: { scopes: ["loans:read"] } });
    expect(p.status).toBe(200);
    const r = await audit(o);
    expect(r.status).toBe(200);
    const body = r.body as { success: true; data: Entry[]; meta: { limit: number; nextCursor: string | null } };
    expect(body.success).toBe(true);
    expect(body.meta).toEqual({ limit: 20, nextCursor: null });
    expect(body.data.map((e) => e.action)).toEqual(["key.updated", "key.generated"]);
    const [upd, gen] = body.data as [Entry, Entry];
    expect(gen).toMatchObject({ actor: { type: "owner", id: o.sub }, mode: "live", userAgent: "audit-test/1.0", requestId: g.headers.get("x-request-id"), prevHash: null });
    expect(upd).toMatchObject({ userAgent: "audit-test/2.0", requestId: p.headers.get("x-request-id"), prevHash: gen.hash });
    expect(upd.changes).toEqual({ scopes: { from: ["*"], to: ["loans:read"] } });
    expect(gen.changes).toEqual({ label: "ci" });
    // The TCP peer (this test, over loopback), not a header the client writes.
    expect(gen.ip === "127.0.0.1" || gen.ip === "::ffff:127.0.0.1").toBe(true);
    expect(Date.parse(gen.at)).toBeLessThanOrEqual(Date.parse(upd.at));
    expect(g.headers.get("x-request-id")).toBeTruthy();
  });

  test("pages of 2 with the cursor walk every entry once, newest first; ?mode= keeps one slot's", async () => {
    const o = await newOwner("page");
    await history(o);
    const seen: Entry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await audit(o, `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(r.status).toBe(200);
      const b = r.body as { data: Entry[]; meta: { limit: number; nextCursor: string | null } };
      expect(b.meta.limit).toBe(2);
      seen.push(...b.data);
      cursor = b.meta.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen.map((e) => e.action)).toEqual(["key.revoked", "key.generated", "key.regenerated", "key.updated", "key.generated"]);
    expect(new Set(seen.map((e) => e.id)).size).toBe(5);
    const test = await audit(o, "?mode=test");
    expect((test.body as { data: Entry[] }).data.map((e) => [e.action, e.mode])).toEqual([["key.generated", "test"]]);
    const live = await audit(o, "?mode=live");
    expect((live.body as { data: Entry[] }).data.map((e) => e.mode)).toEqual(["live", "live", "live", "live"]);
  });

  test("an owner without changes gets an empty page", async () => {
    const r = await audit(await newOwner("empty"));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ success: true, data: [], meta: { limit: 20, nextCursor: null } });
  });
});

describe("bad parameters: 400 VALIDATION_ERROR, nothing else", () => {
  const cases: [string, string][] = [
    ["limit=0", "?limit=0"],
    ["limit=101", "?limit=101"],
    ["limit=abc", "?limit=abc"],
    ["limit=-1", "?limit=-1"],
    ["cursor not ours", "?cursor=abc"],
    ["cursor of a negative seq", `?cursor=${Buffer.from("a1.-3").toString("base64url")}`],
    ["cursor too long", `?cursor=${"A".repeat(200)}`],
    ["mode=prod", "?mode=prod"],
  ];
  for (const [name, qs] of cases) {
    test(name, async () => {
      const o = await newOwner("bad");
      const r = await audit(o, qs);
      expect(r.status).toBe(400);
      expect(isEnvelope(r.body)).toBe(true);
      expect((r.body as { error: { code: string } }).error.code).toBe("VALIDATION_ERROR");
    });
  }
  test("no JWT: 401 envelope", async () => {
    const r = await env.a.call("GET", "/api/v1/keys/audit");
    expect(r.status).toBe(401);
    expect(isEnvelope(r.body)).toBe(true);
  });
});

describe("security", () => {
  test("an owner sees only its own entries, even with another owner's cursor", async () => {
    const a = await newOwner("own_a");
    const b = await newOwner("own_b");
    await history(a);
    expect((await env.a.generate(b)).status).toBe(201);
    const ra = await audit(a, "?limit=2");
    const cursorA = (ra.body as { meta: { nextCursor: string } }).meta.nextCursor;
    expect(cursorA).toBeString();
    const rb = await audit(b);
    const entriesB = (rb.body as { data: Entry[] }).data;
    expect(entriesB.map((e) => e.actor.id)).toEqual([b.sub]);
    const withA = await audit(b, `?cursor=${encodeURIComponent(cursorA)}`);
    expect(withA.status).toBe(200);
    for (const e of (withA.body as { data: Entry[] }).data) expect(e.actor.id).toBe(b.sub);
    expect(rb.text).not.toContain(a.sub);
  });

  test("no key, key hash or JWT in any entry; a long User-Agent is cut to 512 characters", async () => {
    const o = await newOwner("secret");
    const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: { ...o.headers, "user-agent": "x".repeat(600) } });
    const apiKey = (g.body as { data: { apiKey: string } }).data.apiKey;
    const re = await env.a.regenerate(o);
    const apiKey2 = (re.body as { data: { apiKey: string } }).data.apiKey;
    const r = await audit(o);
    const hashes = (await env.sql<{ h: string }[]>`select encode(key_hash, 'hex') as h from keys.api_keys where owner_id = ${o.sub}`).map((x) => x.h);
    expect(hashes).toHaveLength(2);
    for (const s of [apiKey, apiKey2, o.jwt, ...hashes]) expect(r.text).not.toContain(s);
    const entries = (r.body as { data: Entry[] }).data;
    expect(entries[1]!.userAgent).toBe("x".repeat(512));
  });

  test("reads count against READ_RATE_LIMIT_PER_MINUTE (429 once spent), shared with GET /", async () => {
    const limited = await env.start({ READ_RATE_LIMIT_PER_MINUTE: "3" });
    const o = await newOwner("rl");
    expect((await limited.call("GET", "/api/v1/keys/audit", { headers: o.headers })).status).toBe(200);
    expect((await limited.call("GET", "/api/v1/keys/audit", { headers: o.headers })).status).toBe(200);
    expect((await limited.call("GET", "/api/v1/keys/", { headers: o.headers })).status).toBe(404);
    const r = await limited.call("GET", "/api/v1/keys/audit", { headers: o.headers });
    expect(r.status).toBe(429);
    expect(isEnvelope(r.body)).toBe(true);
  });
});
