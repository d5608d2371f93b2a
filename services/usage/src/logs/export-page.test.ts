import { describe, expect, test } from "bun:test";
import { exportLine, type ExportFormat } from "@riskinmind/contracts";
import { exportPageEncoder } from "./export-page";
import { entryOf, type LogRow } from "./query";

const decoder = new TextDecoder();

function rowsOf(n: number, over: Partial<LogRow> = {}): LogRow[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: String(1000 - i),
    endpoint: `/api/v1/${i}`,
    method: "POST",
    status_code: 200,
    ts: Date.UTC(2026, 0, 1, 0, 0, i, 7),
    key_id: "key_abc",
    duration_ms: i % 2 ? null : i + 0.25,
    ...over,
  }));
}

/** The head as JSON and the rows' text after it. */
function split(reply: Uint8Array): { head: unknown; body: string } {
  const lf = reply.indexOf(10);
  return { head: JSON.parse(decoder.decode(reply.subarray(0, lf))), body: decoder.decode(reply.subarray(lf + 1)) };
}

const cursorAfter = (seq: number) => `after-${seq}`;

describe("export pages", () => {
  for (const format of ["ndjson", "csv"] as ExportFormat[]) {
    test(`${format}: the head line, then exactly the edge's encoding of each row; the cursor after the last row when more follow`, () => {
      const encode = exportPageEncoder(64 * 1024);
      const rows = rowsOf(6, { endpoint: '/a,"b"\\c' });
      // limit 5 and a sixth row read: more follow.
      const { head, body } = split(encode(rows, 5, format, cursorAfter));
      expect(head).toEqual({ ok: true, nextCursor: "after-996" });
      expect(body).toBe(
        rows
          .slice(0, 5)
          .map((r) => exportLine(entryOf(r), format))
          .join(""),
      );
    });
  }

  test("the last page (no row past the limit) has a null cursor; an empty one is the head alone", () => {
    const encode = exportPageEncoder(64 * 1024);
    expect(split(encode(rowsOf(3), 5, "ndjson", cursorAfter)).head).toEqual({ ok: true, nextCursor: null });
    const empty = encode([], 5, "csv", cursorAfter);
    expect(decoder.decode(empty)).toBe('{"ok":true,"nextCursor":null}\n');
  });

  test("rows are cut at the byte budget, whole rows only, and the page continues after the last row it holds", () => {
    const rows = rowsOf(50);
    const line = (i: number) => exportLine(entryOf(rows[i]!), "ndjson");
    // Room for exactly three rows and part of a fourth.
    const budget = line(0).length + line(1).length + line(2).length + 10;
    const { head, body } = split(exportPageEncoder(budget)(rows, 50, "ndjson", cursorAfter));
    expect(body).toBe(line(0) + line(1) + line(2));
    expect(head).toEqual({ ok: true, nextCursor: `after-${rows[2]!.seq}` });
  });

  test("non-ASCII text is counted in bytes, not characters", () => {
    const rows = rowsOf(2, { key_id: "key_é€😀" });
    const bytes = new TextEncoder().encode(exportLine(entryOf(rows[0]!), "csv")).byteLength;
    const { head, body } = split(exportPageEncoder(bytes + 5)(rows, 2, "csv", cursorAfter));
    expect(body).toBe(exportLine(entryOf(rows[0]!), "csv"));
    expect(head).toEqual({ ok: true, nextCursor: "after-1000" });
  });

  test("a buffer reused across pages carries nothing from one page into the next", () => {
    const encode = exportPageEncoder(64 * 1024);
    const long = rowsOf(20, { endpoint: `/${"x".repeat(500)}` });
    encode(long, 20, "ndjson", cursorAfter);
    const short = rowsOf(2);
    expect(split(encode(short, 2, "ndjson", cursorAfter)).body).toBe(short.map((r) => exportLine(entryOf(r), "ndjson")).join(""));
  });

  test("a row larger than a whole reply is an error, never a page that does not advance", () => {
    expect(() => exportPageEncoder(100)(rowsOf(2), 2, "ndjson", cursorAfter)).toThrow();
  });
});
