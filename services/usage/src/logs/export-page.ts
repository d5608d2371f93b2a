import { exportLine, type ExportFormat } from "@riskinmind/contracts";
import { entryOf, type LogRow } from "./query";

const encoder = new TextEncoder();

/**
 * Encodes export pages (usage.logs.query with `as`): a LogsExportHead line,
 * then the rows in the export's own format, cut at `maxRowBytes` of encoded
 * rows (exact bytes, so a page of short rows is not cut early as the /logs
 * page's estimate would). The rows are written into one buffer kept for the
 * endpoint's life: a page is encoded synchronously, so pages never share it,
 * and each reply costs one allocation of its exact size.
 */
export function exportPageEncoder(maxRowBytes: number) {
  const scratch = new Uint8Array(maxRowBytes);
  /** `rows` as read (limit + 1 at most); `cursorAfter` names the position after a row's seq. */
  return (rows: LogRow[], limit: number, format: ExportFormat, cursorAfter: (seq: number) => string): Uint8Array => {
    let used = 0;
    let n = 0;
    for (; n < rows.length && n < limit; n++) {
      const line = exportLine(entryOf(rows[n]!), format);
      const r = encoder.encodeInto(line, scratch.subarray(used));
      // A row that does not fit whole starts the next page (what it wrote is overwritten or dropped).
      if (r.read < line.length) break;
      used += r.written;
    }
    // Cannot happen under the event schema (an endpoint is at most 2,048 characters); never answer a page that does not advance.
    if (n === 0 && rows.length > 0) throw new Error("an export row is larger than a whole reply");
    const more = n < rows.length;
    const head = encoder.encode(`${JSON.stringify({ ok: true, nextCursor: more ? cursorAfter(Number(rows[n - 1]!.seq)) : null })}\n`);
    const out = new Uint8Array(head.byteLength + used);
    out.set(head);
    out.set(scratch.subarray(0, used), head.byteLength);
    return out;
  };
}
