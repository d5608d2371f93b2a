/**
 * The real services as child processes (keys, usage, the example behind a
 * guard), each connecting as its own NATS identity: the stack of the fault,
 * security, fuzz and soak tests. `nats`/`databaseUrl` point the services
 * somewhere else (startOwnNats, a Postgres relay); the run's servers are never touched.
 */
import postgres from "postgres";
import { connect, type NatsConnection } from "nats";
import type { Topology, VerifyReply } from "@riskinmind/contracts";
import { verifyKey } from "../bus";
import { client, type Client } from "../client";
import { createTestDb, type TestDb } from "../db";
import { type NatsAccess, type OwnNats, startOwnNats, testNats, testTopology } from "../nats";
import { forFile } from "../per-file";
import { freePort } from "../ports";
import { ENTRY, IDENTITY, serviceEnv, startService, type Child } from "../procs";
import { RECONNECTING } from "./services";

export interface Svc extends Client {
  child: Child;
  port: number;
  pid: number;
  alive(): boolean;
}

/** Spawns one of our services and waits for its /health. */
export async function spawnSvc(entry: string, env: Record<string, string>, port = freePort()): Promise<Svc> {
  const child = await startService(entry, env, port, 20_000);
  return {
    ...client(`http://127.0.0.1:${port}`),
    child,
    port,
    pid: child.proc.pid,
    alive: () => child.proc.exitCode === null && child.proc.signalCode === null,
  };
}

export interface Deployment {
  db: TestDb;
  topo: Topology;
  /** Test-side pool on the real database (not through any relay). */
  sql: postgres.Sql;
  /** Test-side NATS connection (admin, on the deployment's NATS). */
  nc: NatsConnection;
  /** The deployment's NATS server. */
  nats: NatsAccess;
  env(extra?: Record<string, string>): Record<string, string>;
  keys?: Svc;
  usage?: Svc;
  example?: Svc;
  spawn(which: keyof typeof ENTRY, extra?: Record<string, string>): Promise<Svc>;
  /** keys.verify over the deployment's NATS about a key (as its SHA-256), or a raw payload. */
  verify(apiKey: string | undefined, raw?: Uint8Array | string): Promise<VerifyReply & Record<string, any>>;
  close(): Promise<void>;
}

/** A database and topology of the test's own plus the services it asks for, started in the order given. */
export async function deploy(opts: { nats?: NatsAccess; databaseUrl?: (db: TestDb) => string; services?: (keyof typeof ENTRY)[]; extra?: Record<string, string> } = {}): Promise<Deployment> {
  const db = await createTestDb();
  const topo = testTopology();
  const nats = opts.nats ?? testNats();
  const sql = postgres(db.url, { max: 4, onnotice: () => {} });
  const nc = await connect(nats.options("admin", RECONNECTING));
  const spawned: Svc[] = [];
  const d: Deployment = {
    db,
    topo,
    sql,
    nc,
    nats,
    env(extra = {}) {
      return serviceEnv(db, topo, {
        // the deployment's server; spawn() puts each service's own identity here
        NATS_URL: nats.url("keys"),
        ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl(db) } : {}),
        RATE_LIMIT_PER_MINUTE: "1000000",
        ...opts.extra,
        ...extra,
      });
    },
    async spawn(which, extra = {}) {
      const s = await spawnSvc(ENTRY[which], d.env({ NATS_URL: nats.url(IDENTITY[which]), ...extra }));
      spawned.push(s);
      return s;
    },
    verify: (apiKey, raw) => verifyKey(nc, topo, apiKey, raw),
    async close() {
      for (const s of spawned.reverse()) if (s.alive()) await s.child.kill("SIGKILL").catch(() => {});
      const jsm = await nc.jetstreamManager().catch(() => undefined);
      await jsm?.streams.delete(topo.stream).catch(() => {});
      await nc.close().catch(() => {});
      await sql.end({ timeout: 2 }).catch(() => {});
      await db.drop().catch(() => {});
    },
  };
  // Usage first: it creates the stream the guard publishes to; keys then serves /logs.
  for (const which of opts.services ?? []) d[which] = await d.spawn(which);
  return d;
}

/** A deployment on a nats-server of the file's own (for files that stop, restart or inspect that server), for one test file. */
export function useOwnNatsDeployment(services: (keyof typeof ENTRY)[]): { nats: OwnNats; d: Deployment } {
  return forFile(
    async () => {
      const nats = await startOwnNats();
      return { nats, d: await deploy({ nats, services }) };
    },
    async ({ nats, d }) => {
      await d.close();
      await nats.stop();
    },
  );
}
