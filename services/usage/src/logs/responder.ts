import { check, decodeCursor, encodeCursor, NATS_ENDPOINT, parseJson, parseLogsFilter, type ExportFormat, type KeyMode, type LogsFilter, type LogsQueryRequest } from "@riskinmind/contracts";
import { errFields, isDbUnavailable, jsonAnswer, type EndpointSpec, type JsonAnswer, type Logger, type Sql } from "@riskinmind/runtime";
import type { UsageMetrics } from "../metrics";
import { exportPageEncoder } from "./export-page";
import { readExportRows, readLogsPage, type LogsRead } from "./query";

/**
 * Bytes of rows in one reply: under NATS's default max_payload (1 MiB) with
 * room for the envelope. Only a page of long endpoints at the export's
 * 5,000-row pages comes near it; such a page is cut short and continues by
 * its cursor like any other. (/logs pages bound an estimate of their JSON,
 * export pages their exact encoded bytes.)
 */
const MAX_REPLY_ROW_BYTES = 768 * 1024;

const DB_DOWN = jsonAnswer({ ok: false, code: "DATABASE_UNAVAILABLE", message: "The usage database is unavailable; retry shortly." });
const INTERNAL = jsonAnswer({ ok: false, code: "INTERNAL", message: "Internal error." });

/** An answer and the outcome label it is timed under. */
interface LogsAnswer extends JsonAnswer {
  outcome: "ok" | "invalid" | "db_unavailable" | "error";
}

/**
 * usage.logs.query: a page of one owner's usage logs in one key mode
 * (`mode`, default live: a keys replica that predates modes sends none).
 * An invalid query, an unreachable database or a bug is a service error
 * whose body is the same `{ok: false, code, message}` as ever.
 */
export function logsQueryEndpoint(deps: { sql: Sql; log: Logger; m: UsageMetrics; subject: string }): EndpointSpec<LogsAnswer> {
  const { sql, log, m } = deps;
  const encodeExportPage = exportPageEncoder(MAX_REPLY_ROW_BYTES);
  return {
    name: NATS_ENDPOINT.logsQuery,
    subject: deps.subject,
    handle(data) {
      const req = parseJson(data);
      if (!check.logsQueryRequest.Check(req)) {
        const first = [...check.logsQueryRequest.Errors(req)][0];
        const where = first?.path ? ` '${first.path.replace(/^\//, "")}'` : "";
        const message = `Invalid logs query${where}: ${first?.message ?? "expected {ownerId, page, limit, mode?}"}.`;
        return { ...jsonAnswer({ ok: false, code: "VALIDATION_ERROR", message }), outcome: "invalid" };
      }
      const parsed = toRead(req);
      if ("message" in parsed) return { ...jsonAnswer({ ok: false, code: "VALIDATION_ERROR", message: parsed.message }), outcome: "invalid" };
      return read(parsed);
    },
    failed: { ...INTERNAL, outcome: "error" },
    errorOf: (a) => a.error,
    answered: (a, started) => m.logsQuerySeconds.observe({ outcome: a.outcome }, (performance.now() - started) / 1000),
  };

  async function read(q: Query): Promise<LogsAnswer> {
    try {
      if (q.as !== undefined) {
        // An export page: no total, the rows encoded here (see LogsExportHead).
        const rows = await readExportRows(sql, q);
        return { reply: encodeExportPage(rows, q.limit, q.as, (seq) => encodeCursor(seq, q.mode, q.filter)), outcome: "ok" };
      }
      const page = await readLogsPage(sql, q);
      const nextCursor = page.nextBefore === undefined ? null : encodeCursor(page.nextBefore, q.mode, q.filter);
      return { ...jsonAnswer({ ok: true, data: page.data, total: page.total, nextCursor }), outcome: "ok" };
    } catch (e) {
      if (isDbUnavailable(e)) return { ...DB_DOWN, outcome: "db_unavailable" };
      log.error({ ...errFields(e) }, "logs query failed");
      return { ...INTERNAL, outcome: "error" };
    }
  }
}

/**
 * The request's filters and cursor checked again with the edge's own rules
 * (anything may publish on the bus): the read, or why it is refused.
 */
/** A checked request: the read, and the export format when the rows are to be answered encoded. */
type Query = LogsRead & { mode: KeyMode; filter: LogsFilter; as?: ExportFormat };

function toRead(req: LogsQueryRequest): Query | { message: string } {
  const mode = req.mode ?? "live";
  const filter = parseLogsFilter(req);
  if (!filter.ok) return { message: filter.message };
  let before: number | undefined;
  if (req.cursor !== undefined) {
    const c = decodeCursor(req.cursor, mode, filter.value);
    if (!c.ok) return { message: c.message };
    before = c.value;
  }
  return { ownerId: req.ownerId, mode, limit: req.limit, page: req.page, before, filter: filter.value, skipTotal: req.skipTotal === true, maxBytes: MAX_REPLY_ROW_BYTES, as: req.as };
}
