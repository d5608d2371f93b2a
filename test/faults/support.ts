/**
 * Shared by the fault, security, fuzz and soak tests: the real services as
 * child processes (keys, usage, the example behind a guard), a nats-server of
 * the test's own that it may kill and restart, plain HTTP with a timeout, a
 * seeded PRNG and RSS sampling. Postgres outages use the cuttable relay of
 * test/support/pgrelay.ts; the shared servers on 5432/4222 are never touched.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { connect, type NatsConnection } from "nats";
import { hashKey, type Topology } from "@riskinmind/contracts";
import {
  authHeader,
  createTestDb,
  freePort,
  natsAccess,
  serviceEnv,
  spawnChild,
  startService,
  testNats,
  testTopology,
  token,
  waitFor,
  type Child,
  type NatsAccess,
  type TestDb,
} from "../support/harness";
import { randomPasswords, startNatsServer, type RunningNats } from "../../scripts/lib/nats";

export const ENTRY = {
  keys: "services/keys/src/main.ts",
  usage: "services/usage/src/main.ts",
  example: "examples/loans-api/src/main.ts",
} as const;

/** The NATS identity each service connects as (the example is a guarded service). */
export const IDENTITY = { keys: "keys", usage: "usage", example: "guard" } as const;

export const LOAN = { amount: 20_000, termMonths: 36, annualIncome: 85_000, creditScore: 720 };

export interface Svc {
  child: Child;
  port: number;
  url: string;
  pid: number;
  alive(): boolean;
}

/** Spawns one of our services and waits for its /health. */
export async function spawnSvc(entry: string, env: Record<string, string>, port = freePort()): Promise<Svc> {
  const child = await startService(entry, env, port, 20_000);
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.proc.pid,
    alive: () => child.proc.exitCode === null && child.proc.signalCode === null,
  };
}

