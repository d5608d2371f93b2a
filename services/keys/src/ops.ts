import { Elysia, t } from "elysia";
import { AppError } from "@riskinmind/contracts";
import type { Metrics, Sql } from "@riskinmind/runtime";
import { errorResponses } from "./docs";

export interface OpsDeps {
  sql: Sql;
  metrics: Metrics;
  /** True while the NATS connection is up (tracked from its status stream). */
  natsUp(): boolean;
}

const Status = t.Object({ status: t.String() });

/** /health (alive), /ready (Postgres and NATS reachable), /metrics (Prometheus text). No JWT. */
export function opsRoutes(deps: OpsDeps) {
  return new Elysia()
    .get("/health", () => ({ status: "ok" }), { response: { 200: Status }, detail: { summary: "Liveness", tags: ["ops"] } })
    .get(
      "/ready",
      async () => {
        try {
          await deps.sql`select 1`;
        } catch {
          throw new AppError("DATABASE_UNAVAILABLE", "Not ready: Postgres is unreachable.");
        }
        if (!deps.natsUp()) throw new AppError("VERIFY_UNAVAILABLE", "Not ready: NATS is not connected.");
        return { status: "ready" };
      },
      { response: { 200: Status, ...errorResponses(503) }, detail: { summary: "Readiness: Postgres and NATS reachable", tags: ["ops"] } },
    )
    .get(
      "/metrics",
      async ({ set }) => {
        set.headers["content-type"] = deps.metrics.registry.contentType;
        return deps.metrics.registry.metrics();
      },
      { detail: { summary: "Prometheus metrics", tags: ["ops"], responses: { 200: { description: "Prometheus text format" } } } },
    );
}
