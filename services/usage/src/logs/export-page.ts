import { csvCell, type ExportFormat } from "@riskinmind/contracts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * An export row as Postgres hands it over: one text value (read raw, as
 * bytes) holding the columns an export line needs, packed as
 * `seq,status,epochSeconds,durationMs,len(keyId),len(method),keyId method endpoint`
 * (durationMs empty when unknown; the three texts back to back, split by the
 * byte lengths before them, so they may hold any character).
 *
 * Why packed: reading seven columns cost postgres.js a string per column and
 * the encoder a Date, an object and a JSON.stringify per row, and the garbage
 * kept the collector busy; that was most of the usage service's CPU in an
 * export. One value per row, written out byte by byte, allocates nothing per
 * row on the common path. Postgres pays less too: date_part gives float8
 * seconds where extract's numeric cost more than the rest of the row.
 * The seconds are exact: date_part divides the microseconds once, and the
 * float8's shortest text (Postgres's default output) is that decimal.
 */
export const PACKED_EXPORT_ROW = `concat_ws(',', seq, status_code, date_part('epoch', ts), coalesce(duration_ms::text, ''), octet_length(key_id), octet_length(method), key_id || method || endpoint)`;

/** One packed row as postgres.js returns it in raw mode: the row's only column, as bytes. */
export type PackedRow = [Uint8Array];

const COMMA = 44;
const QUOTE = 34;
const BACKSLASH = 92;
const MS_PER_DAY = 86_400_000;
/** Room past the byte budget for one row however it encodes (every byte escaped as \u00XX, plus the fixed text). */
const rowRoom = (row: Uint8Array) => 6 * row.byteLength + 256;

/**
 * Encodes export pages (usage.logs.query with `as`): a LogsExportHead line,
 * then the rows in the export's format, byte for byte what `exportLine` of
 * the row's /logs entry gives (export-page.test.ts holds the two together),
 * cut at `maxRowBytes` of encoded rows. The rows are written into one buffer
 * kept for the endpoint's life: a page is encoded synchronously, so pages
 * never share it, and each reply costs one allocation of its exact size.
 */
