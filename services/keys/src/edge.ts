import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import type { Subjects } from "@riskinmind/contracts";
import { httpBasics, opsRoutes, type Logger, type Metrics, type Sql } from "@riskinmind/runtime";
import type { NatsConnection } from "nats";
import type { Authenticator } from "./auth/jwt";
import { consoleRoutes } from "./console/routes";
import type { DbHealth } from "./db-health";
import { docsAssets, scalarConfig } from "./docs-ui";
import type { KeysConfig } from "./env";
import type { OutboxNudge } from "./audit/record";
import { auditRoute } from "./audit/route";
import type { KeyEvents } from "./events/key-events";
import type { CurrentKeyCache } from "./keys/current-cache";
import type { QuotaReader } from "./keys/policy";
import { keyRoutes } from "./keys/routes";
import { LEAK_RAW_BODY_ROUTES, leakGates, leakRoutes, type LeakRoutesDeps } from "./leaks/routes";
import { logsRoute } from "./logs/route";
import { createInFlightLimit, createRateLimiter } from "./ratelimit";
import { usageRoute } from "./usage/route";
import { webhookRoutes } from "./webhooks/routes";
import { secretBoxFor } from "./webhooks/secret-box";

export interface EdgeDeps {
  sql: Sql;
  nc: NatsConnection;
  log: Logger;
  metrics: Metrics;
  config: KeysConfig;
  topo: Subjects;
  auth: Authenticator;
  current: CurrentKeyCache;
  db: DbHealth;
  events: KeyEvents;
  /** quota.used and quota.resetsAt for the answers that show a key. */
  quota: QuotaReader;
  /** Told after each committed change, so its key event goes out at once. */
  outbox: OutboxNudge;
}

/** The HTTP edge as an Elysia app (not listening). Its type drives the eden client. */
export function buildEdge(d: EdgeDeps) {
  const readLimiter = createRateLimiter(d.config.READ_RATE_LIMIT_PER_MINUTE, Date.now, "reads");
  const leaks: LeakRoutesDeps = {
    sql: d.sql,
    events: d.events,
    outbox: d.outbox,
    reportKeys: d.config.LEAK_REPORT_PUBLIC_KEYS,
    byValueLimiter: createRateLimiter(d.config.REVOKE_BY_VALUE_PER_MINUTE, Date.now, "revocation requests from this address"),
  };
  const anonymousGates = leakGates(leaks);
  // The leak routes come before keyRoutes: its JWT derive is scoped to what follows it.
  return new Elysia({ normalize: false })
    .use(
      httpBasics({
        log: d.log,
        metrics: d.metrics,
        htmlPaths: ["/docs", "/console"],
        bodyTimeoutMs: d.config.BODY_TIMEOUT_MS,
        // Every route here that takes a body needs a JWT: refuse an anonymous caller before reading a byte of it.
        // Exactly two are anonymous by design (leak reports, revoke-by-value): their own gate runs instead.
        beforeBody: async (request, { route, server }) => {
          const gate = Object.hasOwn(anonymousGates, route) ? anonymousGates[route] : undefined;
          if (gate) return gate(request, server);
          await d.auth.ownerOf(request);
        },
        rawBodyRoutes: LEAK_RAW_BODY_ROUTES,
      }),
    )
    .use(
      openapi({
        path: "/docs",
        specPath: "/openapi.json",
        documentation: {
          info: { title: "RiskInMind API Keys", version: "1.0.0", description: "Issue, rotate and revoke API keys; read their usage logs." },
          components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
        },
        scalar: scalarConfig,
      }),
    )
    .use(docsAssets())
    .use(consoleRoutes({ log: d.log }))
    .use(opsRoutes({ service: "keys", metrics: d.metrics, sql: d.sql, nc: d.nc }))
    .use(leakRoutes(leaks))
    .use(
      keyRoutes({
        sql: d.sql,
        auth: d.auth,
        limiter: createRateLimiter(d.config.RATE_LIMIT_PER_MINUTE),
        readLimiter,
        events: d.events,
        quota: d.quota,
        outbox: d.outbox,
        current: d.current,
        db: d.db,
      }),
    )
    .use(auditRoute({ sql: d.sql, auth: d.auth, readLimiter }))
    .use(
      logsRoute({
        nc: d.nc,
        log: d.log,
        auth: d.auth,
        readLimiter,
        inFlight: createInFlightLimit(d.config.LOGS_MAX_IN_FLIGHT_PER_OWNER),
        subject: d.topo.logsQuery,
        timeoutMs: d.config.LOGS_TIMEOUT_MS,
      }),
    )
    .use(usageRoute({ nc: d.nc, log: d.log, auth: d.auth, readLimiter, subject: d.topo.logsAggregate, timeoutMs: d.config.LOGS_TIMEOUT_MS }))
    .use(
      webhookRoutes({
        sql: d.sql,
        auth: d.auth,
        box: secretBoxFor(d.config),
        allowPrivate: d.config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
        limiter: createRateLimiter(d.config.RATE_LIMIT_PER_MINUTE),
        readLimiter,
      }),
    );
}
