import { check, parseJson, QUEUE, type LogsQueryReply } from "@riskinmind/contracts";
import { isDbUnavailable, type Logger, type Sql, errFields } from "@riskinmind/runtime";
import type { Msg, NatsConnection, Subscription } from "nats";
import type { UsageMetrics } from "../metrics";
import { readLogsPage } from "./query";

const encoder = new TextEncoder();

/**
 * Answers `usage.logs.query` in the `usage` queue group, so replicas share
 * the reads. Every request with a reply subject gets exactly one reply.
 */
export function serveLogsQueries(deps: { nc: NatsConnection; sql: Sql; log: Logger; m: UsageMetrics; subject: string }): Subscription {
  const { nc, sql, log, m, subject } = deps;
  return nc.subscribe(subject, {
    queue: QUEUE.usage,
    callback: (err, msg) => {
      if (err) {
        log.warn({ ...errFields(err) }, "logs query subscription error");
        return;
      }
      void answer(msg);
    },
  });

  async function answer(msg: Msg): Promise<void> {
    if (!msg.reply) return;
    const started = performance.now();
    let reply: LogsQueryReply;
    let outcome: string;
    const req = parseJson(msg.data);
    if (!check.logsQueryRequest.Check(req)) {
      const first = [...check.logsQueryRequest.Errors(req)][0];
      const where = first?.path ? ` '${first.path.replace(/^\//, "")}'` : "";
      reply = { ok: false, code: "VALIDATION_ERROR", message: `Invalid logs query${where}: ${first?.message ?? "expected {ownerId, page, limit}"}.` };
      outcome = "invalid";
    } else {
      try {
        const page = await readLogsPage(sql, req);
        reply = { ok: true, data: page.data, total: page.total };
        outcome = "ok";
      } catch (e) {
        if (isDbUnavailable(e)) {
          reply = { ok: false, code: "DATABASE_UNAVAILABLE", message: "The usage database is unavailable; retry shortly." };
          outcome = "db_unavailable";
        } else {
          log.error({ ...errFields(e) }, "logs query failed");
          reply = { ok: false, code: "INTERNAL", message: "Internal error." };
          outcome = "error";
        }
      }
    }
    try {
      msg.respond(encoder.encode(JSON.stringify(reply)));
    } catch (e) {
      log.warn({ ...errFields(e) }, "logs query reply failed");
    }
    m.logsQuerySeconds.observe({ outcome }, (performance.now() - started) / 1000);
  }
}
