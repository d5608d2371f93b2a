/**
 * The full trio in-process: the keys service (and, when asked, the usage
 * service) on one test database and topology, plus the example loans API
 * behind a real guard. Nothing here answers keys.verify but the keys service
 * itself; the test side has an admin connection of its own.
 */
import { connect, type NatsConnection } from "nats";
import { subjects, type Topology } from "@riskinmind/contracts";
import type { GuardOptions } from "@riskinmind/guard";
import { createSql } from "@riskinmind/runtime";
import { client, type Client } from "../client";
import { createTestDb, migrateSchemas, type TestDb } from "../db";
import { createUsageStream, testNats, testTopology, type NatsAccess } from "../nats";
import { loansApp, type LoansApp } from "./loans";
import { RECONNECTING, startKeys, startUsage, type KeysInstance } from "./services";

export interface TrioStack {
  db: TestDb;
  topo: Topology;
  /** The test side's connection (admin): stream reads, spies, anything a test needs. */
  nc: NatsConnection;
  /** The guard's own connection (identity "guard"). */
  guardNc: NatsConnection;
  keys: KeysInstance;
  keysUrl: string;
  /** A client of the example app (its predict route is guarded). */
  example: Client;
  loansUrl: string;
  loans: LoansApp;
  /** Registered closers run in reverse order by close(). */
  onClose(fn: () => Promise<unknown>): void;
  close(): Promise<void>;
}

export interface TrioOptions {
  /** Another nats-server (startOwnNats) instead of the run's. */
  nats?: NatsAccess;
  guard?: Partial<GuardOptions>;
  keysEnv?: Record<string, string>;
  /** Also run the real usage service (it creates the usage stream; close() deletes it). */
  withUsage?: boolean;
  /** Without the usage service: create a bare usage stream so tests can read what the guard publishes (close() deletes it). */
  usageStream?: boolean;
}

/** Keys service + example API (+ usage) on a fresh database and topology. */
export async function trioStack(opts: TrioOptions = {}): Promise<TrioStack> {
  const nats = opts.nats ?? testNats();
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    const db = await createTestDb();
    closers.push(() => db.drop());
    const topo = testTopology();
    const sql = createSql(db.url, { max: 2 });
    closers.push(() => sql.end({ timeout: 1 }));
    await migrateSchemas(sql, opts.withUsage ? ["keys", "usage"] : ["keys"]);

    const keys = await startKeys({ db, topo, nats, env: { RATE_LIMIT_PER_MINUTE: "1000", ...opts.keysEnv } });
    closers.push(() => keys.close());
    const nc = await connect(nats.options("admin", { ...RECONNECTING, name: "test-side" }));
    closers.push(() => nc.close());
    const guardNc = await connect(nats.options("guard", { ...RECONNECTING, name: "test-guard" }));
    closers.push(() => guardNc.close());

    if (opts.withUsage) {
      closers.push(async () => (await nc.jetstreamManager()).streams.delete(topo.stream));
      const usage = await startUsage({ db, topo, nats, config: { KEY_OWNER_CACHE_MAX: 1000 } });
      closers.push(() => usage.stop());
    } else if (opts.usageStream) {
      const jsm = await nc.jetstreamManager();
      await createUsageStream(jsm, topo, subjects(topo).usageEvents);
      closers.push(() => jsm.streams.delete(topo.stream));
    }
    const loans = loansApp(guardNc, topo, opts.guard);
    closers.push(() => loans.guard.close(2_000));
    loans.app.listen({ port: 0, hostname: "127.0.0.1" });
    closers.push(() => loans.app.stop(true));
    const loansUrl = `http://127.0.0.1:${loans.app.server!.port}`;

    return { db, topo, nc, guardNc, keys, keysUrl: keys.url, example: client(loansUrl), loansUrl, loans, onClose: (fn) => closers.push(fn), close };
  } catch (e) {
    await close();
    throw e;
  }
}
