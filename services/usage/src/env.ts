import { z } from "zod";
import { field, natsFields, parseConfig, runFields } from "@riskinmind/runtime";
import type { Topology } from "@riskinmind/contracts";

/** The usage service's environment, parsed once at start. */
export const UsageEnv = z.object({
  DATABASE_URL: field.url(["postgres:", "postgresql:"]),
  /**
   * Optional: a streaming replica of DATABASE_URL's database. When set, the
   * read paths (usage.logs.query, usage.logs.aggregate, export pages) use it;
   * ingest, partitions, retention and migrations stay on DATABASE_URL.
   */
  DATABASE_READ_URL: field.optionalUrl(["postgres:", "postgresql:"]),
  ...natsFields,
  /** HTTP serves /health, /ready and /metrics only; logs are read over NATS. */
  PORT: field.port(3001),
  HOST: z.string().min(1).default("0.0.0.0"),
  LOG_LEVEL: field.logLevel(),
  ...runFields,
  /** A batch is written when it holds this many events... */
  INGEST_BATCH_MAX: field.int(2000, 1, 10_000),
  /** ...or this long after its first event, whichever comes first. */
  INGEST_BATCH_WAIT_MS: field.int(5, 0, 10_000),
  /** Transactions one batch is written as, each for the owners of its lane (consumer.ts byLane). */
  INGEST_LANES: field.int(2, 1, 16),
  /**
   * How long a message handed to a replica may stay unacknowledged before
   * JetStream hands it out again. When a NATS node dies, deliveries and acks
   * on their way through it are lost: those messages come back after this
   * long (the event ids make the second delivery harmless). It bounds how
   * late events arrive after a node failure, never whether.
   */
  USAGE_ACK_WAIT_MS: field.int(30_000, 1_000, 600_000),
  /** How long JetStream keeps events: the buffer that covers a database outage. */
  USAGE_STREAM_MAX_AGE_HOURS: field.int(168, 1, 24 * 365),
  DB_POOL_MAX: field.int(10, 1, 200),
  /** How long ingestion waits for keys.lookup before it treats the keys service as away (the batch then waits, nothing is refused). */
  KEY_LOOKUP_TIMEOUT_MS: field.int(2_000, 50, 60_000),
  /** Usage rows are kept this many days: older whole monthly partitions are dropped (hourly sweep). */
  USAGE_RETENTION_DAYS: field.int(400, 1, 3650),
  /** Key → owner pairs remembered (an owner never changes once a key is issued). */
  KEY_OWNER_CACHE_MAX: field.int(100_000, 1, 50_000_000),
});
export type UsageConfig = z.infer<typeof UsageEnv>;

/** Parses the environment (exits with one line on a bad value). */
export function loadUsageConfig(env: Record<string, string | undefined> = process.env): UsageConfig {
  return parseConfig(UsageEnv, env);
}

/** NATS names this deployment uses. */
export function topologyOf(config: Pick<UsageConfig, "NATS_SUBJECT_PREFIX" | "USAGE_STREAM">): Topology {
  return { prefix: config.NATS_SUBJECT_PREFIX, stream: config.USAGE_STREAM };
}
