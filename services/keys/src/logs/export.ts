import { Elysia } from "elysia";
import { exportPreamble, LogsExportQuery, type ExportFormat, type KeyMode } from "@riskinmind/contracts";
import { errFields } from "@riskinmind/runtime";
import { jwtAuth } from "../auth/jwt";
import { BEARER, errorResponses, inline } from "../docs";
import { askExportPage, filterOf, usageRequest, type ExportPage } from "./ask";
import { garbageGuard } from "./garbage";
import type { LogsDeps } from "./route";

const encoder = new TextEncoder();

/** One guard for the process: exports running at once share its heap (garbage.ts). */
const garbage = garbageGuard(16 * 1024 * 1024);
/** Pages between two looks at RSS (about 1 MiB of body). */
const GUARD_EVERY_PAGES = 8;

/**
 * Rows asked for per page (the bus allows LOGS_QUERY_MAX_LIMIT): about 140
 * KiB of typical rows. The edge's memory follows the size of a reply, not the
 * rows it holds: nats.js gathers a reply larger than one socket read into
 * buffers it doubles as it goes, and leaves about three times its size behind
 * for the collector. `bun bench/export-check.ts` (2M rows, the 1,000 /logs
 * reads first): keys RSS growth 60-67 MB at 5,000 rows a page, 46.5 and 27.4
 * MB at 2,000, 36.1 and 1.9 MB at 1,000 (first and second export of a
 * process), at the same 285,000-318,000 rows/s.
 */
export const EXPORT_PAGE_ROWS = 1000;

/**
 * The rows from `first` on, page after page by cursor, as the usage service
 * encoded them. A pull stream kept one page ahead: when the response takes a
 * page, the next one is asked for, so the usage service reads it while this
 * one goes to the client; no more is asked until the client has taken that
 * too. At most about two pages (each at most one bus message) are held however
 * many rows there are. `release` is called once, when the stream ends in any
 * way (done, failed, or cancelled by a client that went away).
 */
function rowStream(deps: LogsDeps, next: (cursor: string) => Promise<ExportPage>, first: ExportPage, format: ExportFormat, release: () => void): ReadableStream<Uint8Array> {
  let taken: ExportPage | null = first;
  let ahead: Promise<ExportPage> | null = null;
  let ended = false;
  let pages = 0;
  const end = () => {
    if (ended) return;
    ended = true;
    release();
  };
  const preamble = exportPreamble(format);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const page: ExportPage = taken ?? (await ahead!);
          const isFirst = page === first;
          taken = null;
          ahead = page.nextCursor === null ? null : next(page.nextCursor);
          // Awaited by the next pull; a page asked for a client that has gone is dropped, and so is its failure.
          ahead?.catch(() => {});
          controller.enqueue(isFirst && preamble ? Buffer.concat([encoder.encode(preamble), page.body]) : page.body);
          if (++pages % GUARD_EVERY_PAGES === 0) garbage.check();
          if (page.nextCursor === null) {
            controller.close();
            end();
          }
        } catch (err) {
          // The status line is sent: the only signal left is to end the body early (no final chunk).
          deps.log.warn({ ...errFields(err) }, "logs export ended early: the usage service failed mid-stream");
          controller.error(err);
          end();
        }
      },
      cancel() {
        end();
      },
    },
    { highWaterMark: 1 },
  );
}

/**
 * GET /api/v1/keys/logs/export?format=csv|ndjson: every row matching the
 * filters, newest first, streamed. The first page is read before the status
 * line, so a bad query or an absent usage service still gets its 400 or 503;
 * a failure after that ends the body early (README, Export). Counts as one
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
        const ask = (cursor?: string) => askExportPage(deps, { ...usageRequest(ownerId, mode, filter, { page: 1, limit: EXPORT_PAGE_ROWS, cursor }), skipTotal: true, as: query.format });
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

function exportResponse(body: ReadableStream<Uint8Array>, format: ExportFormat, mode: KeyMode): Response {
  const type = format === "csv" ? "text/csv; charset=utf-8; header=present" : "application/x-ndjson";
  return new Response(body, { status: 200, headers: { "content-type": type, "content-disposition": `attachment; filename="usage-${mode}.${format}"` } });
}
