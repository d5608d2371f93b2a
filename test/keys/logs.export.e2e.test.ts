/**
 * GET /api/v1/keys/logs/export end to end (keys edge → NATS → real usage
 * service → Postgres), where the usage service encodes the rows itself
 * (usage.logs.query with `as`): the bodies are byte for byte what the edge
 * makes of the same rows as /logs shows them, for text that needs quoting
 * and escaping; an `as` page chain on the bus gives the same bytes; a bad
 * `as` is refused and a request without it is answered as before.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exportLine, exportPreamble, subjects, type LogEntry, type UsageEvent } from "@riskinmind/contracts";
import { event, issueKey, newOwner, type Owner, req, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

let stack: TrioStack;
let owner: Owner;
const N = 40;
// Endpoints are printable ASCII (the event schema): quotes, commas, backslashes and a query string all survive as text.
const ENDPOINTS = ["/api/v1/loans/predict", '/a,"b"', "/x\\y", "/q?x=1&y='2'", "/+1"];
const DURATIONS = [12.5, 0.1, 0, 86_400_000, 1e-7, 3.0000000000000004, undefined];

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Every row of the owner as /logs shows them, newest first. */
let shown: LogEntry[] = [];

beforeAll(async () => {
  stack = await trioStack({ withUsage: true });
  owner = await newOwner("export");
  const { keyId } = await issueKey(stack.keys, owner);
  const base = Date.now() - 3600_000;
  const events: UsageEvent[] = [];
  for (let i = 0; i < N; i++) {
    const e = event({ ownerId: owner.sub, keyId, endpoint: ENDPOINTS[i % ENDPOINTS.length]!, statusCode: 200 + (i % 4) * 100, timestamp: new Date(base + i * 1000).toISOString() });
    const d = DURATIONS[i % DURATIONS.length];
    if (d === undefined) delete (e as Partial<UsageEvent>).durationMs;
    else e.durationMs = d;
    events.push(e);
  }
  // A timestamp finer than a millisecond is stored as given and shown at millisecond precision on both paths.
  events[3]!.timestamp = new Date(base + 3000).toISOString().replace("Z", "").concat("789Z");
  const js = stack.nc.jetstream();
  await js.publish(subjects(stack.topo).usageEvents, encoder.encode(JSON.stringify(events)));
  await waitFor(async () => (await req(`${stack.keysUrl}/api/v1/keys/logs?limit=100`, { headers: owner.headers })).body?.meta?.total === N, 15_000, "every event stored");
  shown = (await req(`${stack.keysUrl}/api/v1/keys/logs?limit=100`, { headers: owner.headers })).body.data;
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe("bodies encoded by the usage service", () => {
  test("the rows are those /logs shows, with every duration and timestamp form", () => {
    expect(shown).toHaveLength(N);
    expect(new Set(shown.map((e) => e.durationMs))).toEqual(new Set([12.5, 0.1, 0, 86_400_000, 1e-7, 3.0000000000000004, null]));
  });

  for (const format of ["ndjson", "csv"] as const) {
    test(`${format}: byte for byte the edge's own encoding of the rows /logs shows`, async () => {
      const r = await fetch(`${stack.keysUrl}/api/v1/keys/logs/export?format=${format}`, { headers: owner.headers });
      expect(r.status).toBe(200);
      expect(await r.text()).toBe(exportPreamble(format) + shown.map((e) => exportLine(e, format)).join(""));
    });
  }
});

describe("usage.logs.query with `as`", () => {
  const ask = async (body: object) => {
    const m = await stack.nc.request(subjects(stack.topo).logsQuery, encoder.encode(JSON.stringify({ ownerId: owner.sub, page: 1, ...body })), { timeout: 5_000 });
    return m.data;
  };

  test("a chain of small pages by cursor gives the same bytes as the whole export; each page is a head line and its rows", async () => {
    let body = "";
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const data = await ask({ limit: 7, as: "csv", skipTotal: true, ...(cursor ? { cursor } : {}) });
      const lf = data.indexOf(10);
      const head = JSON.parse(decoder.decode(data.subarray(0, lf)));
      const rows = decoder.decode(data.subarray(lf + 1));
      expect(rows.split("\r\n").length - 1).toBe(Math.min(7, N - pages * 7));
      body += rows;
      pages++;
      if (head.nextCursor === null) break;
      expect(head).toEqual({ ok: true, nextCursor: expect.any(String) });
      cursor = head.nextCursor;
    }
    expect(pages).toBe(Math.ceil(N / 7));
    expect(body).toBe(shown.map((e) => exportLine(e, "csv")).join(""));
  });

  test("a bad `as` is a VALIDATION_ERROR reply; without `as` the JSON page is unchanged", async () => {
    for (const as of ["xml", "CSV", 1, null]) {
      const r = JSON.parse(decoder.decode(await ask({ limit: 5, as })));
      expect({ as, ok: r.ok, code: r.code }).toEqual({ as, ok: false, code: "VALIDATION_ERROR" });
    }
    const plain = JSON.parse(decoder.decode(await ask({ limit: 5 })));
    expect(plain).toEqual({ ok: true, data: shown.slice(0, 5), total: N, nextCursor: expect.any(String) });
  });
});
