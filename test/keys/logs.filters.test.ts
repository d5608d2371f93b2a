/**
 * GET /api/v1/keys/logs with filters and cursors, end to end (keys edge →
 * NATS → real usage service → Postgres) against a known set of events:
 * each filter alone and combined gives exactly the matching rows newest first
 * with their exact total; a cursor walk visits every matching row once while
 * newer events keep arriving; a cursor is bound to its filters; every bad
 * value is a 400 naming the parameter and never reaches the usage service.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { subjects, type LogEntry, type UsageEvent } from "@riskinmind/contracts";
import { event, issueKey, newOwner, type Owner, req, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

let stack: TrioStack;
let owner: Owner;
let keyA: string;
let keyB: string;
/** The known events, oldest first (i = arrival order = seq order). */
const events: UsageEvent[] = [];
const N = 60;
const base = Date.now() - 3 * 3600_000;
const STATUSES = [200, 201, 404, 429, 500, 503];
const METHODS = ["GET", "POST", "DELETE", "PUT", "POST"] as const;
const ENDPOINTS = ["/api/v1/loans/predict", "/api/v1/loans/list", "/api/v2/other", "/api/v1/loansx"];

const logs = (query: string, o: Owner = owner) => req(`${stack.keysUrl}/api/v1/keys/logs${query ? `?${query}` : ""}`, { headers: o.headers });
const entryOf = (e: UsageEvent): LogEntry => ({ endpoint: e.endpoint, method: e.method, statusCode: e.statusCode, timestamp: new Date(e.timestamp).toISOString(), keyId: e.keyId, durationMs: 12.5 });
/** The known events matching `pred`, newest first, as /logs shows them. */
const expected = (pred: (e: UsageEvent, i: number) => boolean) => events.filter(pred).reverse().map(entryOf);

async function publish(batch: UsageEvent[]): Promise<void> {
  const js = stack.nc.jetstream();
  await js.publish(subjects(stack.topo).usageEvents, new TextEncoder().encode(JSON.stringify(batch)));
}

async function totalOf(query: string): Promise<number | undefined> {
  return (await logs(query)).body?.meta?.total;
}

