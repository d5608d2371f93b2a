/**
 * GET /api/v1/keys/logs/export against a stand-in usage responder (so the
 * rows can be anything a cell must survive): exact CSV and NDJSON bodies
 * (RFC 4180 quoting, formula cells made inert), a large export streamed page
 * by page with flat memory, a mid-stream failure ending the body early, and
 * the same auth and limits as /logs; rows both as today's usage service sends
 * them (encoded, `as`) and as an older one does (JSON pages). The real end to
 * end is in logs.export.e2e.test.ts and logs.filters.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { csvCell, exportLine, QUEUE, subjects, type LogEntry, type LogsQueryReply, type LogsQueryRequest } from "@riskinmind/contracts";
import { fakeLogsResponder, isEnvelope, newOwner, token, useKeysStack, waitFor } from "@riskinmind/testkit";
import { EXPORT_PAGE_ROWS } from "../../services/keys/src/logs/export";

const env = useKeysStack({ LOGS_TIMEOUT_MS: "2000" });

const row = (over: Partial<LogEntry> = {}): LogEntry => ({
  endpoint: "/api/v1/loans/predict",
  method: "POST",
  statusCode: 200,
  timestamp: "2026-01-01T12:00:00.000Z",
  keyId: "key_abc",
  durationMs: 3.5,
  ...over,
});

const SMALL: LogEntry[] = [
  row(),
  row({ endpoint: '/a,"b"', method: "GET", statusCode: 503, durationMs: null }),
  row({ keyId: '=HYPERLINK("http://x")', statusCode: 429 }),
  row({ keyId: "+1", endpoint: "/x" }),
  row({ keyId: "-2" }),
  row({ keyId: "@SUM(A1)" }),
];

/** A stand-in that serves `pages` in order by its own cursors ("p1", "p2", ...) as JSON pages: what a usage service that predates `as` answers. */
function pagedReply(pages: LogEntry[][]) {
  return (q: LogsQueryRequest): LogsQueryReply => {
    const i = q.cursor === undefined ? 0 : Number(q.cursor.slice(1));
    return { ok: true, data: pages[i] ?? [], total: -1, nextCursor: i + 1 < pages.length ? `p${i + 1}` : null };
  };
}

/** The same pages as today's usage service answers a request with `as`: a head line, then the rows already encoded. */
function encodedReply(pages: LogEntry[][]) {
  return (q: LogsQueryRequest): string => {
    const i = q.cursor === undefined ? 0 : Number(q.cursor.slice(1));
    const head = JSON.stringify({ ok: true, nextCursor: i + 1 < pages.length ? `p${i + 1}` : null });
    return `${head}\n${(pages[i] ?? []).map((e) => exportLine(e, q.as!)).join("")}`;
  };
}

const USAGE_SERVICES = [
  ["encoded by the usage service", encodedReply],
  ["from a usage service that predates `as` (JSON pages, encoded by the edge)", pagedReply],
] as const;

const exportUrl = (query: string) => `${env.a.url}/api/v1/keys/logs/export?${query}`;

