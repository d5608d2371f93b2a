import { Elysia } from "elysia";
import { LOGS_QUERY_MAX_LIMIT, LogsExportQuery, type KeyMode, type LogEntry } from "@riskinmind/contracts";
import { errFields } from "@riskinmind/runtime";
import { jwtAuth } from "../auth/jwt";
import { BEARER, errorResponses, inline } from "../docs";
import { askUsage, filterOf, usageRequest, type UsagePage } from "./ask";
import type { LogsDeps } from "./route";

type Format = "csv" | "ndjson";

/** The CSV columns, in order: the fields of a /logs entry (durationMs empty when unknown). */
export const CSV_COLUMNS = ["endpoint", "method", "statusCode", "timestamp", "keyId", "durationMs"] as const;

const encoder = new TextEncoder();

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

function csvLine(e: LogEntry): string {
  return `${[e.endpoint, e.method, e.statusCode, e.timestamp, e.keyId, e.durationMs].map(csvCell).join(",")}\r\n`;
}

function encodePage(rows: LogEntry[], format: Format): Uint8Array {
  let text = "";
  if (format === "csv") for (const e of rows) text += csvLine(e);
  else for (const e of rows) text += `${JSON.stringify(e)}\n`;
  return encoder.encode(text);
}

/**
 * The rows from `first` on, page after page by cursor. A pull stream: the
 * next page is asked for only once the previous one has been taken by the
 * response (at most one page waits in the queue), so memory stays flat however
 * many rows there are. `release` is called once, when the stream ends in any
 * way (done, failed, or cancelled by a client that went away).
 */
function rowStream(deps: LogsDeps, next: (cursor: string) => Promise<UsagePage>, first: UsagePage, format: Format, release: () => void): ReadableStream<Uint8Array> {
  let page: UsagePage | null = first;
  let cursor: string | null = null;
  const header = format === "csv" ? `${CSV_COLUMNS.join(",")}\r\n` : "";
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (page === null) page = await next(cursor!);
          const chunk = encodePage(page.data, format);
          controller.enqueue(page === first && header ? Buffer.concat([encoder.encode(header), chunk]) : chunk);
          cursor = page.nextCursor ?? null;
          page = null;
          if (cursor === null) {
            controller.close();
            release();
          }
        } catch (err) {
          // The status line is sent: the only signal left is to end the body early (no final chunk).
          deps.log.warn({ ...errFields(err) }, "logs export ended early: the usage service failed mid-stream");
          controller.error(err);
          release();
        }
      },
      cancel() {
        release();
      },
    },
    { highWaterMark: 1 },
  );
}

/**
 * GET /api/v1/keys/logs/export?format=csv|ndjson: every row matching the
 * filters, newest first, streamed. The first page is read before the status
 * line, so a bad query or an absent usage service still gets its 400 or 503;
 * a failure after that ends the body early (see README-logs.md). Counts as one
 * read and holds one of the owner's in-flight /logs slots until it ends.
 */
export function exportRoute(deps: LogsDeps) {
  return new Elysia({ prefix: "/api/v1/keys" }).use(jwtAuth(deps.auth)).get(
    "/logs/export",
    async ({ ownerId, query }) => {
      const { mode, filter } = filterOf(query);
      deps.readLimiter.take(ownerId);
      const release = deps.inFlight.acquire(ownerId);
      try {
        const ask = (cursor?: string) => askUsage(deps, { ...usageRequest(ownerId, mode, filter, { page: 1, limit: LOGS_QUERY_MAX_LIMIT, cursor }), skipTotal: true });
        const first = await ask();
        return exportResponse(
          rowStream(deps, (c) => ask(c), first, query.format, release),
          query.format,
          mode,
        );
      } catch (e) {
        release();
        throw e;
      }
    },
    {
      query: inline(LogsExportQuery),
      response: { ...errorResponses(400, 401, 429, 503) },
      detail: {
        summary: "Every usage log row matching the filters, newest first, streamed as CSV or NDJSON",
        tags: ["keys"],
        security: BEARER,
      },
    },
  );
}

function exportResponse(body: ReadableStream<Uint8Array>, format: Format, mode: KeyMode): Response {
  const type = format === "csv" ? "text/csv; charset=utf-8; header=present" : "application/x-ndjson";
  return new Response(body, { status: 200, headers: { "content-type": type, "content-disposition": `attachment; filename="usage-${mode}.${format}"` } });
}
