import { keyStreamOf, NATS_SERVICE, QUEUE, subjects, type Topology } from "@riskinmind/contracts";
import { startNatsService, type Logger, type Metrics, type NatsService, type Sql } from "@riskinmind/runtime";
import type { NatsConnection } from "nats";
import pkg from "../package.json";
import { createAuthenticator } from "./auth/jwt";
import { TokenCache } from "./auth/token-cache";
import { DbHealth } from "./db-health";
import { buildEdge } from "./edge";
import type { KeysConfig } from "./env";
import { KeyEvents } from "./events/key-events";
import { OutboxPublisher } from "./events/outbox";
import { CurrentKeyCache } from "./keys/current-cache";
import { quotaReader } from "./limits/repo";
import { startLifecycle } from "./lifecycle/sweep";
import { limitsTakeEndpoint } from "./limits/responder";
import { keyLookupEndpoint } from "./lookup/responder";
import { VerifyCache } from "./verify/cache";
import { LastUsed } from "./verify/last-used";
import { createVerifyMetrics } from "./verify/metrics";
import { verifyEndpoint } from "./verify/responder";
import { createWebhooks } from "./webhooks/service";

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
 * poll, reconnect) live in events/key-events.ts. `start()` registers the
 * NATS service `riskinmind-keys` (endpoints verify, lookup and limits-take, discoverable
 * under $SRV); `stop()` stops it once every request it took is answered, and
 * writes the last last_used_at batch. The caller owns sql, nc and the
 * listening socket.
 */
export function createKeysService(deps: KeysServiceDeps) {
  const { sql, nc, log, config } = deps;
  const topology: Topology = { prefix: config.NATS_SUBJECT_PREFIX, stream: config.USAGE_STREAM, keyStream: config.KEY_EVENTS_STREAM };
  const topo = subjects(topology);
  const cache = new VerifyCache(config.VERIFY_CACHE_MAX);
  const current = new CurrentKeyCache(config.CURRENT_KEY_CACHE_MAX, config.CURRENT_KEY_CACHE_TTL_MS);
  const tokens = new TokenCache();
  const db = new DbHealth();
  const lastUsed = new LastUsed({ sql, log, current });
  const events = new KeyEvents({ nc, sql, log, subjects: topo, cache, current, pollMs: config.REVOCATION_POLL_MS });
  const auth = createAuthenticator(config, tokens);
  const quota = quotaReader(sql);
  const outbox = new OutboxPublisher({
    sql,
    nc,
    log,
    topo: topology,
    stream: keyStreamOf(topology),
    maxAgeHours: config.KEY_EVENTS_MAX_AGE_HOURS,
    replicas: config.NATS_STREAM_REPLICAS,
    pollMs: config.OUTBOX_POLL_MS,
  });
  const app = buildEdge({ ...deps, topo, auth, current, db, events, quota, outbox });
  const verifyMetrics = createVerifyMetrics(deps.metrics);
  const webhooks = createWebhooks({ sql, nc, log, config, topo: topology });
  let responders: NatsService | undefined;
  let lifecycle: { stop(): Promise<void> } | undefined;

  return {
    app,
    cache,
    /** The per-owner `GET /api/v1/keys/` cache (its stats() count database reads). */
    current,
    /** The key-events publisher (keys.outbox → JetStream). */
    outbox,
    /** Verified JWTs. */
    tokens,
    /** Webhook fan-out and delivery (webhooks/service.ts). */
    webhooks,
    /** This replica's id in $SRV discovery and stats (undefined until started). */
    get natsServiceId(): string | undefined {
      return responders?.id;
    },
    async start(): Promise<void> {
      // One service, one queue group: replicas share both endpoints' load.
      const srv = await startNatsService(nc, { name: NATS_SERVICE.keys, version: pkg.version, description: "RiskInMind API keys: key verification and key-owner lookups", queue: QUEUE.keys }, log);
      srv.addEndpoint(verifyEndpoint({ sql, log, cache, lastUsed, db, config, subjects: topo, metrics: verifyMetrics }));
      srv.addEndpoint(keyLookupEndpoint({ sql, log, subject: topo.keyLookup }));
      srv.addEndpoint(limitsTakeEndpoint({ sql, log, subject: topo.limitsTake }));
      responders = srv;
      await srv.ready();
      events.start();
      outbox.start();
      lastUsed.start();
      lifecycle = startLifecycle({ sql, log, outbox, intervalMs: config.LIFECYCLE_SWEEP_MS });
      await webhooks.start();
      await nc.flush();
    },
    async stop(): Promise<void> {
      // The background loops finish their round while the responders drain: a
      // sweep waiting on a locked row must not keep the service answering.
      const loops = Promise.all([lifecycle?.stop(), webhooks.stop()]);
      lifecycle = undefined;
      await events.stop();
      await responders?.stop();
      responders = undefined;
      await loops;
      // Last: it publishes what the sweep and the verbs committed up to now.
      await outbox.stop();
      await lastUsed.stop();
    },
  };
}
export type KeysService = ReturnType<typeof createKeysService>;
