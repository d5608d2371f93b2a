import { type Static, Type } from "@sinclair/typebox";
import type { LogEntry } from "./http";

/**
 * The body formats of GET /api/v1/keys/logs/export, in one place: the usage
 * service encodes export pages with them (usage.logs.query with `as`) and the
 * keys edge only with a usage service that predates `as`, so both give the
 * same bytes for the same rows.
 */
export type ExportFormat = "csv" | "ndjson";

/** The CSV columns, in order: the fields of a /logs entry (durationMs empty when unknown). */
export const CSV_COLUMNS = ["endpoint", "method", "statusCode", "timestamp", "keyId", "durationMs"] as const;

/** What a body starts with before its first row: the CSV header line, nothing for NDJSON. */
export function exportPreamble(format: ExportFormat): string {
  return format === "csv" ? `${CSV_COLUMNS.join(",")}\r\n` : "";
}

/**
 * One CSV cell: RFC 4180 quoting, and a cell a spreadsheet would run as a
 * formula (starting with = + - @ tab or CR) made inert with a leading `'`
 * (CSV injection: an endpoint or key id is text a third party may choose).
 */
export function csvCell(v: string | number | null): string {
  if (v === null) return "";
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One row of the export body, line end included (CRLF for CSV, LF for NDJSON). */
export function exportLine(e: LogEntry, format: ExportFormat): string {
  if (format === "ndjson") return `${JSON.stringify(e)}\n`;
  return `${csvCell(e.endpoint)},${csvCell(e.method)},${csvCell(e.statusCode)},${csvCell(e.timestamp)},${csvCell(e.keyId)},${csvCell(e.durationMs)}\r\n`;
}

/**
 * The first line of a usage.logs.query reply to a request with `as`: after
 * it (and its LF) come the page's rows already encoded in that format, to the
 * end of the message, so the edge forwards them without parsing a row. A
 * refusal is the usual `{ok: false, code, message}` and has no LF.
 */
export const LogsExportHead = Type.Object({
  ok: Type.Literal(true),
  /** The cursor after the page's last row, null at the end. */
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type LogsExportHead = Static<typeof LogsExportHead>;
