import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import { subjects, type KeyRevokedEvent } from "@riskinmind/contracts";
import { httpBasics, type Logger, type Metrics, type Sql } from "@riskinmind/runtime";
import type { NatsConnection, Status, Subscription } from "nats";
import type { KeysConfig } from "./env";
import type { RevokedRow } from "./keys/repo";
import { keyRoutes } from "./keys/routes";
import { logsRoute } from "./logs/route";
import { opsRoutes } from "./ops";
import { createRateLimiter } from "./ratelimit";
import { hashToCacheKey, VerifyCache } from "./verify/cache";
import { lastUsedFlusher } from "./verify/last-used";
import { createVerifyMetrics } from "./verify/metrics";
import { startResponders } from "./verify/responder";

export interface KeysServiceDeps {
  sql: Sql;
  nc: NatsConnection;
  log: Logger;
  metrics: Metrics;
  config: KeysConfig;
}

const FLUSH_TIMEOUT_MS = 2_000;

/** The HTTP edge as an Elysia app (not listening). Its type drives the eden client. */
function buildApp(d: {
  sql: Sql;
  nc: NatsConnection;
  log: Logger;
  metrics: Metrics;
  config: KeysConfig;
  natsUp(): boolean;
  onRevoked(row: RevokedRow): Promise<void>;
}) {
  const topo = subjects({ prefix: d.config.NATS_SUBJECT_PREFIX, stream: d.config.USAGE_STREAM });
  return new Elysia({ normalize: false })
    .use(httpBasics({ log: d.log, metrics: d.metrics, htmlPaths: ["/docs"] }))
    .use(
      openapi({
        path: "/docs",
        specPath: "/openapi.json",
        documentation: {
          info: { title: "RiskInMind API Keys", version: "1.0.0", description: "Issue, rotate and revoke API keys; read their usage logs." },
          components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
        },
      }),
    )
    .use(opsRoutes({ sql: d.sql, metrics: d.metrics, natsUp: d.natsUp }))
    .use(keyRoutes({ sql: d.sql, jwtSecret: d.config.JWT_SECRET, limiter: createRateLimiter(d.config.RATE_LIMIT_PER_MINUTE), onRevoked: d.onRevoked }))
    .use(logsRoute({ nc: d.nc, log: d.log, jwtSecret: d.config.JWT_SECRET, subject: topo.logsQuery, timeoutMs: d.config.LOGS_TIMEOUT_MS }));
}

export type KeysApp = ReturnType<typeof buildApp>;

/**
 * The keys service: the HTTP edge plus the keys.verify responder, sharing one
 * verification cache. `start()` subscribes on NATS; `stop()` drains those
 * subscriptions and writes the last last_used_at batch. The caller owns sql,
 * nc and the listening socket.
 */
export function createKeysService(deps: KeysServiceDeps) {
  const { sql, nc, log, config } = deps;
  const topo = subjects({ prefix: config.NATS_SUBJECT_PREFIX, stream: config.USAGE_STREAM });
  const cache = new VerifyCache(config.VERIFY_CACHE_MAX);
  const seen = new Set<string>();
  const db = { downUntil: 0 };
  let natsUp = !nc.isClosed();
  const encoder = new TextEncoder();

  /**
   * Runs after a revoking transaction committed and before the HTTP answer:
   * the local cache forgets the key at once, and the event is on the server
   * (flush) before the caller hears "revoked", so other replicas drop it next.
   */
  const onRevoked = async (row: RevokedRow): Promise<void> => {
    cache.drop(row.id, hashToCacheKey(row.key_hash));
    const ev: KeyRevokedEvent = {
      keyId: row.id,
      keyHash: row.key_hash.toString("hex"),
      ownerId: row.owner_id,
      revokedAt: (row.revoked_at ?? new Date()).toISOString(),
    };
    try {
      nc.publish(topo.keyRevoked, encoder.encode(JSON.stringify(ev)));
      await Promise.race([nc.flush(), Bun.sleep(FLUSH_TIMEOUT_MS).then(() => Promise.reject(new Error("flush timed out")))]);
    } catch (err) {
      // The revocation is committed; replicas that miss the event clear their caches on reconnect.
      log.warn({ err: { message: (err as Error).message }, keyId: row.id }, "revocation event not confirmed");
    }
  };

  const app = buildApp({ sql, nc, log, metrics: deps.metrics, config, natsUp: () => natsUp && !nc.isClosed(), onRevoked });
  const verifyMetrics = createVerifyMetrics(deps.metrics);
  let flusher: ReturnType<typeof lastUsedFlusher> | null = null;
  let subs: Subscription[] = [];
  let statusLoop: { stop(): void } | null = null;

  return {
    app,
    cache,
    async start(): Promise<void> {
      subs = startResponders({ nc, sql, log, cache, seen, db, config, subjects: topo, metrics: verifyMetrics });
      flusher = lastUsedFlusher({ sql, log, seen });
      const status = nc.status() as AsyncIterable<Status> & { stop(): void };
      statusLoop = status;
      (async () => {
        for await (const s of status) {
          if (s.type === "disconnect") natsUp = false;
          if (s.type === "reconnect") {
            natsUp = true;
            // Revocation events sent while we were away are lost: start over.
            cache.clear();
          }
        }
      })().catch(() => {});
      await nc.flush();
    },
    async stop(): Promise<void> {
      statusLoop?.stop();
      await Promise.all(subs.map((s) => (s.isClosed() ? undefined : s.drain().catch(() => {}))));
      await flusher?.stop();
      flusher = null;
    },
  };
}
export type KeysService = ReturnType<typeof createKeysService>;
