/**
 * Shared setup for the usage tests: a database and NATS names of their own,
 * in-process usage services built from the real app, a JetStream publisher,
 * and a real keys service (same database, schema "keys") that answers
 * keys.lookup for the keys the test publishes with.
 */
import { createHash } from "node:crypto";
import { connect, type NatsConnection } from "nats";
import postgres from "postgres";
import { isStorableText, subjects, type Topology, type UsageEvent } from "@riskinmind/contracts";
import { createLogger, createMetrics, createSql, migrate, type Logger, type Sql } from "@riskinmind/runtime";
import { createKeysService, type KeysService } from "../../services/keys/src/app";
import { keysEnv } from "../../services/keys/src/env";
import { insertKey, lockOwner, revokeActive } from "../../services/keys/src/keys/repo";
import { createUsageService, type UsageService } from "../../services/usage/src/app";
import { createTestDb, natsOptions, serviceEnv, testTopology, type TestDb } from "../support/harness";

export const MIGRATIONS = `${import.meta.dir}/../../services/usage/migrations`;
export const KEYS_MIGRATIONS = `${import.meta.dir}/../../services/keys/migrations`;

export interface UsageFixture {
  db: TestDb;
  topo: Topology;
  sql: Sql;
  /** The test side's connection (admin): publishes events, inspects the stream. */
  nc: NatsConnection;
  subject: string;
  /** Builds and starts an in-process usage service (stopped by cleanup). */
  startService(opts?: { batchMax?: number; batchWaitMs?: number; log?: Logger; lookupTimeoutMs?: number }): Promise<RunningService>;
  /** The in-process keys service answering keys.lookup (stop/start it to simulate its absence). */
  keys: KeysService;
  /** Issues keys with these ids to these owners in the keys table (through the keys repo). */
  issueKeys(pairs: Iterable<readonly [keyId: string, ownerId: string]>): Promise<void>;
  /**
   * Publishes to usage.events. Unless `issue: false`, first issues every
   * (keyId, ownerId) pair of the payload whose key does not exist yet, so the
   * events are genuine; a pair whose key belongs to someone else stays forged.
   */
  publish(payload: unknown, opts?: { issue?: boolean }): Promise<number>;
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
  await migrate(sql, "keys", KEYS_MIGRATIONS);
  const nc = await connect(natsOptions());
  // The services connect as the real ones do: each its own identity and inbox.
  const serviceNcs: NatsConnection[] = [];
  const keysNc = await connect(natsOptions("keys"));
  serviceNcs.push(keysNc);
  const keysSql = createSql(db.url, { max: 2 });
  const keys = createKeysService({
    sql: keysSql,
    nc: keysNc,
    log: createLogger("keys", "silent"),
    metrics: createMetrics("keys"),
    config: keysEnv.parse({ ...serviceEnv(db, topo), PORT: "0" }),
  });
  await keys.start();
  const issued = new Map<string, string>();
  let issuing: Promise<void> = Promise.resolve();
  async function issueNow(pairs: Iterable<readonly [string, string]>): Promise<void> {
    for (const [keyId, ownerId] of pairs) {
      if (issued.has(keyId)) continue;
      await sql.begin(async (tx) => {
        // The owner's previous key is revoked, as regenerate would: any number of keys per owner, one active.
        await lockOwner(tx, ownerId);
        await revokeActive(tx, ownerId);
        const hash = createHash("sha256").update(`test-key:${keyId}`).digest();
        await insertKey(tx, { id: keyId, owner_id: ownerId, key_hash: hash, key_last4: keyId.slice(-4).padStart(4, "0"), label: null });
      });
      issued.set(keyId, ownerId);
    }
  }

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
    keys,
    issueKeys(pairs) {
      // One at a time: concurrent publishes may name the same new key.
      const run = issuing.then(() => issueNow(pairs));
      issuing = run.catch(() => {});
      return run;
    },
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
        config: usageTestConfig(topo, {
          INGEST_BATCH_MAX: opts.batchMax ?? 500,
          INGEST_BATCH_WAIT_MS: opts.batchWaitMs ?? 5,
          KEY_LOOKUP_TIMEOUT_MS: opts.lookupTimeoutMs ?? 2000,
        }),
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
    async publish(payload, opts = {}) {
      if (opts.issue !== false) await fixture.issueKeys(genuinePairs(payload, issued));
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
      await keys.stop().catch(() => {});
      await keysSql.end({ timeout: 1 });
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

/** A key id (issued format) derived from the owner: the key a test owner's events carry by default. */
export function keyIdFor(ownerId: string): string {
  const b = createHash("sha256").update(ownerId).digest();
  const abc = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let id = "key_";
  for (let i = 0; i < 22; i++) id += abc[b[i]! % 62];
  return id;
}

/** The (keyId, ownerId) pairs of a payload that can be issued and are not yet. */
function genuinePairs(payload: unknown, issued: Map<string, string>): [string, string][] {
  const items = Array.isArray(payload) ? payload : [payload];
  const out = new Map<string, string>();
  for (const e of items) {
    const { keyId, ownerId } = (e ?? {}) as { keyId?: unknown; ownerId?: unknown };
    if (typeof keyId !== "string" || typeof ownerId !== "string") continue;
    if (!/^key_[0-9A-Za-z]+$/.test(keyId) || ownerId.length < 1 || ownerId.length > 255 || !isStorableText(ownerId)) continue;
    if (issued.has(keyId) || out.has(keyId)) continue;
    out.set(keyId, ownerId);
  }
  return [...out];
}

/** A valid usage event (its key is the owner's, see keyIdFor; a fresh id); override any field. */
export function event(over: Partial<UsageEvent> & Record<string, unknown> = {}): UsageEvent {
  const ownerId = (over.ownerId as string | undefined) ?? "owner_a";
  return {
    id: crypto.randomUUID(),
    keyId: keyIdFor(ownerId),
    ownerId,
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

/** The usage service's settings for an in-process test stack on `topo`. */
export function usageTestConfig(topo: Topology, overrides: Partial<Parameters<typeof createUsageService>[0]["config"]> = {}): Parameters<typeof createUsageService>[0]["config"] {
  return {
    NATS_SUBJECT_PREFIX: topo.prefix,
    USAGE_STREAM: topo.stream,
    INGEST_BATCH_MAX: 500,
    INGEST_BATCH_WAIT_MS: 5,
    USAGE_STREAM_MAX_AGE_HOURS: 1,
    KEY_LOOKUP_TIMEOUT_MS: 2000,
    KEY_OWNER_CACHE_MAX: 10_000,
    ...overrides,
  };
}
