/** `bun run start`: the production-style launcher forwards env and signals and dies with its children. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createTestDb, freePort, natsUrl, serviceEnv, spawnChild, testTopology, waitFor, type TestDb } from "../support/harness";
import { descendants, stillAlive } from "./support";

const ROOT = join(import.meta.dir, "../..");
let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.drop();
});

const healthy = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200;

describe("bun run start", () => {
  test("runs keys, usage and (with --with-example) the example as separate processes, each with its own NATS identity, and SIGTERM stops them all with exit 0", async () => {
    const ports = { KEYS_PORT: freePort(), USAGE_PORT: freePort(), EXAMPLE_PORT: freePort() };
    const env = {
      ...serviceEnv(db, testTopology()),
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      // NATS_URL stays keys'; the two others would fail their job with it (usage cannot create its stream).
      USAGE_NATS_URL: natsUrl("usage"),
      EXAMPLE_NATS_URL: natsUrl("guard"),
    };
    const start = spawnChild(["bun", "scripts/start.ts", "--with-example"], env, ROOT);
    await waitFor(async () => (await healthy(ports.KEYS_PORT)) && (await healthy(ports.USAGE_PORT)) && (await healthy(ports.EXAMPLE_PORT)), 30_000, `all /health\n${start.output()}`);
    const tree = descendants(start.proc.pid);
    expect(tree.filter((p) => p.cmd.includes("src/main.ts")).length).toBe(3);
    expect(await start.kill("SIGTERM")).toBe(0);
    expect(stillAlive(tree)).toEqual([]);
  }, 60_000);

  test("exits non-zero, naming the variable, when a service's config is missing", async () => {
    const env = serviceEnv(db, testTopology(), { KEYS_PORT: String(freePort()), USAGE_PORT: String(freePort()) });
    delete (env as Record<string, string | undefined>).JWT_SECRET;
    const start = spawnChild(["bun", "scripts/start.ts"], env, ROOT);
    const code = await start.proc.exited;
    expect(code).not.toBe(0);
    expect(start.output()).toContain("JWT_SECRET");
  }, 30_000);
});