beforeAll(async () => {
  stack = await trioStack({ withUsage: true });
  owner = await newOwner("filters");
  keyA = (await issueKey(stack.keys, owner)).keyId;
  // A rotation: the owner's calls are now under two key ids.
  const r = await stack.keys.regenerate(owner);
  if (!r.body.success) throw new Error(`regenerate failed: ${r.text}`);
  keyB = r.body.data.keyId;
  for (let i = 0; i < N; i++) {
    events.push(
      event({
        ownerId: owner.sub,
        keyId: i < N / 2 ? keyA : keyB,
        statusCode: STATUSES[i % STATUSES.length]!,
        method: METHODS[i % METHODS.length]!,
        endpoint: ENDPOINTS[i % ENDPOINTS.length]!,
        timestamp: new Date(base + i * 60_000).toISOString(),
      }),
    );
  }
  // One message at a time, acknowledged before the next: arrival order is the seq order.
  for (let i = 0; i < N; i += 10) await publish(events.slice(i, i + 10));
  await waitFor(async () => (await totalOf("")) === N, 15_000, "every known event stored");
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const at = (i: number) => new Date(base + i * 60_000).toISOString();

describe("each filter alone and combined: exactly the matching rows, newest first, exact total", () => {
  const cases: [string, (e: UsageEvent, i: number) => boolean][] = [
    ["status=429", (e) => e.statusCode === 429],
    ["status=5xx", (e) => e.statusCode >= 500],
    ["status=429,5xx", (e) => e.statusCode === 429 || e.statusCode >= 500],
    ["status=2xx,404", (e) => e.statusCode < 300 || e.statusCode === 404],
    ["status=302", () => false],
    ["method=POST", (e) => e.method === "POST"],
    ["method=GET,DELETE", (e) => e.method === "GET" || e.method === "DELETE"],
    ["endpoint=/api/v1/loans/predict", (e) => e.endpoint === "/api/v1/loans/predict"],
    // A prefix is a prefix of the path: /api/v1/loansx matches /api/v1/loans*, not /api/v1/loans/*.
    [`endpoint=${encodeURIComponent("/api/v1/loans/*")}`, (e) => e.endpoint.startsWith("/api/v1/loans/")],
    [`endpoint=${encodeURIComponent("/api/v1/loans*")}`, (e) => e.endpoint.startsWith("/api/v1/loans")],
    [`endpoint=${encodeURIComponent("/*")}`, () => true],
    ["endpoint=/api/v1/loans", () => false],
    ["keyId=KEYA", (e) => e.keyId === keyA],
    [`from=${at(50)}`, (_e, i) => i >= 50],
    [`to=${at(10)}`, (_e, i) => i < 10],
    [`from=${at(20)}&to=${at(31)}`, (_e, i) => i >= 20 && i < 31],
    ["status=5xx&method=POST", (e) => e.statusCode >= 500 && e.method === "POST"],
    [`status=4xx&endpoint=${encodeURIComponent("/api/v1/*")}&keyId=KEYB`, (e) => e.statusCode >= 400 && e.statusCode < 500 && e.endpoint.startsWith("/api/v1/") && e.keyId === keyB],
    [`status=5xx&method=POST&endpoint=${encodeURIComponent("/api/*")}&from=${at(10)}&to=${at(55)}`, (e, i) => e.statusCode >= 500 && e.method === "POST" && i >= 10 && i < 55],
  ];
  for (const [query, pred] of cases) {
    test(query, async () => {
      const q = query.replace("KEYA", keyA).replace("KEYB", keyB);
      const r = await logs(`${q}&limit=100`);
      expect(r.status).toBe(200);
      const want = expected(pred);
      expect(r.body).toEqual({ success: true, data: want, meta: { total: want.length, page: 1, limit: 100, nextCursor: null } });
    });
  }

  test("the sets are not trivial: most filters select some rows and leave others out", () => {
    expect(expected((e) => e.statusCode >= 500).length).toBe(20);
    expect(expected((e) => e.statusCode >= 500 && e.method === "POST").length).toBeGreaterThan(0);
  });

  test("unfiltered: the counter total and a cursor to the older rows", async () => {
    const r = await logs("limit=50");
    expect(r.body.meta).toMatchObject({ total: N, page: 1, limit: 50 });
    expect(typeof r.body.meta.nextCursor).toBe("string");
    const rest = await logs(`limit=50&cursor=${r.body.meta.nextCursor}`);
    expect(rest.body.data).toEqual(expected((_e, i) => i < 10));
    expect(rest.body.meta).toEqual({ total: N, page: null, limit: 50, nextCursor: null });
  });

  test("another owner's filtered log is its own (empty), whatever the filter", async () => {
    const other = await newOwner("filters_other");
    const r = await logs("status=5xx&method=POST", other);
    expect(r.body).toEqual({ success: true, data: [], meta: { total: 0, page: 1, limit: 10, nextCursor: null } });
  });

  test("mode=test filters the owner's test log, which is empty here", async () => {
    const r = await logs("mode=test&status=5xx");
    expect(r.body).toEqual({ success: true, data: [], meta: { total: 0, page: 1, limit: 10, nextCursor: null } });
  });
});

describe("paging a filtered log", () => {
  test("by page number: every page of the filtered set, each with the filtered total", async () => {
    const want = expected((e) => e.method === "POST");
    const seen: LogEntry[] = [];
    for (let page = 1; page <= 5; page++) {
      const r = await logs(`method=POST&limit=7&page=${page}`);
      expect(r.body.meta.total).toBe(want.length);
      expect(r.body.meta.page).toBe(page);
      expect(r.body.meta.nextCursor === null).toBe(page * 7 >= want.length);
      seen.push(...r.body.data);
    }
    expect(seen).toEqual(want);
  });

  test("a page-1 answer's nextCursor continues where page 1 ended", async () => {
    const p1 = await logs("status=5xx&limit=5");
    const next = await logs(`status=5xx&limit=5&cursor=${p1.body.meta.nextCursor}`);
    const p2 = await logs("status=5xx&limit=5&page=2");
    expect(next.body.data).toEqual(p2.body.data);
    expect(next.body.meta.page).toBeNull();
  });

  test("a cursor walk visits every matching row exactly once while newer events arrive between pages", async () => {
    const want = expected((e) => e.statusCode >= 500);
    const seen: LogEntry[] = [];
    let cursor: string | null = null;
    let added = 0;
    for (let pages = 0; pages < 20; pages++) {
      const r = await logs(`status=5xx&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.data);
      cursor = r.body.meta.nextCursor;
      if (cursor === null) break;
      // A newer matching event (and a non-matching one) lands before the next page is asked for.
      const fresh = [
        event({ ownerId: owner.sub, keyId: keyB, statusCode: 500, timestamp: new Date().toISOString(), endpoint: "/fresh" }),
        event({ ownerId: owner.sub, keyId: keyB, statusCode: 200, timestamp: new Date().toISOString(), endpoint: "/fresh" }),
      ];
      await publish(fresh);
      added++;
      await waitFor(async () => (await totalOf("status=5xx")) === want.length + added, 15_000, "the fresh event stored");
    }
    expect(cursor).toBeNull();
    expect(added).toBeGreaterThan(1);
    expect(seen).toEqual(want);
    // The fresh rows are there for a walk that starts now.
    const now = await logs("status=5xx&limit=100");
    expect(now.body.meta.total).toBe(want.length + added);
    expect(now.body.data.slice(0, added).every((d: LogEntry) => d.endpoint === "/fresh")).toBe(true);
  });
});

describe("a cursor is bound to its filters and mode", () => {
  test("reused with other filters, another mode, or with page → 400 naming 'cursor'", async () => {
    const r = await logs("status=5xx&limit=2");
    const c = r.body.meta.nextCursor as string;
    expect(typeof c).toBe("string");
    for (const q of [`cursor=${c}`, `status=4xx&cursor=${c}`, `status=5xx&method=GET&cursor=${c}`, `status=5xx&mode=test&cursor=${c}`, `status=5xx&page=2&cursor=${c}`]) {
      const bad = await logs(q);
      expect({ q, status: bad.status, code: bad.body.error?.code }).toEqual({ q, status: 400, code: "VALIDATION_ERROR" });
      expect(bad.body.error.message).toContain("'cursor'");
    }
    // The same filters spelled differently are the same filter.
    expect((await logs(`status=5xx,5xx&limit=2&cursor=${c}`)).status).toBe(200);
  });
});

describe("bad values → 400 VALIDATION_ERROR naming the parameter; the usage service is never asked", () => {
  const bad: [string, string][] = [
    ["status=600", "status"],
    ["status=6xx", "status"],
    ["status=5XX", "status"],
    ["status=", "status"],
    ["status=429,", "status"],
    ["status=abc", "status"],
    ["method=post", "method"],
    ["method=FETCH", "method"],
    ["method=GET,,POST", "method"],
    ["endpoint=api/v1", "endpoint"],
    ["endpoint=", "endpoint"],
    ["endpoint=%2Fa%20b", "endpoint"],
    ["endpoint=*", "endpoint"],
    ["keyId=", "keyId"],
    ["keyId=a%20b", "keyId"],
    ["from=yesterday", "from"],
    ["from=2026-01-01", "from"],
    ["to=2026-01-01T00:00:00", "to"],
    ["to=2026-02-30T00:00:00Z", "to"],
    ["from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from"],
    ["from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"],
    ["cursor=not-a-cursor", "cursor"],
    ["cursor=%21%21", "cursor"],
    [`cursor=${Buffer.from("1.5.0123456789abcdef").toString("base64url")}`, "cursor"],
    [`cursor=${"A".repeat(201)}`, "cursor"],
    [`keyId=${"k".repeat(65)}`, "keyId"],
  ];

  test("each is refused with its parameter named, and nothing goes on the bus", async () => {
    let asked = 0;
    const spy = stack.nc.subscribe(subjects(stack.topo).logsQuery, { callback: () => void asked++ });
    await stack.nc.flush();
    try {
      for (const [q, param] of bad) {
        const r = await logs(q);
        expect({ q, status: r.status, code: r.body.error?.code }).toEqual({ q, status: 400, code: "VALIDATION_ERROR" });
        expect({ q, message: r.body.error.message.includes(param) }).toEqual({ q, message: true });
      }
      // A good request after them: the spy sees it, and only it (the bus keeps one publisher's order).
      expect((await logs("status=5xx")).status).toBe(200);
      await waitFor(() => asked >= 1, 5_000, "the good request seen");
      await stack.nc.flush();
      expect(asked).toBe(1);
    } finally {
      spy.unsubscribe();
    }
  });

  test("the usage service checks again: a bad filter or cursor on the bus is a VALIDATION_ERROR reply", async () => {
    const ask = async (body: object) => {
      const m = await stack.nc.request(subjects(stack.topo).logsQuery, new TextEncoder().encode(JSON.stringify({ ownerId: owner.sub, page: 1, limit: 10, ...body })), { timeout: 5_000 });
      return JSON.parse(new TextDecoder().decode(m.data));
    };
    for (const body of [{ status: "6xx" }, { method: "get" }, { endpoint: "x" }, { from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" }, { cursor: "zz" }, { status: 5 }, { limit: 5001 }]) {
      const r = await ask(body);
      expect({ body, ok: r.ok, code: r.code }).toEqual({ body, ok: false, code: "VALIDATION_ERROR" });
    }
    // The export's page size is allowed on the bus (HTTP stays 1..100).
    const big = await ask({ limit: 5000, status: "5xx" });
    expect(big.ok).toBe(true);
    expect((await logs("limit=101")).status).toBe(400);
  });
});

describe("export end to end", () => {
  test("every matching row, newest first, the same rows /logs shows for the filter", async () => {
    const q = `status=4xx&endpoint=${encodeURIComponent("/api/v1/*")}&keyId=${keyA}`;
    const r = await fetch(`${stack.keysUrl}/api/v1/keys/logs/export?format=ndjson&${q}`, { headers: owner.headers });
    expect(r.status).toBe(200);
    const rows = (await r.text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    const want = expected((e) => e.statusCode >= 400 && e.statusCode < 500 && e.endpoint.startsWith("/api/v1/") && e.keyId === keyA);
    expect(want.length).toBeGreaterThan(1);
    expect(rows).toEqual(want);
    expect((await logs(`${q}&limit=100`)).body.data).toEqual(want);
    const csv = await (await fetch(`${stack.keysUrl}/api/v1/keys/logs/export?format=csv&${q}`, { headers: owner.headers })).text();
    expect(csv.split("\r\n")).toHaveLength(want.length + 2);
  });
});
