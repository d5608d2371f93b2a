import { subjects } from "@riskinmind/contracts";
import type { Logger, Metrics, Sql } from "@riskinmind/runtime";
import type { NatsConnection, Subscription } from "nats";
import { createAuthenticator } from "./auth/jwt";
import { TokenCache } from "./auth/token-cache";
import { DbHealth } from "./db-health";
import { buildEdge } from "./edge";
import type { KeysConfig } from "./env";
import { KeyEvents } from "./events/key-events";
import { CurrentKeyCache } from "./keys/current-cache";
import { serveKeyLookups } from "./lookup/responder";
import { VerifyCache } from "./verify/cache";
import { LastUsed } from "./verify/last-used";
import { createVerifyMetrics } from "./verify/metrics";
import { serveVerify } from "./verify/responder";

export interface KeysServiceDeps {
  sql: Sql;
  nc: NatsConnection;
  log: Logger;
  metrics: Metrics;
  config: KeysConfig;
}

export type KeysApp = ReturnType<typeof buildEdge>;

/**
 * The keys service: the HTTP edge plus the keys.verify and keys.lookup
 * responders, sharing one verification cache; the edge also caches verified
 * JWTs and each owner's current key. Key-change events (announce, listen,
 * poll, reconnect) live in events/key-events.ts. `start()` subscribes on
 * NATS; `stop()` drains those subscriptions and writes the last last_used_at
 * batch. The caller owns sql, nc and the listening socket.
 */
export function createKeysService(deps: KeysServiceDeps) {
  const { sql, nc, log, config } = deps;
  const topo = subjects({ prefix: config.NATS_SUBJECT_PREFIX, stream: config.USAGE_STREAM });
  const cache = new VerifyCache(config.VERIFY_CACHE_MAX);
  const current = new CurrentKeyCache(config.CURRENT_KEY_CACHE_MAX, config.CURRENT_KEY_CACHE_TTL_MS);
  const tokens = new TokenCache();
  const db = new DbHealth();
  const lastUsed = new LastUsed({ sql, log, current });
  const events = new KeyEvents({ nc, sql, log, subjects: topo, cache, current, pollMs: config.REVOCATION_POLL_MS });
  const auth = createAuthenticator(config, tokens);
  const app = buildEdge({ ...deps, topo, auth, current, db, events });
  const verifyMetrics = createVerifyMetrics(deps.metrics);
  let subs: Subscription[] = [];

  return {
    app,
    cache,
    /** The per-owner `GET /api/v1/keys/` cache (its stats() count database reads). */
    current,
    /** Verified JWTs. */
    tokens,
    async start(): Promise<void> {
      subs = [serveVerify({ nc, sql, log, cache, lastUsed, db, config, subjects: topo, metrics: verifyMetrics }), serveKeyLookups({ nc, sql, log, subject: topo.keyLookup })];
      events.start();
      lastUsed.start();
      await nc.flush();
    },
    async stop(): Promise<void> {
      await events.stop();
      await Promise.all(subs.map((s) => (s.isClosed() ? undefined : s.drain().catch(() => {}))));
      subs = [];
      await lastUsed.stop();
    },
  };
}
export type KeysService = ReturnType<typeof createKeysService>;
