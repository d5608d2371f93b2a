import { Elysia, t } from "elysia";
import type { NatsConnection } from "nats";
import type { Sql } from "postgres";
import { requestIdFor } from "@riskinmind/contracts";
import type { Metrics } from "./metrics";
import { natsReady, postgresReady } from "./ready";

export interface OpsDeps {
  /** The service's name, answered by /health (the same name its logs and metrics carry). */
  service: string;
  metrics: Metrics;
  /** Checked by /ready as "postgres" when the service has a pool. */
  sql?: Sql | undefined;
  /** Checked by /ready as "postgres-read" when the service reads from a second pool (a replica). */
  readSql?: Sql | undefined;
  /** Checked by /ready as "nats" when the service has a connection. */
  nc?: NatsConnection | undefined;
}

type CheckState = "up" | "down";
const CheckStateSchema = t.Union([t.Literal("up"), t.Literal("down")]);
const Checks = t.Record(t.String(), CheckStateSchema, { description: "One entry per dependency the service has: postgres, nats." });

const Health = t.Object({ status: t.Literal("ok"), service: t.String() });
const Ready = t.Object({ status: t.Literal("ready"), checks: Checks });
// The error envelope (inline, without the contract's $id: the OpenAPI generator
// inlines schemas and a repeated $id makes the document invalid) plus the checks.
const NotReady = t.Object(
  {
    success: t.Literal(false),
    error: t.Object({ code: t.Literal("NOT_READY"), message: t.String(), requestId: t.String() }),
    checks: Checks,
  },
  { description: "The error envelope with the state of each check beside it." },
);

/**
 * The one shape of /health, /ready and /metrics, mounted by every service
 * after httpBasics (so these answers carry request ids and the security
 * headers, and are counted like any route). No authentication: they serve
 * orchestrators and scrapers, and reveal nothing about keys or owners.
 *
 * /health is liveness: the process answers, no dependency is checked (a
 * database outage must not get every replica restarted). /ready checks each
 * dependency the service has, each bounded (READY_CHECK_TIMEOUT_MS), all at once.
 */
export function opsRoutes({ service, metrics, sql, readSql, nc }: OpsDeps) {
  const checks: [string, () => Promise<boolean>][] = [];
  if (sql) checks.push(["postgres", () => postgresReady(sql)]);
  if (readSql) checks.push(["postgres-read", () => postgresReady(readSql)]);
  if (nc) checks.push(["nats", () => natsReady(nc)]);
  const health = { status: "ok" as const, service };

  return new Elysia({ name: `riskinmind/ops:${service}` })
    .get("/health", () => health, { response: { 200: Health }, detail: { summary: "Liveness: the process answers", tags: ["ops"] } })
    .get(
      "/ready",
      async ({ set, request, status }) => {
        const states = await Promise.all(checks.map(async ([name, check]) => [name, (await check()) ? "up" : "down"] as [string, CheckState]));
        const result = Object.fromEntries(states) as Record<string, CheckState>;
        const down = states.filter(([, s]) => s === "down").map(([name]) => name);
        if (down.length === 0) return { status: "ready" as const, checks: result };
        const message = `Not ready: ${down.join(" and ")} ${down.length > 1 ? "are" : "is"} down.`;
        return status(503, { success: false as const, error: { code: "NOT_READY" as const, message, requestId: requestIdOf(set, request) }, checks: result });
      },
      {
        response: { 200: Ready, 503: NotReady },
        detail: { summary: "Readiness: every dependency (Postgres, NATS) reachable within 1 s", tags: ["ops"] },
      },
    )
    .get(
      "/metrics",
      async ({ set }) => {
        set.headers["content-type"] = metrics.registry.contentType;
        return metrics.registry.metrics();
      },
      { detail: { summary: "Prometheus metrics", tags: ["ops"], responses: { 200: { description: "Prometheus text format" } } } },
    );
}

/**
 * The id httpBasics gave this request (its x-request-id header, set before any
 * route runs); mounted without it, the caller's well-formed id or a fresh one,
 * sent back as that header too, so body and header always agree.
 */
function requestIdOf(set: { headers: unknown }, request: Request): string {
  const headers = set.headers as Record<string, string | undefined>;
  return (headers["x-request-id"] ??= requestIdFor(request.headers.get("x-request-id")));
}
