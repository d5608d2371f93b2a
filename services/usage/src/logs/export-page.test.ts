/**
 * Export pages: Postgres packs each row (PACKED_EXPORT_ROW, run here on
 * literal values, no table) and the encoder writes it out; every line must be
 * byte for byte what exportLine gives for the row's /logs entry, the one
 * encoding the edge also uses. The rows are chosen to take every slow path:
 * escapes, CSV quoting and formula guards, non-ASCII text, null, negative,
 * fractional and exponent durations, microseconds, day and year boundaries.
 */
import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { exportLine, type ExportFormat } from "@riskinmind/contracts";
import { exportPageEncoder, PACKED_EXPORT_ROW, type PackedRow } from "./export-page";
import { entryOf, type LogRow } from "./query";

const decoder = new TextDecoder();
const sql = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
afterAll(() => sql.end());

/** A row as a test states it: the stored values, ts as Postgres text (microseconds kept). */
interface Stored {
  seq: number;
  endpoint: string;
  method: string;
  status: number;
  ts: string;
  keyId: string;
  durationMs: number | null;
}

function stored(n: number, over: Partial<Stored> = {}): Stored[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: 1000 - i,
    endpoint: `/api/v1/${i}`,
    method: "POST",
    status: 200,
    ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i, 7)).toISOString(),
    keyId: "key_abc",
    durationMs: i % 2 ? null : i + 0.25,
    ...over,
  }));
}

/** The rows packed by Postgres, in order. */
async function packed(rows: Stored[]): Promise<PackedRow[]> {
  const out: PackedRow[] = [];
  for (const r of rows) {
    const [row] = await sql
      .unsafe(
        `select ${PACKED_EXPORT_ROW} from (select $1::int8 as seq, $2::text as endpoint, $3::text as method, $4::int4 as status_code, $5::timestamptz as ts, $6::text as key_id, $7::float8 as duration_ms) t`,
        [r.seq, r.endpoint, r.method, r.status, r.ts, r.keyId, r.durationMs] as never[],
      )
      .raw();
    out.push(row as unknown as PackedRow);
  }
  return out;
}

/** The /logs entry of a stored row, as query.ts reads it (ms since the epoch, microseconds truncated). */
async function entryRow(r: Stored): Promise<LogRow> {
  const [got] = await sql<{ ms: number }[]>`select (extract(epoch from ${r.ts}::timestamptz) * 1000)::float8 as ms`;
  return { seq: String(r.seq), endpoint: r.endpoint, method: r.method, status_code: r.status, ts: got!.ms, key_id: r.keyId, duration_ms: r.durationMs };
}

async function expectedLines(rows: Stored[], format: ExportFormat): Promise<string[]> {
  const out: string[] = [];
  for (const r of rows) out.push(exportLine(entryOf(await entryRow(r)), format));
  return out;
}

/** The head as JSON and the rows' text after it. */
function split(reply: Uint8Array): { head: unknown; body: string } {
  const lf = reply.indexOf(10);
  return { head: JSON.parse(decoder.decode(reply.subarray(0, lf))), body: decoder.decode(reply.subarray(lf + 1)) };
}

const cursorAfter = (seq: number) => `after-${seq}`;

const tricky: Partial<Stored>[] = [
  { endpoint: '/a,"b"\\c' },
  { endpoint: "/=cmd", keyId: "+key", method: "@GET" },
  { endpoint: "/tab\there", keyId: "-key", method: "line\nbreak" },
  { endpoint: "/é€😀", keyId: "key_\u2028\u0001" },
  { endpoint: "/cr\rx", method: "" },
  { status: -1 },
  { status: 599, durationMs: -0 },
  { durationMs: -3.5 },
  { durationMs: 1e-7 },
  { durationMs: 0.000123 },
  { durationMs: 1e21 },
  { durationMs: 123456789012345680000 },
  { durationMs: 0.1 + 0.2 },
  { durationMs: Number.NaN },
  { durationMs: Number.POSITIVE_INFINITY },
  { durationMs: Number.NEGATIVE_INFINITY },
  { durationMs: 0 },
  { ts: "2026-03-01 23:59:59.999999+00" },
  { ts: "2026-03-02 00:00:00+00" },
  { ts: "2026-03-02 00:00:00.000999+00" },
  { ts: "2026-03-02 00:00:00.1+00" },
  { ts: "2026-03-02 05:06:07.123456+02" },
  { ts: "1999-12-31 23:59:59.5+00" },
  { ts: "1970-01-01 00:00:00+00" },
  { ts: "2100-02-28 12:34:56.789+00" },
  { ts: "9999-12-31 23:59:59.999+00" },
];

