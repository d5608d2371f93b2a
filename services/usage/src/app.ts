import { Elysia } from "elysia";
import type { NatsConnection } from "nats";
import { NATS_SERVICE, QUEUE, subjects, USAGE_CONSUMER } from "@riskinmind/contracts";
import { httpBasics, opsRoutes, startNatsService, type Logger, type Metrics, type NatsService, type Sql } from "@riskinmind/runtime";
import { topologyOf, type UsageConfig } from "./env";
import { ensureIngestConsumer, ensureUsageStream } from "./ingest/stream";
import { Ingestor } from "./ingest/consumer";
import { OwnerResolver } from "./ingest/owners";
import { aggregateEndpoint } from "./aggregate/responder";
import { logsQueryEndpoint } from "./logs/responder";
import { createUsageMetrics } from "./metrics";
import { storageMaintenance } from "./storage/maintenance";
import pkg from "../package.json";

export interface UsageServiceDeps {
  /** The primary: ingest, partitions, retention. */
  sql: Sql;
  /**
   * A streaming replica's pool for the read paths (logs pages, export pages,
   * aggregates); the primary when absent. No fallback to the primary when it
   * is down: reads answer DATABASE_UNAVAILABLE and /ready says postgres-read
   * is down (README, Scaling, says why).
   */
  readSql?: Sql | undefined;
  nc: NatsConnection;
  log: Logger;
  metrics: Metrics;
  config: Pick<
    UsageConfig,
    | "NATS_SUBJECT_PREFIX"
    | "USAGE_STREAM"
    | "NATS_STREAM_REPLICAS"
    | "USAGE_ACK_WAIT_MS"
    | "INGEST_BATCH_MAX"
    | "INGEST_BATCH_WAIT_MS"
    | "INGEST_LANES"
    | "USAGE_STREAM_MAX_AGE_HOURS"
    | "KEY_LOOKUP_TIMEOUT_MS"
    | "KEY_OWNER_CACHE_MAX"
    | "USAGE_RETENTION_DAYS"
  >;
}

const LAG_POLL_MS = 5000;

/**
 * The usage service: the JetStream ingest loop, the `usage.logs.query` and
 * `usage.logs.aggregate` responders, and a small HTTP app for /health, /ready and /metrics.
 * `start()` ensures the stream and consumer (idempotent) and begins work;
 * `stop()` stops pulling, commits and acks the batch in hand, and stops
 * answering queries. The NATS connection and pool stay the caller's.
 */
export function createUsageService(deps: UsageServiceDeps) {
  const { sql, nc, log, metrics, config } = deps;
  const readSql = deps.readSql ?? sql;
  const m = createUsageMetrics(metrics);
  const topo = topologyOf(config);
  const subj = subjects(topo);
  // Outlives stop()/start(): key owners never change, the cache stays good.
  const owners = new OwnerResolver({
    nc,
    subject: subj.keyLookup,
    timeoutMs: config.KEY_LOOKUP_TIMEOUT_MS,
    max: config.KEY_OWNER_CACHE_MAX,
  });
  // Partitions ahead and retention (services/usage/src/storage).
  const storage = storageMaintenance({ sql, log, retentionDays: config.USAGE_RETENTION_DAYS });
  let ingestor: Ingestor | undefined;
  let responders: NatsService | undefined;
  let lagTimer: ReturnType<typeof setInterval> | undefined;

  const app = new Elysia({ normalize: false }).use(httpBasics({ log, metrics })).use(opsRoutes({ service: "usage", metrics, sql, readSql: deps.readSql, nc }));

  async function pollLag(): Promise<void> {
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.consumers.info(topo.stream, USAGE_CONSUMER);
      m.consumerLag.set(info.num_pending);
    } catch {
      // informational only; the next poll tries again
    }
  }

  return {
    app,
    /** This replica's id in $SRV discovery and stats (undefined until started). */
    get natsServiceId(): string | undefined {
      return responders?.id;
    },
    /** The store's upkeep: partitions ahead and the retention sweep. */
    storage,
    async start(): Promise<void> {
      const jsm = await nc.jetstreamManager();
      await ensureUsageStream(jsm, {
        stream: topo.stream,
        subject: subj.usageEvents,
        maxAgeHours: config.USAGE_STREAM_MAX_AGE_HOURS,
        replicas: config.NATS_STREAM_REPLICAS,
      });
      await ensureIngestConsumer(jsm, { stream: topo.stream, subject: subj.usageEvents, ackWaitMs: config.USAGE_ACK_WAIT_MS });
      // The NATS service `riskinmind-usage` (endpoint logs-query, queue group usage), discoverable under $SRV.
      const srv = await startNatsService(
        nc,
        { name: NATS_SERVICE.usage, version: pkg.version, description: "RiskInMind usage: pages and aggregates of an owner's usage logs", queue: QUEUE.usage },
        log,
      );
      srv.addEndpoint(logsQueryEndpoint({ sql: readSql, log, m, subject: subj.logsQuery }));
      // A reply must fit in one message: the server's max_payload (1 MiB unless configured).
      srv.addEndpoint(aggregateEndpoint({ sql: readSql, log, m, subject: subj.logsAggregate, maxPayload: nc.info?.max_payload ?? 1024 * 1024 }));
      responders = srv;
      await srv.ready();
      // Before the first batch: every month an event may be ingested into has its partition.
      await storage.ensure();
      ingestor = new Ingestor(
        { js: nc.jetstream(), nc, sql, log, m, owners, onNoPartition: () => storage.ensureSoon() },
        { stream: topo.stream, batchMax: config.INGEST_BATCH_MAX, batchWaitMs: config.INGEST_BATCH_WAIT_MS, lanes: config.INGEST_LANES },
      );
      await ingestor.start();
      storage.start();
      void pollLag();
      lagTimer = setInterval(() => void pollLag(), LAG_POLL_MS);
      log.info({ stream: topo.stream, subject: subj.usageEvents }, "usage ingestion started");
    },
    async stop(): Promise<void> {
      if (lagTimer) clearInterval(lagTimer);
      lagTimer = undefined;
      await ingestor?.stop();
      ingestor = undefined;
      await storage.stop();
      // Returns once every query it took is answered.
      await responders?.stop();
      responders = undefined;
      // Acks are fire-and-forget publishes: make sure the last ones reached the server.
      if (!nc.isClosed()) await nc.flush().catch(() => {});
    },
  };
}
export type UsageService = ReturnType<typeof createUsageService>;