export function exportPageEncoder(maxRowBytes: number) {
  let out = new Uint8Array(maxRowBytes + 16 * 1024);
  let used = 0;
  // The day's "YYYY-MM-DDT", encoded once per day of rows (rows of a page are close in time).
  let day = Number.NaN;
  const dayText = new Uint8Array(11);

  const byte = (b: number) => {
    out[used++] = b;
  };
  const ascii = (s: string) => {
    for (let i = 0; i < s.length; i++) out[used++] = s.charCodeAt(i);
  };
  const text = (s: string) => {
    used += encoder.encodeInto(s, out.subarray(used)).written;
  };
  const digits2 = (n: number) => {
    out[used++] = 48 + ((n / 10) | 0);
    out[used++] = 48 + (n % 10);
  };
  const copy = (src: Uint8Array, from: number, to: number) => {
    for (let i = from; i < to; i++) out[used++] = src[i]!;
  };

  /** A JSON string: the bytes as they are (UTF-8 from Postgres) unless one needs an escape; then JSON.stringify decides. */
  function jsonString(src: Uint8Array, from: number, to: number) {
    for (let i = from; i < to; i++) {
      const b = src[i]!;
      if (b < 32 || b === QUOTE || b === BACKSLASH) return text(JSON.stringify(decoder.decode(src.subarray(from, to))));
    }
    byte(QUOTE);
    copy(src, from, to);
    byte(QUOTE);
  }

  /** A CSV cell: the bytes as they are unless csvCell would quote it or guard it against formulas. */
  function csvText(src: Uint8Array, from: number, to: number) {
    const first = src[from];
    let plain = first !== 61 && first !== 43 && first !== 45 && first !== 64 && first !== 9 && first !== 13;
    for (let i = from; plain && i < to; i++) {
      const b = src[i]!;
      if (b === QUOTE || b === COMMA || b === 10 || b === 13) plain = false;
    }
    if (plain) copy(src, from, to);
    else text(csvCell(decoder.decode(src.subarray(from, to))));
  }

  /** durationMs as Postgres wrote the float8: its plain digits are JavaScript's too; anything else (-0, exponents, NaN) goes through Number. */
  function duration(src: Uint8Array, from: number, to: number, format: ExportFormat) {
    if (from === to) return format === "ndjson" ? ascii("null") : undefined;
    for (let i = from; i < to; i++) {
      const b = src[i]!;
      if (b !== 46 && (b < 48 || b > 57)) {
        const n = Number(decoder.decode(src.subarray(from, to)));
        return format === "ndjson" ? ascii(JSON.stringify(n)) : text(csvCell(n));
      }
    }
    copy(src, from, to);
  }

  /** The timestamp as Date.prototype.toISOString writes it, from the epoch seconds' text (ms truncated, as new Date(ms) does). */
  function timestamp(src: Uint8Array, from: number, to: number) {
    let sec = 0;
    let i = from;
    for (; i < to && src[i] !== 46; i++) {
      const d = src[i]! - 48;
      if (d < 0 || d > 9) return ascii(new Date(Math.trunc(Number(decoder.decode(src.subarray(from, to))) * 1000)).toISOString());
      sec = sec * 10 + d;
    }
    let ms = 0;
    for (let k = 0, j = i + 1; k < 3; k++, j++) ms = ms * 10 + (j < to ? src[j]! - 48 : 0);
    const t = sec * 1000 + ms;
    const d = t - (t % MS_PER_DAY);
    if (d !== day) {
      const iso = new Date(t).toISOString();
      // Years past 9999 are written another way ("+010000-…"): no cached day for those.
      if (iso.length !== 24) return ascii(iso);
      day = d;
      encoder.encodeInto(iso.slice(0, 11), dayText);
    }
    out.set(dayText, used);
    used += 11;
    let r = t - d;
    digits2((r / 3_600_000) | 0);
    r %= 3_600_000;
    byte(58);
    digits2((r / 60_000) | 0);
    r %= 60_000;
    byte(58);
    digits2((r / 1000) | 0);
    byte(46);
    r %= 1000;
    out[used++] = 48 + ((r / 100) | 0);
    digits2(r % 100);
    byte(90);
  }

  /** Writes one row's line at `used`; returns the row's seq. */
  function line(row: Uint8Array, format: ExportFormat): number {
    const c1 = row.indexOf(COMMA);
    const c2 = row.indexOf(COMMA, c1 + 1);
    const c3 = row.indexOf(COMMA, c2 + 1);
    const c4 = row.indexOf(COMMA, c3 + 1);
    const c5 = row.indexOf(COMMA, c4 + 1);
    const c6 = row.indexOf(COMMA, c5 + 1);
    if (c6 < 0) throw new Error("an export row is not in the packed shape");
    const keyLen = int(row, c4 + 1, c5);
    const methodLen = int(row, c5 + 1, c6);
    const key = c6 + 1;
    const method = key + keyLen;
    const endpoint = method + methodLen;
    if (format === "ndjson") {
      ascii('{"endpoint":');
      jsonString(row, endpoint, row.byteLength);
      ascii(',"method":');
      jsonString(row, method, endpoint);
      ascii(',"statusCode":');
      copy(row, c1 + 1, c2);
      ascii(',"timestamp":"');
      timestamp(row, c2 + 1, c3);
      ascii('","keyId":');
      jsonString(row, key, method);
      ascii(',"durationMs":');
      duration(row, c3 + 1, c4, format);
      ascii("}\n");
    } else {
      csvText(row, endpoint, row.byteLength);
      byte(COMMA);
      csvText(row, method, endpoint);
      byte(COMMA);
      // int4 text is JavaScript's; only a negative one would get csvCell's formula guard.
      csvText(row, c1 + 1, c2);
      byte(COMMA);
      timestamp(row, c2 + 1, c3);
      byte(COMMA);
      csvText(row, key, method);
      byte(COMMA);
      duration(row, c3 + 1, c4, format);
      ascii("\r\n");
    }
    return int(row, 0, c1);
  }

  /** `rows` as read (limit + 1 at most); `cursorAfter` names the position after a row's seq. */
  return (rows: PackedRow[], limit: number, format: ExportFormat, cursorAfter: (seq: number) => string): Uint8Array => {
    used = 0;
    let n = 0;
    let lastSeq = 0;
    for (; n < rows.length && n < limit; n++) {
      const row = rows[n]![0];
      // Room for the row however it encodes (a row of a few KiB at most: the event schema bounds each text).
      if (out.byteLength - used < rowRoom(row)) {
        if (used > 0) break;
        out = new Uint8Array(maxRowBytes + rowRoom(row));
      }
      const start = used;
      const seq = line(row, format);
      // A row that does not fit whole starts the next page.
      if (used > maxRowBytes) {
        used = start;
        break;
      }
      lastSeq = seq;
    }
    // Never answer a page that does not advance.
    if (n === 0 && rows.length > 0) throw new Error("an export row is larger than a whole reply");
    const more = n < rows.length;
    const head = encoder.encode(`${JSON.stringify({ ok: true, nextCursor: more ? cursorAfter(lastSeq) : null })}\n`);
    const reply = new Uint8Array(head.byteLength + used);
    reply.set(head);
    reply.set(out.subarray(0, used), head.byteLength);
    return reply;
  };
}

/** A non-negative integer written in ASCII digits. */
function int(src: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (src[i]! - 48);
  return n;
}