export interface OwnNats extends NatsAccess {
  /** The server's URL without credentials (a client using it is refused). */
  server: string;
  port: number;
  /** Kills the server, SIGKILL unless told (its store dir, port and passwords are kept for restart). */
  kill(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts it again on the same port, store dir and passwords. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A nats-server with JetStream that only this test uses, so it can be
 * restarted: the repository's nats/nats-server.conf, passwords of its own.
 */
export async function startOwnNats(): Promise<OwnNats> {
  const port = freePort();
  const dir = mkdtempSync(join(tmpdir(), "rim-faults-nats-"));
  const passwords = randomPasswords();
  const access = natsAccess(`nats://127.0.0.1:${port}`, passwords);
  let server: RunningNats | undefined;
  const up = async () => {
    server = await startNatsServer({ storeDir: dir, port, passwords });
    ownServers.add(server);
    // Accepting connections is not enough after a restart: wait until JetStream has recovered its store.
    await waitFor(
      async () => {
        const nc = await connect(access.options("admin", { reconnect: false, timeout: 500 }));
        try {
          await (await nc.jetstreamManager()).getAccountInfo();
        } finally {
          await nc.close();
        }
        return true;
      },
      15_000,
      "own nats-server with JetStream",
    );
  };
  const down = async (signal: "SIGKILL" | "SIGTERM") => {
    if (!server) return;
    const s = server;
    server = undefined;
    s.child.proc.kill(signal);
    await s.child.exited;
    ownServers.delete(s);
  };
  await up();
  return {
    ...access,
    server: `nats://127.0.0.1:${port}`,
    port,
    kill: (signal = "SIGKILL") => down(signal),
    start: up,
    async stop() {
      await down("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// nats-server runs in its own process group (scripts/lib/children.ts): kill it if the test process dies first.
const ownServers = new Set<RunningNats>();
process.on("exit", () => {
  for (const s of ownServers) s.child.proc.kill("SIGKILL");
});

export interface Reply {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/** fetch with a hard timeout (a hang fails the test as a timeout, never waits forever). */
export async function req(
  url: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; body?: string | Uint8Array | ReadableStream<Uint8Array>; timeoutMs?: number } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body = init.body;
  if (init.json !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url, { method: init.method ?? "GET", headers, body, signal: AbortSignal.timeout(init.timeoutMs ?? 5_000) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the text is kept so the assertion shows it
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** A fresh owner id, its JWT and Authorization header. */
export async function newOwner(prefix = "owner"): Promise<{ sub: string; jwt: string; headers: Record<string, string> }> {
  const sub = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  const jwt = await token(sub);
  return { sub, jwt, headers: authHeader(jwt) };
}

/** True when the body is our error envelope. */
export function isEnvelope(body: unknown): boolean {
  const b = body as { success?: unknown; error?: { code?: unknown; message?: unknown; requestId?: unknown } } | null;
  return (
    !!b &&
    b.success === false &&
    typeof b.error?.code === "string" &&
    typeof b.error?.message === "string" &&
    typeof b.error?.requestId === "string" &&
    b.error.requestId !== "" &&
    Object.keys(b).length === 2
  );
}

/** Resident memory of a process in kB, from /proc/<pid>/status. */
export function rssKb(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** mulberry32: a tiny seeded PRNG, so fuzz runs repeat exactly. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
export type Prng = ReturnType<typeof prng>;

/** Runs `tasks` with at most `limit` at once. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
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
  close(): Promise<void>;
}

/**
 * A database and topology of the test's own plus the services it asks for,
 * each a real child process connecting as its own NATS identity. `nats`/
 * `databaseUrl` point the services somewhere else (an own nats-server, a Postgres relay).
 */
export async function deploy(opts: { nats?: NatsAccess; databaseUrl?: (db: TestDb) => string; services?: (keyof typeof ENTRY)[]; extra?: Record<string, string> } = {}): Promise<Deployment> {
  const db = await createTestDb();
  const topo = testTopology();
  const nats = opts.nats ?? testNats();
  const sql = postgres(db.url, { max: 4, onnotice: () => {} });
  const nc = await connect(nats.options("admin", { maxReconnectAttempts: -1, reconnectTimeWait: 250 }));
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

/** Issues a key for the owner through the keys service's HTTP API. */
export async function generate(keysUrl: string, owner: { headers: Record<string, string> }): Promise<{ apiKey: string; keyId: string }> {
  const r = await req(`${keysUrl}/api/v1/keys/generate`, { method: "POST", headers: owner.headers });
  if (r.status !== 201) throw new Error(`generate failed: ${r.status} ${r.text}`);
  return { apiKey: r.body.data.apiKey, keyId: r.body.data.keyId };
}

/** POST /api/v1/loans/predict on the example with an API key. */
export function predict(exampleUrl: string, apiKey: string, timeoutMs = 5_000): Promise<Reply> {
  return req(`${exampleUrl}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": apiKey }, json: LOAN, timeoutMs });
}

/**
 * keys.verify over NATS about `{apiKey}`, parsed. The key is sent as its
 * SHA-256, the way the guard sends it (the key itself never goes on the bus);
 * `raw` sends a payload as is instead.
 */
export async function verify(nc: NatsConnection, topo: Topology, payload: { apiKey: string } | null, raw?: Uint8Array | string): Promise<any> {
  if (raw === undefined && payload === null) throw new Error("verify: a key or a raw payload");
  const data = raw ?? JSON.stringify({ keyHash: hashKey(payload!.apiKey).toString("hex") });
  const msg = await nc.request(`${topo.prefix}keys.verify`, typeof data === "string" ? new TextEncoder().encode(data) : data, { timeout: 5_000 });
  return JSON.parse(new TextDecoder().decode(msg.data));
}

/** Rows in usage.events for an owner. */
export async function usageRows(sql: postgres.Sql, ownerId: string): Promise<number> {
  const [r] = await sql`select count(*)::int as n from usage.events where owner_id = ${ownerId}`;
  return r!.n as number;
}

/** Rows for an owner whose event_key repeats (must always be 0). */
export async function usageDuplicates(sql: postgres.Sql): Promise<number> {
  const [r] = await sql`select count(*)::int as n from (select event_key from usage.events group by event_key having count(*) > 1) d`;
  return r!.n as number;
}

/** The Postgres URL of a test database as seen through a relay on `port`. */
export function viaPort(dbUrl: string, port: number): string {
  const u = new URL(dbUrl);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}