describe.each(USAGE_SERVICES)("bodies, rows %s", (_, reply) => {
  test("CSV: a header line, RFC 4180 quoting, formula cells prefixed with a quote, CRLF lines; pages joined in order", async () => {
    const o = await newOwner();
    const u = await fakeLogsResponder(env.nc, env.topo, reply([SMALL.slice(0, 2), SMALL.slice(2)]));
    try {
      const r = await fetch(exportUrl("format=csv"), { headers: o.headers });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toStartWith("text/csv");
      expect(r.headers.get("content-disposition")).toBe('attachment; filename="usage-live.csv"');
      expect(r.headers.get("x-request-id")).toBeTruthy();
      expect(r.headers.get("cache-control")).toBe("no-store");
      expect(await r.text()).toBe(
        [
          "endpoint,method,statusCode,timestamp,keyId,durationMs",
          "/api/v1/loans/predict,POST,200,2026-01-01T12:00:00.000Z,key_abc,3.5",
          '"/a,""b""",GET,503,2026-01-01T12:00:00.000Z,key_abc,',
          `/api/v1/loans/predict,POST,429,2026-01-01T12:00:00.000Z,"'=HYPERLINK(""http://x"")",3.5`,
          "/x,POST,200,2026-01-01T12:00:00.000Z,'+1,3.5",
          "/api/v1/loans/predict,POST,200,2026-01-01T12:00:00.000Z,'-2,3.5",
          "/api/v1/loans/predict,POST,200,2026-01-01T12:00:00.000Z,'@SUM(A1),3.5",
          "",
        ].join("\r\n"),
      );
      // The edge asked page by page, the export's page size, with the JWT's owner, no count, the rows encoded, and then by cursor.
      expect(u.seen).toEqual([
        { ownerId: o.sub, page: 1, limit: EXPORT_PAGE_ROWS, mode: "live", skipTotal: true, as: "csv" },
        { ownerId: o.sub, page: 1, limit: EXPORT_PAGE_ROWS, mode: "live", cursor: "p1", skipTotal: true, as: "csv" },
      ]);
    } finally {
      u.stop();
    }
  });

  test("NDJSON: one JSON object a line, exactly the rows; the filters and mode reach the usage service in canonical form", async () => {
    const o = await newOwner();
    const u = await fakeLogsResponder(env.nc, env.topo, reply([SMALL]));
    try {
      const r = await fetch(exportUrl("format=ndjson&mode=test&status=5xx,429&method=POST&endpoint=/api/*&from=2026-01-01T00:00:00%2B01:00"), { headers: o.headers });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("application/x-ndjson");
      expect(r.headers.get("content-disposition")).toBe('attachment; filename="usage-test.ndjson"');
      const text = await r.text();
      expect(text.endsWith("\n")).toBe(true);
      expect(
        text
          .trimEnd()
          .split("\n")
          .map((l) => JSON.parse(l)),
      ).toEqual(SMALL);
      expect(u.seen).toEqual([
        { ownerId: o.sub, page: 1, limit: EXPORT_PAGE_ROWS, mode: "test", status: "429,5xx", method: "POST", endpoint: "/api/*", from: "2025-12-31T23:00:00.000Z", skipTotal: true, as: "ndjson" },
      ]);
    } finally {
      u.stop();
    }
  });

  test("an empty log is a header line (CSV) or an empty body (NDJSON)", async () => {
    const o = await newOwner();
    const u = await fakeLogsResponder(env.nc, env.topo, reply([[]]));
    try {
      expect(await (await fetch(exportUrl("format=csv"), { headers: o.headers })).text()).toBe("endpoint,method,statusCode,timestamp,keyId,durationMs\r\n");
      expect(await (await fetch(exportUrl("format=ndjson"), { headers: o.headers })).text()).toBe("");
    } finally {
      u.stop();
    }
  });
});

describe("cells", () => {
  test("csvCell: quoting and formula prefixes", () => {
    expect(csvCell(null)).toBe("");
    expect(csvCell(12)).toBe("12");
    expect(csvCell("a")).toBe("a");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("line\nbreak")).toBe('"line\nbreak"');
    for (const c of ["=", "+", "-", "@", "\t", "\r"]) expect(csvCell(`${c}1`).replaceAll('"', "")).toBe(`'${c}1`);
    expect(csvCell("=a,b")).toBe('"\'=a,b"');
  });
});

