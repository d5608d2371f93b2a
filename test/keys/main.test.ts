import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSql, migrate } from "@riskinmind/runtime";
import { authHeader, createTestDb, freePort, KEYS_MIGRATIONS, serviceEnv, spawnChild, startService, type TestDb, testTopology, token } from "@riskinmind/testkit";

const ENTRY = "services/keys/src/main.ts";
let db: TestDb;

beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.drop();
});

describe("configuration is checked at start", () => {
  const bad: [string, Record<string, string | undefined>, string][] = [
    ["JWT_SECRET missing", { JWT_SECRET: undefined }, "JWT_SECRET"],
    ["JWT_SECRET shorter than 32 chars", { JWT_SECRET: "short" }, "JWT_SECRET"],
    ["DATABASE_URL not a postgres URL", { DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    ["PORT not a number", { PORT: "http" }, "PORT"],
    ["NATS_URL missing", { NATS_URL: undefined }, "NATS_URL"],
  ];
  for (const [name, override, variable] of bad) {
    test(`${name} → exit 1 with one line naming ${variable}`, async () => {
      const env: Record<string, string> = { ...serviceEnv(db, testTopology()) };
      for (const [k, v] of Object.entries(override)) {
        if (v === undefined) delete env[k];
        else env[k] = v;
      }
      const child = spawnChild(["bun", ENTRY], env);
      expect(await child.proc.exited).toBe(1);
      const lines = child.output().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toStartWith(`config error: ${variable}:`);
      expect(child.output()).not.toContain("test-secret");
    });
  }
});

describe("main.ts against the real Postgres and NATS", () => {
  test("starts, migrates, serves /health and the API, and exits 0 on SIGTERM", async () => {
    const port = freePort();
    const child = await startService(ENTRY, serviceEnv(db, testTopology(), { LOG_LEVEL: "info" }), port);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/keys/generate`, { method: "POST", headers: authHeader(await token("main-owner")) });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { data: { apiKey: string } };
    expect(await child.kill("SIGTERM")).toBe(0);
    // Request lines are logged (info), yet neither the key nor the secret appears in them.
    expect(child.output()).toContain('"msg":"request"');
    expect(child.output()).not.toContain(body.data.apiKey);
    expect(child.output()).not.toContain("test-secret-that-is-long-enough");
  });
});

describe("migrations", () => {
  test("two migrate() calls at once on a fresh database both succeed and apply the schema once", async () => {
    const fresh = await createTestDb();
    const s1 = createSql(fresh.url, { max: 1 });
    const s2 = createSql(fresh.url, { max: 1 });
    try {
      const [a, b] = await Promise.all([migrate(s1, "keys", KEYS_MIGRATIONS), migrate(s2, "keys", KEYS_MIGRATIONS)]);
      // Every file once, in order, whichever of the two applied it.
      const files = readdirSync(KEYS_MIGRATIONS)
        .filter((f) => f.endsWith(".sql"))
        .sort();
      expect(files.slice(0, 3)).toEqual(["001_keys.sql", "002_revoked_at_index.sql", "003_policies.sql"]);
      expect([...a, ...b].sort()).toEqual(files);
      const idx = await s1`select indexname from pg_indexes where schemaname = 'keys' and indexname = 'api_keys_one_active_per_owner_mode'`;
      expect(idx).toHaveLength(1);
    } finally {
      await s1.end();
      await s2.end();
      await fresh.drop();
    }
  });
});
