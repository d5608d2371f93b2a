import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import { subjects, type KeyRevokedEvent, type OwnerKeyChangedEvent } from "@riskinmind/contracts";
import { httpBasics, type Logger, type Metrics, type Sql } from "@riskinmind/runtime";
import type { NatsConnection, Status, Subscription } from "nats";
import { createAuthenticator, type Authenticator } from "./auth/jwt";
import { TokenCache } from "./auth/token-cache";
import type { DbHealth } from "./db-health";
import type { KeysConfig } from "./env";
import { docsAssets, scalarConfig } from "./docs-ui";
import { CurrentKeyCache } from "./keys/current-cache";
import { subscribeOwnerChanges } from "./keys/owner-events";
import type { RevokedRow } from "./keys/repo";
import { keyRoutes } from "./keys/routes";
import { serveKeyLookups } from "./lookup/responder";
import { logsRoute } from "./logs/route";
import { opsRoutes } from "./ops";
import { createInFlightLimit, createRateLimiter } from "./ratelimit";
import { hashToCacheKey, VerifyCache } from "./verify/cache";
import { lastUsedFlusher } from "./verify/last-used";
import { createVerifyMetrics } from "./verify/metrics";
import { startResponders } from "./verify/responder";
import { pollRevocations } from "./verify/revocation-poll";

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
  afterChange(ownerId: string, revoked: RevokedRow | undefined): Promise<void>;
  current: CurrentKeyCache;
  auth: Authenticator;
  db: DbHealth;
}) {
  const topo = subjects({ prefix: d.config.NATS_SUBJECT_PREFIX, stream: d.config.USAGE_STREAM });
  const readLimiter = createRateLimiter(d.config.READ_RATE_LIMIT_PER_MINUTE, Date.now, "reads");
  return new Elysia({ normalize: false })
    .use(
      httpBasics({
        log: d.log,
        metrics: d.metrics,
        htmlPaths: ["/docs"],
        bodyTimeoutMs: d.config.BODY_TIMEOUT_MS,
        // Every route here that takes a body needs a JWT: refuse an anonymous caller before reading a byte of it.
        beforeBody: async (request) => void (await d.auth.ownerOf(request)),
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
    .use(opsRoutes({ sql: d.sql, metrics: d.metrics, natsUp: d.natsUp }))
    .use(
      keyRoutes({
        sql: d.sql,
        auth: d.auth,
        limiter: createRateLimiter(d.config.RATE_LIMIT_PER_MINUTE),
        readLimiter,
        afterChange: d.afterChange,
        current: d.current,
        db: d.db,
      }),
    )
    .use(
      logsRoute({
        nc: d.nc,
        log: d.log,
        auth: d.auth,
        readLimiter,
        inFlight: createInFlightLimit(d.config.LOGS_MAX_IN_FLIGHT_PER_OWNER),
        subject: topo.logsQuery,
        timeoutMs: d.config.LOGS_TIMEOUT_MS,
      }),
    );
}

export type KeysApp = ReturnType<typeof buildApp>;

/**
 * The keys service: the HTTP edge plus the keys.verify responder, sharing one
 * verification cache; the edge also caches verified JWTs and each owner's
 * current key (see auth/token-cache.ts, keys/current-cache.ts). `start()` subscribes on NATS; `stop()` drains those
 * subscriptions and writes the last last_used_at batch. The caller owns sql,
 * nc and the listening socket.
 */
export function createKeysService(deps: KeysServiceDeps) {
  const { sql, nc, log, config } = deps;
  const topo = subjects({ prefix: config.NATS_SUBJECT_PREFIX, stream: config.USAGE_STREAM });
  const cache = new VerifyCache(config.VERIFY_CACHE_MAX);
  const current = new CurrentKeyCache(config.CURRENT_KEY_CACHE_MAX, config.CURRENT_KEY_CACHE_TTL_MS);
  const tokens = new TokenCache();
  const seen = new Set<string>();
  const db: DbHealth = { downUntil: 0 };
  let natsUp = !nc.isClosed();
  const encoder = new TextEncoder();

  /**
   * Runs after a transaction that changed an owner's key committed and before
   * the HTTP answer: the local caches forget the owner (and the revoked key)
   * at once, and the events are on the server (one flush) before the caller
   * hears the answer, so other replicas drop them next.
   */
  const afterChange = async (ownerId: string, row: RevokedRow | undefined): Promise<void> => {
    current.drop(ownerId);
    if (row) cache.drop(row.id, hashToCacheKey(row.key_hash));
    try {
      if (row) {
        const ev: KeyRevokedEvent = {
          keyId: row.id,
          keyHash: row.key_hash.toString("hex"),
          ownerId: row.owner_id,
          revokedAt: (row.revoked_at ?? new Date()).toISOString(),
        };
        nc.publish(topo.keyRevoked, encoder.encode(JSON.stringify(ev)));
      }
      nc.publish(topo.ownerKeyChanged, encoder.encode(JSON.stringify({ ownerId } satisfies OwnerKeyChangedEvent)));
      await Promise.race([nc.flush(), Bun.sleep(FLUSH_TIMEOUT_MS).then(() => Promise.reject(new Error("flush timed out")))]);
    } catch (err) {
      // The revocation is committed; replicas that miss the event clear their caches on reconnect.
      log.warn({ err: { message: (err as Error).message }, keyId: row?.id }, "key change events not confirmed");
    }
  };

  const app = buildApp({ sql, nc, log, metrics: deps.metrics, config, natsUp: () => natsUp && !nc.isClosed(), afterChange, current, auth: createAuthenticator(config, tokens), db });
  const verifyMetrics = createVerifyMetrics(deps.metrics);
  let flusher: ReturnType<typeof lastUsedFlusher> | null = null;
  let subs: Subscription[] = [];
  let statusLoop: { stop(): void } | null = null;
  let poller: { stop(): void } | null = null;

  return {
    app,
    cache,
    /** The per-owner `GET /api/v1/keys/` cache (its stats() count database reads). */
    current,
    /** Verified JWTs. */
    tokens,
    async start(): Promise<void> {
      subs = startResponders({ nc, sql, log, cache, seen, db, config, subjects: topo, metrics: verifyMetrics });
      subs.push(subscribeOwnerChanges({ nc, subject: topo.ownerKeyChanged, current, log }));
      subs.push(serveKeyLookups({ nc, sql, log, subject: topo.keyLookup }));
      flusher = lastUsedFlusher({
        sql,
        log,
        seen,
        onFlushed: (rows) => {
          for (const r of rows) if (r.last_used_at) current.touch(r.owner_id, r.id, r.last_used_at.toISOString());
        },
      });
      poller = pollRevocations({
        sql,
        log,
        intervalMs: config.REVOCATION_POLL_MS,
        onRevoked: (row) => {
          current.drop(row.owner_id);
          cache.drop(row.id, hashToCacheKey(row.key_hash));
          // Re-announced for the guards, which have no database: harmless when
          // the first broadcast did arrive (dropping a key twice changes nothing).
          const ev: KeyRevokedEvent = { keyId: row.id, keyHash: row.key_hash.toString("hex"), ownerId: row.owner_id, revokedAt: row.revoked_at!.toISOString() };
          if (!nc.isClosed()) nc.publish(topo.keyRevoked, encoder.encode(JSON.stringify(ev)));
        },
      });
      const status = nc.status() as AsyncIterable<Status> & { stop(): void };
      statusLoop = status;
      (async () => {
        for await (const s of status) {
          if (s.type === "disconnect") natsUp = false;
          if (s.type === "reconnect") {
            natsUp = true;
            // Revocation and owner-changed events sent while we were away are lost: start over.
            cache.clear();
            current.clear();
          }
        }
      })().catch(() => {});
      await nc.flush();
    },
    async stop(): Promise<void> {
      statusLoop?.stop();
      poller?.stop();
      await Promise.all(subs.map((s) => (s.isClosed() ? undefined : s.drain().catch(() => {}))));
      await flusher?.stop();
      flusher = null;
    },
  };
}
export type KeysService = ReturnType<typeof createKeysService>;
