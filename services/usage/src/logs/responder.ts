import { check, NATS_ENDPOINT, parseJson, type LogsQueryRequest } from "@riskinmind/contracts";
import { errFields, isDbUnavailable, jsonAnswer, type EndpointSpec, type JsonAnswer, type Logger, type Sql } from "@riskinmind/runtime";
import type { UsageMetrics } from "../metrics";
import { readLogsPage } from "./query";

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
      return read(req);
    },
    failed: { ...INTERNAL, outcome: "error" },
    errorOf: (a) => a.error,
    answered: (a, started) => m.logsQuerySeconds.observe({ outcome: a.outcome }, (performance.now() - started) / 1000),
  };

  async function read(req: LogsQueryRequest): Promise<LogsAnswer> {
    try {
      const page = await readLogsPage(sql, req);
      return { ...jsonAnswer({ ok: true, data: page.data, total: page.total }), outcome: "ok" };
    } catch (e) {
      if (isDbUnavailable(e)) return { ...DB_DOWN, outcome: "db_unavailable" };
      log.error({ ...errFields(e) }, "logs query failed");
      return { ...INTERNAL, outcome: "error" };
    }
  }
}
