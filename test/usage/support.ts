/**
 * Shared setup for the usage tests: a database and NATS names of their own,
 * in-process usage services built from the real app, a JetStream publisher.
 */
import { connect, type NatsConnection } from "nats";
import postgres from "postgres";
import { subjects, type Topology, type UsageEvent } from "@riskinmind/contracts";
import { createLogger, createMetrics, migrate, type Logger, type Sql } from "@riskinmind/runtime";
import { createUsageService, type UsageService } from "../../services/usage/src/app";
import { createTestDb, natsOptions, testTopology, type TestDb } from "../support/harness";

export const MIGRATIONS = `${import.meta.dir}/../../services/usage/migrations`;

export interface UsageFixture {
  db: TestDb;
  topo: Topology;
  sql: Sql;
  /** The test side's connection (admin): publishes events, inspects the stream. */
  nc: NatsConnection;
  subject: string;
  /** Builds and starts an in-process usage service (stopped by cleanup). */
  startService(opts?: { batchMax?: number; batchWaitMs?: number; log?: Logger }): Promise<RunningService>;
  publish(payload: unknown): Promise<number>;
  publishRaw(data: string | Uint8Array): Promise<number>;
  count(where?: string): Promise<number>;
  cleanup(): Promise<void>;
}

export interface RunningService {
  service: UsageService;
  metrics: ReturnType<typeof createMetrics>;
  sql: Sql;
  stop(): Promise<void>;
}

export async function usageFixture(): Promise<UsageFixture> {
  const db = await createTestDb();
  const topo = testTopology();
  const sql = postgres(db.url, { max: 4, onnotice: () => {} });
  await migrate(sql, "usage", MIGRATIONS);
  const nc = await connect(natsOptions());
  // The services connect as the usage service does: its own identity and inbox.
  const serviceNcs: NatsConnection[] = [];
  const subject = subjects(topo).usageEvents;
  const js = nc.jetstream();
  const running: RunningService[] = [];
  const enc = new TextEncoder();

  const fixture: UsageFixture = {
    db,
    topo,
    sql,
    nc,
    subject,
    async startService(opts = {}) {
      const metrics = createMetrics("usage");
      const ssql = postgres(db.url, { max: 4, onnotice: () => {} });
      const snc = await connect(natsOptions("usage"));
      serviceNcs.push(snc);
      const service = createUsageService({
        sql: ssql,
        nc: snc,
        log: opts.log ?? createLogger("usage", "silent"),
        metrics,
        config: {
          NATS_SUBJECT_PREFIX: topo.prefix,
          USAGE_STREAM: topo.stream,
          INGEST_BATCH_MAX: opts.batchMax ?? 500,
          INGEST_BATCH_WAIT_MS: opts.batchWaitMs ?? 5,
          USAGE_STREAM_MAX_AGE_HOURS: 1,
        },
      });
      await service.start();
      let stopped = false;
      const r: RunningService = {
        service,
        metrics,
        sql: ssql,
        async stop() {
          if (stopped) return;
          stopped = true;
          await service.stop();
          await snc.close();
          await ssql.end({ timeout: 2 });
        },
      };
      running.push(r);
      return r;
    },
    async publish(payload) {
      return fixture.publishRaw(JSON.stringify(payload));
    },
    async publishRaw(data) {
      const ack = await js.publish(subject, typeof data === "string" ? enc.encode(data) : data);
      return ack.seq;
    },
    async count(where = "true") {
      const [row] = await sql.unsafe(`select count(*)::int as n from usage.events where ${where}`);
      return row!.n as number;
    },
    async cleanup() {
      for (const r of running) await r.stop().catch(() => {});
      for (const c of serviceNcs) await c.close().catch(() => {});
      const jsm = await nc.jetstreamManager().catch(() => undefined);
      await jsm?.streams.delete(topo.stream).catch(() => {});
      await nc.close();
      await sql.end({ timeout: 2 });
      await db.drop();
    },
  };
  return fixture;
}

let n = 0;
/** A valid usage event; override any field. */
export function event(over: Partial<UsageEvent> & Record<string, unknown> = {}): UsageEvent {
  n++;
  return {
    keyId: "key_test",
    ownerId: "owner_a",
    endpoint: "/api/v1/loans/predict",
    method: "POST",
    statusCode: 200,
    timestamp: new Date().toISOString(),
    durationMs: 12.5,
    ...over,
  } as UsageEvent;
}

/** The value of a counter/gauge in a registry (summed over label sets matching `labels`). */
export async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .filter((v) => !("metricName" in v) || v.metricName === name)
    .reduce((s, v) => s + v.value, 0);
}

/** A logger whose JSON lines land in `lines`, for assertions on what is logged. */
export function captureLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger("usage", "info", { write: (s: string) => void lines.push(s) });
  return { log, lines };
}
