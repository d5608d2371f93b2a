/**
 * The one shape of /health, /ready and /metrics (the runtime's opsRoutes), on
 * each service built in-process the way its main.ts builds it: keys, usage
 * and the example. /ready is checked against a real Postgres and a real NATS,
 * then against a pool that points at a closed port and a closed connection.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "nats";
import { createGuard } from "@riskinmind/guard";
import { createLogger, createMetrics, createSql, type Metrics, type Sql } from "@riskinmind/runtime";
import { createLoansApp, LOANS_SERVICE } from "../../examples/loans-api/src/app";
import { createKeysService } from "../../services/keys/src/app";
import { keysEnv } from "../../services/keys/src/env";
import { createUsageService } from "../../services/usage/src/app";
import { createTestDb, freePort, type NatsUser, natsOptions, natsUrl, serviceEnv, type TestDb, testTopology, usageTestConfig, waitFor } from "@riskinmind/testkit";

const log = createLogger("ops-test", "silent");
const topo = testTopology();
let db: TestDb;
const opened: { nc: NatsConnection[]; sql: Sql[] } = { nc: [], sql: [] };

beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  for (const nc of opened.nc) await nc.close().catch(() => {});
  for (const sql of opened.sql) await sql.end({ timeout: 1 }).catch(() => {});
  await db.drop();
});

interface Built {
  app: { handle(request: Request): Promise<Response> };
  metrics: Metrics;
}

interface Case {
  name: string;
  identity: NatsUser;
  hasPostgres: boolean;
  build(deps: { sql: Sql; nc: NatsConnection; metrics: Metrics }): Built;
}

const CASES: Case[] = [
  {
    name: "keys",
    identity: "keys",
    hasPostgres: true,
    build: ({ sql, nc, metrics }) => {
      const config = keysEnv.parse({ ...serviceEnv(db, topo), NATS_URL: natsUrl("keys"), PORT: "0" });
      return { app: createKeysService({ sql, nc, log, metrics, config }).app, metrics };
    },
  },
  {
    name: "usage",
    identity: "usage",
    hasPostgres: true,
    build: ({ sql, nc, metrics }) => ({ app: createUsageService({ sql, nc, log, metrics, config: usageTestConfig(topo) }).app, metrics }),
  },
  {
    name: LOANS_SERVICE,
    identity: "guard",
    hasPostgres: false,
    build: ({ nc, metrics }) => {
      const guard = createGuard({ nc, topology: topo, log });
      return { app: createLoansApp({ log, metrics, guard, nc }), metrics };
    },
  },
];

async function build(c: Case, opts: { sqlUrl?: string } = {}): Promise<Built & { nc: NatsConnection }> {
  const sql = createSql(opts.sqlUrl ?? db.url, { max: 2 });
  const nc = await connect(natsOptions(c.identity));
  opened.sql.push(sql);
  opened.nc.push(nc);
  return { ...c.build({ sql, nc, metrics: createMetrics(c.name) }), nc };
}

async function get(app: Built["app"], path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await app.handle(new Request(`http://local${path}`));
  const text = await res.text();
  return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : text, headers: res.headers };
}

for (const c of CASES) {
  const upChecks = c.hasPostgres ? { postgres: "up", nats: "up" } : { nats: "up" };

  describe(`${c.name}: ops routes`, () => {
    test("GET /health → 200 {status:'ok', service}", async () => {
      const { app } = await build(c);
      const r = await get(app, "/health");
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: "ok", service: c.name });
    });

    test(`GET /ready → 200 with the checks it has (${Object.keys(upChecks).join(", ")})`, async () => {
      const { app } = await build(c);
      const r = await get(app, "/ready");
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: "ready", checks: upChecks });
    });

    if (c.hasPostgres) {
      test("GET /ready → 503 NOT_READY naming postgres when the pool points at a closed port", async () => {
        const { app } = await build(c, { sqlUrl: `postgres://postgres@127.0.0.1:${freePort()}/nowhere` });
        const r = await get(app, "/ready");
        expect(r.status).toBe(503);
        expect(r.body.success).toBe(false);
        expect(r.body.error.code).toBe("NOT_READY");
        expect(r.body.error.message).toContain("postgres");
        expect(r.body.error.message).not.toContain("nats");
        expect(r.body.error.requestId).toBe(r.headers.get("x-request-id")!);
        expect(r.body.checks).toEqual({ postgres: "down", nats: "up" });
      });
    }

    test("GET /ready → 503 NOT_READY naming nats when the NATS connection is closed", async () => {
      const { app, nc } = await build(c);
      await nc.close();
      const r = await get(app, "/ready");
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe("NOT_READY");
      expect(r.body.error.message).toContain("nats");
      expect(r.body.error.message).not.toContain("postgres");
      expect(r.body.checks).toEqual({ ...upChecks, nats: "down" });
    });

    test("GET /metrics → Prometheus text with the registry's content type, counting HTTP requests", async () => {
      const { app, metrics } = await build(c);
      expect((await get(app, "/health")).status).toBe(200);
      const res = await app.handle(new Request("http://local/metrics"));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(metrics.registry.contentType);
      expect(await res.text()).toContain("# TYPE http_requests_total counter");
      // The request is counted after its response went out (onAfterResponse): wait for that event, not for time.
      const counted = /http_requests_total\{[^}]*route="\/health"[^}]*status="200"[^}]*\} [1-9]/;
      await waitFor(async () => counted.test(await (await app.handle(new Request("http://local/metrics"))).text()), 5_000, "/health counted in /metrics");
    });
  });
}
