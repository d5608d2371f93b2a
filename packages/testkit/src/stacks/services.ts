/**
 * The one in-process builder of each service, shared by every in-process
 * stack: the real app objects on a test's database and topology, each
 * connecting to NATS as its own identity (so the server's permissions apply
 * as in production) and reconnecting as a service does.
 */
import postgres from "postgres";
import { connect, type NatsConnection } from "nats";
import type { Topology } from "@riskinmind/contracts";
import { createLogger, createMetrics, createSql, serve, type Logger, type Sql } from "@riskinmind/runtime";
import { createKeysService, type KeysService } from "@riskinmind/keys-service/src/app";
import { keysEnv, type KeysConfig } from "@riskinmind/keys-service/src/env";
import { createUsageService, type UsageService } from "@riskinmind/usage-service/src/app";
import { client, type Client } from "../client";
import type { TestDb } from "../db";
import type { NatsAccess } from "../nats";
import { serviceEnv } from "../procs";

/** Service connections survive a NATS restart, as main.ts's do. */
export const RECONNECTING = { maxReconnectAttempts: -1, reconnectTimeWait: 250 };

export interface KeysInstance extends Client {
  service: KeysService;
  nc: NatsConnection;
  sql: Sql;
  config: KeysConfig;
  close(): Promise<void>;
}

/**
 * A keys service, served over HTTP as main.ts serves it (Host normalisation,
 * production error mode) unless `listen: false` (it then answers NATS only).
 */
export async function startKeys(o: { db: TestDb; topo: Topology; nats: NatsAccess; env?: Record<string, string>; listen?: boolean }): Promise<KeysInstance> {
  const config = keysEnv.parse({ ...serviceEnv(o.db, o.topo), NATS_URL: o.nats.url("keys"), PORT: "0", ...o.env });
  const sql = createSql(config.DATABASE_URL, { max: config.DB_POOL_MAX });
  const nc = await connect(o.nats.options("keys", { ...RECONNECTING, name: "test-keys" }));
  const service = createKeysService({ sql, nc, log: createLogger("keys", "silent"), metrics: createMetrics("keys"), config });
  await service.start();
  const server = o.listen === false ? undefined : serve(service.app, { port: 0, hostname: "127.0.0.1" });
  let closed = false;
  return {
    ...client(server ? `http://127.0.0.1:${server.port}` : service.app),
    service,
    nc,
    sql,
    config,
    async close() {
      if (closed) return;
      closed = true;
      await server?.stop(true);
      await service.stop();
      await nc.close();
      await sql.end({ timeout: 1 });
    },
  };
}

export type UsageConfig = Parameters<typeof createUsageService>[0]["config"];

/** The usage service's settings for an in-process stack on `topo`. */
export function usageTestConfig(topo: Topology, overrides: Partial<UsageConfig> = {}): UsageConfig {
  return {
    NATS_SUBJECT_PREFIX: topo.prefix,
    USAGE_STREAM: topo.stream,
    NATS_STREAM_REPLICAS: 1,
    USAGE_ACK_WAIT_MS: 30_000,
    INGEST_BATCH_MAX: 500,
    INGEST_BATCH_WAIT_MS: 5,
    INGEST_LANES: 2,
    USAGE_STREAM_MAX_AGE_HOURS: 1,
    KEY_LOOKUP_TIMEOUT_MS: 2000,
    KEY_OWNER_CACHE_MAX: 10_000,
    USAGE_RETENTION_DAYS: 400,
    ...overrides,
  };
}

export interface UsageInstance {
  service: UsageService;
  /** The read pool when started with `readUrl`. */
  readSql?: Sql | undefined;
  metrics: ReturnType<typeof createMetrics>;
  sql: Sql;
  stop(): Promise<void>;
}

/** A usage service (it creates the usage stream on start). */
/** `readUrl`: a replica's URL for the read paths (DATABASE_READ_URL), pooled as main.ts pools it (application_name usage-read). */
export async function startUsage(o: { db: TestDb; topo: Topology; nats: NatsAccess; config?: Partial<UsageConfig>; log?: Logger; readUrl?: string }): Promise<UsageInstance> {
  const metrics = createMetrics("usage");
  const sql = postgres(o.db.url, { max: 4, onnotice: () => {} });
  const readSql = o.readUrl === undefined ? undefined : createSql(o.readUrl, { max: 4, name: "usage-read" });
  const nc = await connect(o.nats.options("usage", { ...RECONNECTING, name: "test-usage" }));
  const service = createUsageService({ sql, readSql, nc, log: o.log ?? createLogger("usage", "silent"), metrics, config: usageTestConfig(o.topo, o.config) });
  await service.start();
  let stopped = false;
  return {
    service,
    metrics,
    sql,
    readSql,
    async stop() {
      if (stopped) return;
      stopped = true;
      await service.stop();
      await nc.close();
      await sql.end({ timeout: 2 });
      await readSql?.end({ timeout: 2 });
    },
  };
}