describe("export pages", () => {
  for (const format of ["ndjson", "csv"] as ExportFormat[]) {
    test(`${format}: the head line, then exactly exportLine of each row's entry, tricky values included; the cursor after the last row when more follow`, async () => {
      const rows = tricky.map((over, i) => ({ ...stored(1)[0]!, seq: 500 - i, ...over }));
      const reply = exportPageEncoder(64 * 1024)(await packed(rows), rows.length - 1, format, cursorAfter);
      const { head, body } = split(reply);
      expect(head).toEqual({ ok: true, nextCursor: `after-${rows[rows.length - 2]!.seq}` });
      const want = await expectedLines(rows.slice(0, -1), format);
      const got = body.split(format === "csv" ? /(?<=\r\n)/ : /(?<=\n)/);
      // Line by line first, so a mismatch names the row.
      for (let i = 0; i < want.length; i++) expect({ i, line: got[i] }).toEqual({ i, line: want[i] });
      expect(body).toBe(want.join(""));
    });
  }

  test("the last page (no row past the limit) has a null cursor; an empty one is the head alone", async () => {
    const encode = exportPageEncoder(64 * 1024);
    expect(split(encode(await packed(stored(3)), 5, "ndjson", cursorAfter)).head).toEqual({ ok: true, nextCursor: null });
    const empty = encode([], 5, "csv", cursorAfter);
    expect(decoder.decode(empty)).toBe('{"ok":true,"nextCursor":null}\n');
  });

  test("rows are cut at the byte budget, whole rows only, and the page continues after the last row it holds", async () => {
    const rows = stored(50);
    const lines = await expectedLines(rows, "ndjson");
    // Room for exactly three rows and part of a fourth.
    const budget = lines[0]!.length + lines[1]!.length + lines[2]!.length + 10;
    const { head, body } = split(exportPageEncoder(budget)(await packed(rows), 50, "ndjson", cursorAfter));
    expect(body).toBe(lines[0]! + lines[1]! + lines[2]!);
    expect(head).toEqual({ ok: true, nextCursor: `after-${rows[2]!.seq}` });
  });

  test("non-ASCII text is counted in bytes, not characters", async () => {
    const rows = stored(2, { keyId: "key_é€😀" });
    const [line] = await expectedLines(rows, "csv");
    const bytes = new TextEncoder().encode(line!).byteLength;
    const { head, body } = split(exportPageEncoder(bytes + 5)(await packed(rows), 2, "csv", cursorAfter));
    expect(body).toBe(line!);
    expect(head).toEqual({ ok: true, nextCursor: "after-1000" });
  });

  test("a buffer reused across pages carries nothing from one page into the next", async () => {
    const encode = exportPageEncoder(64 * 1024);
    encode(await packed(stored(20, { endpoint: `/${"x".repeat(500)}` })), 20, "ndjson", cursorAfter);
    const short = stored(2);
    expect(split(encode(await packed(short), 2, "ndjson", cursorAfter)).body).toBe((await expectedLines(short, "ndjson")).join(""));
  });

  test("a row longer than the buffer's spare room still encodes (the buffer grows for it)", async () => {
    const rows = stored(1, { endpoint: `/${'"'.repeat(2047)}` });
    const { body } = split(exportPageEncoder(64 * 1024)(await packed(rows), 1, "ndjson", cursorAfter));
    expect(body).toBe((await expectedLines(rows, "ndjson")).join(""));
  });

  test("a row larger than a whole reply is an error, never a page that does not advance", async () => {
    const rows = await packed(stored(2));
    expect(() => exportPageEncoder(100)(rows, 2, "ndjson", cursorAfter)).toThrow();
  });
});