describe.each(USAGE_SERVICES)("streaming, rows %s", (_, reply) => {
  test("a large export is read page by page as the client consumes it, with flat memory", async () => {
    const o = await newOwner();
    const PAGES = 60;
    const PER_PAGE = 5000;
    // Pages are made on demand so the stand-in holds none of them.
    const u = await fakeLogsResponder(env.nc, env.topo, (q) => {
      const i = q.cursor === undefined ? 0 : Number(q.cursor.slice(1));
      const page = Array.from({ length: PER_PAGE }, (_, j) => row({ endpoint: `/p/${i}/${j}`, durationMs: j }));
      // The page asked for, as the i-th of PAGES pages.
      const pages: LogEntry[][] = Array.from({ length: PAGES }, () => []);
      pages[i] = page;
      return reply(pages)(q);
    });
    try {
      const r = await fetch(exportUrl("format=ndjson"), { headers: o.headers });
      expect(r.status).toBe(200);
      const reader = r.body!.getReader();
      // After the first chunk the stream is at most one page ahead: it asks for more only as the client reads.
      const first = await reader.read();
      expect(first.done).toBe(false);
      await env.nc.flush();
      expect(u.seen.length).toBeLessThanOrEqual(3);
      let bytes = first.value!.byteLength;
      let lines = 0;
      const count = (b: Uint8Array) => {
        for (const x of b) if (x === 10) lines++;
      };
      count(first.value!);
      // Live heap (after a full collection) early in the export and near its end, while the stream is still open.
      const heapNow = () => {
        Bun.gc(true);
        return process.memoryUsage().heapUsed;
      };
      let early = 0;
      let late = 0;
      let bytesBetween = 0;
      for (;;) {
        const c = await reader.read();
        if (c.done) break;
        bytes += c.value.byteLength;
        count(c.value);
        if (early === 0 && lines >= 10 * PER_PAGE) {
          early = heapNow();
          bytesBetween = -bytes;
        }
        if (late === 0 && lines >= (PAGES - 5) * PER_PAGE) {
          late = heapNow();
          bytesBetween += bytes;
        }
      }
      expect(lines).toBe(PAGES * PER_PAGE);
      expect(u.seen.length).toBe(PAGES);
      // Loose on purpose: 45 pages (~30 MB) went through between the two points; holding them would show, one page in flight does not.
      expect(bytesBetween).toBeGreaterThan(25_000_000);
      expect(late - early).toBeLessThan(bytesBetween / 4);
    } finally {
      u.stop();
    }
  }, 60_000);

  test("a usage failure mid-stream ends the body early: the client sees an incomplete response, never a clean end", async () => {
    const o = await newOwner();
    const u = await fakeLogsResponder(env.nc, env.topo, (q) =>
      q.cursor === undefined ? { ok: true, data: [row()], total: -1, nextCursor: "p1" } : { ok: false, code: "DATABASE_UNAVAILABLE", message: "down" },
    );
    try {
      const r = await fetch(exportUrl("format=csv"), { headers: o.headers });
      expect(r.status).toBe(200);
      await expect(r.text()).rejects.toBeDefined();
    } finally {
      u.stop();
    }
  });
});

describe("streaming", () => {
  test("an encoded page whose head breaks the contract: 503 before the first row, an early end after it", async () => {
    const o = await newOwner();
    for (const bad of ['{"ok":true}\n', '{"ok":false,"nextCursor":null}\n', "not json\n", '{"ok":true,"nextCursor":7}\n']) {
      const first = await fakeLogsResponder(env.nc, env.topo, () => bad);
      try {
        const r = await fetch(exportUrl("format=ndjson"), { headers: o.headers });
        expect({ bad, status: r.status }).toEqual({ bad, status: 503 });
        expect(isEnvelope(await r.json())).toBe(true);
      } finally {
        first.stop();
      }
      const later = await fakeLogsResponder(env.nc, env.topo, (q) => (q.cursor === undefined ? encodedReply([[row()], [row()]])(q) : bad));
      try {
        const r = await fetch(exportUrl("format=ndjson"), { headers: o.headers });
        expect(r.status).toBe(200);
        await expect(r.text()).rejects.toBeDefined();
      } finally {
        later.stop();
      }
    }
  });

  test("a failure before the first row is an ordinary error answer (the status line is not sent yet)", async () => {
    const o = await newOwner();
    const r = await fetch(exportUrl("format=csv"), { headers: o.headers });
    expect(r.status).toBe(503);
    expect(isEnvelope(await r.json())).toBe(true);
    const u = await fakeLogsResponder(env.nc, env.topo, () => ({ ok: false, code: "VALIDATION_ERROR", message: "Invalid query parameter 'status': no." }));
    try {
      const v = await fetch(exportUrl("format=csv"), { headers: o.headers });
      expect(v.status).toBe(400);
    } finally {
      u.stop();
    }
  });
});

