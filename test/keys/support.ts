/**
 * Builds the keys service in-process on real Postgres and NATS: one database
 * and one topology per test file, as many instances as a test wants.
 */
import { join } from "node:path";
import { connect, type NatsConnection } from "nats";
import { createLogger, createMetrics, createSql, migrate, serve, type Sql } from "@riskinmind/runtime";
import { hashKey, subjects, type Topology, type VerifyReply } from "@riskinmind/contracts";
import { createKeysService, type KeysService } from "../../services/keys/src/app";
import { keysEnv, type KeysConfig } from "../../services/keys/src/env";
import { authHeader, createTestDb, natsOptions, natsUrl, serviceEnv, testTopology, token, type TestDb } from "../support/harness";

export const MIGRATIONS = join(import.meta.dir, "../../services/keys/migrations");

export interface Instance {
  service: KeysService;
  url: string;
  nc: NatsConnection;
  sql: Sql;
  config: KeysConfig;
  close(): Promise<void>;
}

export interface Env {
  db: TestDb;
  topo: Topology;
  /** A test-side connection (admin) for NATS requests and direct table checks. */
  nc: NatsConnection;
  sql: Sql;
  start(extra?: Record<string, string>): Promise<Instance>;
  /**
   * keys.verify over real NATS about a key, sent as its SHA-256 the way the
   * guard sends it (the key itself never goes on the bus); or a raw payload.
   */
  verify(apiKey: string | undefined, raw?: Uint8Array | string): Promise<VerifyReply>;
  close(): Promise<void>;
}

export async function setupEnv(): Promise<Env> {
  const db = await createTestDb();
  const topo = testTopology();
  const sql = createSql(db.url, { max: 4 });
  await migrate(sql, "keys", MIGRATIONS);
  const nc = await connect(natsOptions());
  const instances: Instance[] = [];
  const subj = subjects(topo);
  return {
    db,
    topo,
    nc,
    sql,
    async start(extra = {}) {
      const config = keysEnv.parse({ ...serviceEnv(db, topo), NATS_URL: natsUrl("keys"), PORT: "0", ...extra });
      const isql = createSql(config.DATABASE_URL, { max: config.DB_POOL_MAX });
      // The instance connects as the keys service does: its own identity, its own inbox.
      const inc = await connect(natsOptions("keys", { maxReconnectAttempts: -1, reconnectTimeWait: 250 }));
      const service = createKeysService({ sql: isql, nc: inc, log: createLogger("keys", "silent"), metrics: createMetrics("keys"), config });
      await service.start();
      // Served as main.ts serves it (Host normalisation, production error mode).
      const server = serve(service.app, { port: 0, hostname: "127.0.0.1" });
      let closed = false;
      const inst: Instance = {
        service,
        url: `http://127.0.0.1:${server.port}`,
        nc: inc,
        sql: isql,
        config,
        async close() {
          if (closed) return;
          closed = true;
          await server.stop(true);
          await service.stop();
          await inc.close();
          await isql.end({ timeout: 1 });
        },
      };
      instances.push(inst);
      return inst;
    },
    async verify(apiKey, raw) {
      if (raw === undefined && apiKey === undefined) throw new Error("verify: a key or a raw payload");
      const payload = raw ?? JSON.stringify({ keyHash: hashKey(apiKey!).toString("hex") });
      const msg = await nc.request(subj.verify, typeof payload === "string" ? new TextEncoder().encode(payload) : payload, { timeout: 5000 });
      return JSON.parse(new TextDecoder().decode(msg.data)) as VerifyReply;
    },
    async close() {
      for (const i of instances) await i.close().catch(() => {});
      await nc.close();
      await sql.end({ timeout: 1 });
      await db.drop();
    },
  };
}

/** A fresh owner id and its Authorization header. */
export async function owner(prefix = "user"): Promise<{ sub: string; headers: Record<string, string> }> {
  const sub = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  return { sub, headers: authHeader(await token(sub)) };
}

/** fetch + parsed JSON body. */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; json?: unknown; body?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text so the assertion shows it
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
