/**
 * The real services in-process for the guard tests: the keys service (and,
 * when asked, the usage service) on one test database and topology, plus the
 * example loans API behind a real guard. Nothing here answers keys.verify but
 * the keys service itself. Each component connects as its own NATS identity
 * (keys, usage, guard), so the server's permissions apply as in production;
 * the test side has an admin connection of its own.
 */
import { join } from "node:path";
import { connect, type NatsConnection } from "nats";
import { createLogger, createMetrics, createSql, migrate, type Sql } from "@riskinmind/runtime";
import { subjects, type Topology } from "@riskinmind/contracts";
import type { GuardOptions } from "@riskinmind/guard";
import { createKeysService } from "../../services/keys/src/app";
import { createUsageService } from "../../services/usage/src/app";
import { keysEnv } from "../../services/keys/src/env";
import { authHeader, createTestDb, serviceEnv, testNats, testTopology, token, type NatsAccess, type TestDb } from "../support/harness";
import { buildLoans, createUsageStream } from "./support";
import { usageTestConfig } from "../usage/support";

export const KEYS_MIGRATIONS = join(import.meta.dir, "../../services/keys/migrations");
export const USAGE_MIGRATIONS = join(import.meta.dir, "../../services/usage/migrations");

export interface Stack {
  db: TestDb;
  topo: Topology;
  /** The test side's connection (admin): stream reads, spies, anything a test needs. */
  nc: NatsConnection;
  /** The guard's own connection (identity "guard"). */
  guardNc: NatsConnection;
  keysUrl: string;
  loansUrl: string;
  loans: ReturnType<typeof buildLoans>;
  /** Registered closers run in reverse order by close(). */
  onClose(fn: () => Promise<unknown>): void;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Another nats-server (started from nats/nats-server.conf) instead of the run's. */
  nats?: NatsAccess;
  guard?: Partial<GuardOptions>;
  keysEnv?: Record<string, string>;
  /** Also run the real usage service (it creates the usage stream; close() deletes it). */
  withUsage?: boolean;
  /** Without the usage service: create a bare usage stream so tests can read what the guard publishes (close() deletes it). */
  usageStream?: boolean;
}

/** Keys service + example API on a fresh database and topology. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const nats = opts.nats ?? testNats();
  const reconnecting = { maxReconnectAttempts: -1, reconnectTimeWait: 250 };
  const closers: (() => Promise<unknown>)[] = [];
  const db = await createTestDb();
  closers.push(() => db.drop());
  const topo = testTopology();
  const sql: Sql = createSql(db.url, { max: 4 });
  closers.push(() => sql.end({ timeout: 1 }));
  await migrate(sql, "keys", KEYS_MIGRATIONS);

  const keysNc = await connect(nats.options("keys", { ...reconnecting, name: "test-keys" }));
  closers.push(() => keysNc.close());
  const config = keysEnv.parse({ ...serviceEnv(db, topo), NATS_URL: nats.url("keys"), PORT: "0", RATE_LIMIT_PER_MINUTE: "1000", ...opts.keysEnv });
  const keys = createKeysService({ sql, nc: keysNc, log: createLogger("keys", "silent"), metrics: createMetrics("keys"), config });
  await keys.start();
  closers.push(() => keys.stop());
  keys.app.listen({ port: 0, hostname: "127.0.0.1" });
  closers.push(() => keys.app.stop(true));

  const nc = await connect(nats.options("admin", { ...reconnecting, name: "test-side" }));
  closers.push(() => nc.close());
  const guardNc = await connect(nats.options("guard", { ...reconnecting, name: "test-guard" }));
  closers.push(() => guardNc.close());

  if (opts.withUsage) {
    await migrate(sql, "usage", USAGE_MIGRATIONS);
    const usageSql = createSql(db.url, { max: 4 });
    closers.push(() => usageSql.end({ timeout: 1 }));
    const usageNc = await connect(nats.options("usage", { ...reconnecting, name: "test-usage" }));
    closers.push(() => usageNc.close());
    const usage = createUsageService({
      sql: usageSql,
      nc: usageNc,
      log: createLogger("usage", "silent"),
      metrics: createMetrics("usage"),
      config: usageTestConfig(topo, { KEY_OWNER_CACHE_MAX: 1000 }),
    });
    closers.push(async () => (await nc.jetstreamManager()).streams.delete(topo.stream));
    await usage.start();
    closers.push(() => usage.stop());
  }
  if (opts.usageStream && !opts.withUsage) {
    const jsm = await nc.jetstreamManager();
    await createUsageStream(jsm, topo, subjects(topo).usageEvents);
    closers.push(() => jsm.streams.delete(topo.stream));
  }
  const loans = buildLoans(guardNc, topo, opts.guard);
  closers.push(() => loans.guard.close(2_000));
  loans.app.listen({ port: 0, hostname: "127.0.0.1" });
  closers.push(() => loans.app.stop(true));

  return {
    db,
    topo,
    nc,
    guardNc,
    keysUrl: `http://127.0.0.1:${keys.app.server!.port}`,
    loansUrl: `http://127.0.0.1:${loans.app.server!.port}`,
    loans,
    onClose: (fn) => closers.push(fn),
    async close() {
      for (const c of closers.reverse()) await c().catch(() => {});
    },
  };
}

/** A fresh owner and its JWT header. */
export async function newOwner(): Promise<{ sub: string; headers: Record<string, string> }> {
  const sub = `owner_${Math.random().toString(36).slice(2, 10)}`;
  return { sub, headers: authHeader(await token(sub)) };
}

/** fetch + parsed JSON. */
export async function http(url: string, init: { method?: string; headers?: Record<string, string>; json?: unknown } = {}): Promise<{ status: number; body: any }> {
  const headers = { ...(init.headers ?? {}) };
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, { method: init.method ?? "GET", headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** Issues a key through the keys service's HTTP API. */
export async function issueKey(stack: Stack, owner: { headers: Record<string, string> }): Promise<{ apiKey: string; keyId: string }> {
  const r = await http(`${stack.keysUrl}/api/v1/keys/generate`, { method: "POST", headers: owner.headers, json: {} });
  if (r.status !== 201) throw new Error(`generate failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { apiKey: r.body.data.apiKey, keyId: r.body.data.keyId };
}