describe("auth, validation and limits as /logs", () => {
  test("no valid JWT → 401 and the usage service is never asked", async () => {
    const u = await fakeLogsResponder(env.nc, env.topo, pagedReply([SMALL]));
    try {
      for (const headers of [{} as Record<string, string>, { authorization: "Bearer nope" }, { authorization: `Bearer ${await token("victim", { expSeconds: -60 })}` }]) {
        const r = await env.a.call("GET", "/api/v1/keys/logs/export?format=csv", { headers });
        expect(r.status).toBe(401);
        expect(isEnvelope(r.body)).toBe(true);
      }
      expect(u.seen).toEqual([]);
    } finally {
      u.stop();
    }
  });

  test("bad values → 400 VALIDATION_ERROR naming the parameter, the usage service never asked", async () => {
    const o = await newOwner();
    const u = await fakeLogsResponder(env.nc, env.topo, pagedReply([SMALL]));
    try {
      for (const [q, param] of [
        ["", "format"],
        ["format=xml", "format"],
        ["format=CSV", "format"],
        ["format=csv&status=6xx", "status"],
        ["format=csv&method=get", "method"],
        ["format=csv&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from"],
        ["format=csv&page=2", "page"],
        ["format=csv&limit=10", "limit"],
        ["format=csv&cursor=abc", "cursor"],
        ["format=csv&mode=prod", "mode"],
      ] as const) {
        const r = await env.a.call("GET", `/api/v1/keys/logs/export?${q}`, { headers: o.headers });
        expect({ q, status: r.status, code: r.body?.error?.code }).toEqual({ q, status: 400, code: "VALIDATION_ERROR" });
        expect({ q, named: r.body.error.message.includes(param) }).toEqual({ q, named: true });
      }
      expect(u.seen).toEqual([]);
    } finally {
      u.stop();
    }
  });

  test("an export holds one of the owner's in-flight /logs slots until it ends, and counts as a read", async () => {
    const one = await env.start({ LOGS_MAX_IN_FLIGHT_PER_OWNER: "1", READ_RATE_LIMIT_PER_MINUTE: "4" });
    const o = await newOwner();
    // Pages after the first wait until the test lets them go: the export stays open meanwhile.
    let letGo!: () => void;
    const gate = new Promise<void>((r) => (letGo = r));
    const pages = pagedReply([[row()], [row()], [row()]]);
    const sub = env.nc.subscribe(subjects(env.topo).logsQuery, {
      queue: QUEUE.usage,
      callback: (_e, m) => {
        const q = JSON.parse(new TextDecoder().decode(m.data)) as LogsQueryRequest;
        const answer = () => m.respond(new TextEncoder().encode(JSON.stringify(pages(q))));
        if (q.cursor === undefined) answer();
        else void gate.then(answer);
      },
    });
    await env.nc.flush();
    try {
      const open = await fetch(`${one.url}/api/v1/keys/logs/export?format=csv`, { headers: o.headers });
      expect(open.status).toBe(200);
      const reader = open.body!.getReader();
      await reader.read();
      // While the export is open, the owner's one slot is taken.
      const busy = await one.call("GET", "/api/v1/keys/logs", { headers: o.headers });
      expect(busy.status).toBe(429);
      expect(busy.body.error.code).toBe("RATE_LIMITED");
      letGo();
      while (!(await reader.read()).done) {}
      await waitFor(async () => (await one.call("GET", "/api/v1/keys/logs", { headers: o.headers })).status === 200, 5_000, "the slot released");
      // Four reads a minute: the export, the refused /logs, the /logs that succeeded. The next two: one read left, then 429.
      const reads: number[] = [];
      for (let i = 0; i < 2; i++) reads.push((await fetch(`${one.url}/api/v1/keys/logs/export?format=ndjson`, { headers: o.headers })).status);
      expect(reads.at(-1)).toBe(429);
    } finally {
      sub.unsubscribe();
    }
  });
});
