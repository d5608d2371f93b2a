/** `bun run start`: the production-style launcher forwards env and signals and dies with its children. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type Child, createTestDb, descendants, freePort, spawnChild, startEnv, stillAlive, type TestDb, testTopology, waitFor } from "@riskinmind/testkit";

const ROOT = join(import.meta.dir, "../..");
let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
const launched: Child[] = [];
afterAll(async () => {
  // A failed test may leave a launcher up: SIGTERM lets it stop its children (SIGKILL would orphan them).
  for (const c of launched) if (c.proc.exitCode === null && c.proc.signalCode === null) await c.kill("SIGTERM");
  await db.drop();
});

function launch(env: Record<string, string>): Child {
  const child = spawnChild(["bun", "scripts/start.ts"], env, ROOT);
  launched.push(child);
  return child;
}

const healthy = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200;

describe("bun run start", () => {
  test("runs keys, usage and (with --with-example) the example as separate processes, each with its own NATS identity, and SIGTERM stops them all with exit 0", async () => {
    const ports = { KEYS_PORT: freePort(), USAGE_PORT: freePort(), EXAMPLE_PORT: freePort() };
    const env = {
      // NATS_URL stays keys'; the two others get their own identity (usage could not create its stream with keys').
      ...startEnv(db, testTopology()),
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    const start = spawnChild(["bun", "scripts/start.ts", "--with-example"], env, ROOT);
    await waitFor(async () => (await healthy(ports.KEYS_PORT)) && (await healthy(ports.USAGE_PORT)) && (await healthy(ports.EXAMPLE_PORT)), 30_000, `all /health\n${start.output()}`);
    const tree = descendants(start.proc.pid);
    expect(tree.filter((p) => p.cmd.includes("src/main.ts")).length).toBe(3);
    expect(await start.kill("SIGTERM")).toBe(0);
    expect(stillAlive(tree)).toEqual([]);
  }, 60_000);

  test("the keys edge listens on PORT when KEYS_PORT is unset, and on KEYS_PORT when both are set", async () => {
    const isKeysEdge = async (port: number) => (await fetch(`http://127.0.0.1:${port}/openapi.json`)).status === 200;
    const refused = async (port: number) =>
      fetch(`http://127.0.0.1:${port}/health`).then(
        () => false,
        () => true,
      );

    const port = freePort();
    const usagePort = freePort();
    const viaPort = launch(startEnv(db, testTopology(), { PORT: String(port), USAGE_PORT: String(usagePort) }));
    await waitFor(async () => (await healthy(usagePort)) && (await isKeysEdge(port)), 30_000, `keys on PORT ${port}\n${viaPort.output()}`);
    expect(await viaPort.kill("SIGTERM")).toBe(0);

    const keysPort = freePort();
    const both = launch(startEnv(db, testTopology(), { PORT: String(port), KEYS_PORT: String(keysPort), USAGE_PORT: String(usagePort) }));
    await waitFor(async () => (await healthy(usagePort)) && (await isKeysEdge(keysPort)), 30_000, `keys on KEYS_PORT ${keysPort}\n${both.output()}`);
    expect(await refused(port)).toBe(true);
    expect(await both.kill("SIGTERM")).toBe(0);
  }, 90_000);

  test("exits non-zero, naming the variable, when a service's config is missing", async () => {
    // Each process with its own identity, so the only thing wrong is the missing secret (usage as keys' user crashed first, racing it).
    const env = startEnv(db, testTopology(), { KEYS_PORT: String(freePort()), USAGE_PORT: String(freePort()) });
    delete (env as Record<string, string | undefined>).JWT_SECRET;
    const start = spawnChild(["bun", "scripts/start.ts"], env, ROOT);
    const code = await start.proc.exited;
    expect(code).not.toBe(0);
    expect(start.output()).toContain("JWT_SECRET");
  }, 30_000);
});
