import { check, NATS_ENDPOINT, parseJson, usageRange, type UsageAggregateRequest } from "@riskinmind/contracts";
import { errFields, isDbUnavailable, jsonAnswer, type EndpointSpec, type JsonAnswer, type Logger, type Sql } from "@riskinmind/runtime";
import type { UsageMetrics } from "../metrics";
import { readUsage } from "./query";

const DB_DOWN = jsonAnswer({ ok: false, code: "DATABASE_UNAVAILABLE", message: "The usage database is unavailable; retry shortly." });
const INTERNAL = jsonAnswer({ ok: false, code: "INTERNAL", message: "Internal error." });

interface AggregateAnswer extends JsonAnswer {
  outcome: "ok" | "invalid" | "too_large" | "db_unavailable" | "error";
}

const invalid = (message: string): AggregateAnswer => ({ ...jsonAnswer({ ok: false, code: "VALIDATION_ERROR", message }), outcome: "invalid" });

/**
 * usage.logs.aggregate: an owner's usage per UTC hour or day, from the
 * rollups. The keys edge has already checked the range; it is checked again
 * here (the contract is validated on both sides). An answer that would not
 * fit in one NATS message (many groups over a long range) is refused as the
 * asker's to narrow, never cut short silently.
 */
export function aggregateEndpoint(deps: { sql: Sql; log: Logger; m: UsageMetrics; subject: string; maxPayload: number }): EndpointSpec<AggregateAnswer> {
  const { sql, log, m } = deps;
  return {
    name: NATS_ENDPOINT.logsAggregate,
    subject: deps.subject,
    handle(data) {
      const req = parseJson(data);
      if (!check.usageAggregateRequest.Check(req)) {
        const first = [...check.usageAggregateRequest.Errors(req)][0];
        const where = first?.path ? ` '${first.path.replace(/^\//, "")}'` : "";
        return invalid(`Invalid usage aggregate request${where}: ${first?.message ?? "expected {ownerId, mode, from, to, granularity, groupBy}"}.`);
      }
      return read(req);
    },
    failed: { ...INTERNAL, outcome: "error" },
    errorOf: (a) => a.error,
    answered: (a, started) => m.aggregateSeconds.observe({ outcome: a.outcome }, (performance.now() - started) / 1000),
  };

  async function read(req: UsageAggregateRequest): Promise<AggregateAnswer> {
    const range = usageRange(req.from, req.to, req.granularity);
    if (!range.ok) return invalid(range.message);
    try {
      const data = await readUsage(sql, { ownerId: req.ownerId, mode: req.mode, from: range.from, to: range.to, granularity: req.granularity, groupBy: req.groupBy });
      const answer: AggregateAnswer = { ...jsonAnswer({ ok: true, data }), outcome: "ok" };
      // Headroom for the reply's headers.
      if (answer.reply.byteLength > deps.maxPayload - 1024) {
        return {
          ...jsonAnswer({ ok: false, code: "VALIDATION_ERROR", message: "Too many groups for one answer; ask for a shorter range, daily buckets or another groupBy." }),
          outcome: "too_large",
        };
      }
      return answer;
    } catch (e) {
      if (isDbUnavailable(e)) return { ...DB_DOWN, outcome: "db_unavailable" };
      log.error({ ...errFields(e) }, "usage aggregate failed");
      return { ...INTERNAL, outcome: "error" };
    }
  }
}
