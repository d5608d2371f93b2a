/**
 * `bun run dev` from a clean data directory and no environment: the printed
 * walkthrough works as printed, its NATS has per-service users and no
 * anonymous access, SIGTERM leaves no process behind, and a second start
 * reuses the data.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, existsSync, chmodSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "nats";
import { type Child, descendants, freePort, processesMentioning, type ProcRef, runLine, spawnChild, stillAlive, stopDevStacks, waitFor, walkthrough } from "@riskinmind/testkit";

const ROOT = join(import.meta.dir, "../..");
const dataRoot = mkdtempSync(join(tmpdir(), "rim-devx-"));
chmodSync(dataRoot, 0o755);
const dataDir = join(dataRoot, ".data");
const ports = { KEYS_PORT: freePort(), USAGE_PORT: freePort(), EXAMPLE_PORT: freePort(), PG_PORT: freePort(), NATS_PORT: freePort() };

/** The environment a newcomer has: no DATABASE_URL, NATS_URL, JWT_SECRET. */
function bareEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    ...extra,
  };
}

const running: Child[] = [];
afterAll(async () => {
  // A failed test may leave a dev stack up: SIGTERM lets it stop its children (SIGKILL would orphan them).
  await stopDevStacks(running);
  // Whatever a failed run left behind is still ours to remove.
  for (const p of processesMentioning(dataRoot)) process.kill(p.pid, "SIGKILL");
  rmSync(dataRoot, { recursive: true, force: true });
});

async function startDev(): Promise<Child> {
  const dev = spawnChild(["bun", "scripts/dev.ts"], bareEnv(), ROOT);
  running.push(dev);
  await waitFor(() => dev.output().includes("Ctrl-C stops everything."), 60_000, `dev ready banner\n${dev.output()}`);
  return dev;
}

/** A process's environment, from /proc (the test runs as the same user as dev's children). */
function environ(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/**
 * dev's nats-server runs nats/nats-server.conf with passwords of this run:
 * anonymous clients are refused, each service connects as its own user, and
 * no password appears in dev's output.
 */
async function expectSecuredNats(dev: Child): Promise<void> {
  const tree = descendants(dev.proc.pid);
  const server = tree.find((p) => p.cmd.includes("nats-server"))!;
  expect(server.cmd).toContain("nats/nats-server.conf");
  const serverEnv = environ(server.pid);
  const identities = { "services/keys/src/main.ts": "keys", "services/usage/src/main.ts": "usage", "examples/loans-api/src/main.ts": "guard" } as const;
  for (const [entry, user] of Object.entries(identities)) {
    const proc = tree.find((p) => p.cmd.includes(entry))!;
    const url = new URL(environ(proc.pid).NATS_URL!);
    expect(url.username).toBe(user);
    expect(decodeURIComponent(url.password)).toBe(serverEnv[`NATS_${user.toUpperCase()}_PASSWORD`]!);
  }
  for (const user of ["KEYS", "USAGE", "GUARD", "ADMIN"]) {
    const password = serverEnv[`NATS_${user}_PASSWORD`]!;
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect(dev.output()).not.toContain(password);
  }
  const anonymous = await connect({ servers: `nats://127.0.0.1:${ports.NATS_PORT}`, reconnect: false, timeout: 2_000 }).then(
    async (nc) => (await nc.close(), "connected"),
    (e: { code?: string }) => e.code,
  );
  expect(anonymous).toBe("AUTHORIZATION_VIOLATION");
}

/** SIGTERM to dev; returns its exit code and whatever of its processes survived. */
async function stopDev(dev: Child): Promise<{ code: number | null; survivors: ProcRef[] }> {
  const tree = [...descendants(dev.proc.pid), ...processesMentioning(dataDir)];
  expect(tree.some((p) => p.cmd.includes("nats-server"))).toBe(true);
  expect(tree.some((p) => p.cmd.includes(join(dataDir, "postgres")))).toBe(true);
  const code = await dev.kill("SIGTERM");
  return { code, survivors: [...stillAlive(tree), ...processesMentioning(dataDir)] };
}

describe("bun run dev", () => {
  let keyId = "";

  test("from a clean data dir with no environment, the printed walkthrough works and SIGTERM leaves no process", async () => {
    expect(existsSync(dataDir)).toBe(false);
    const dev = await startDev();
    const out = dev.output();
    expect(out).toContain("JWT_SECRET is not set");
    expect(out).toContain(`http://127.0.0.1:${ports.KEYS_PORT}`);
    const w = walkthrough(out);
    expect(w.token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(w.generate && w.predict && w.logs).toBeTruthy();
    // The console link carries the same token in its fragment, and the page it opens is served.
    expect(w.console).toBe(`http://127.0.0.1:${ports.KEYS_PORT}/console#token=${w.token}`);
    const page = await fetch(w.console!.slice(0, w.console!.indexOf("#")));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app"></div>');

    const generated = JSON.parse(await runLine(w.generate!, { TOKEN: w.token! }));
    expect(generated.success).toBe(true);
    expect(generated.data.apiKey).toStartWith("sk_live_");
    keyId = generated.data.keyId;

    const predicted = JSON.parse(await runLine(w.predict!, { API_KEY: generated.data.apiKey }));
    expect(predicted.success).toBe(true);

    let logs: { data: Array<{ endpoint: string; method: string; statusCode: number }>; meta: { total: number } } | undefined;
    await waitFor(
      async () => {
        logs = JSON.parse(await runLine(w.logs!, { TOKEN: w.token! }));
        return logs!.data.length > 0;
      },
      15_000,
      "the example call in /logs",
    );
    expect(logs!.data[0]).toMatchObject({ endpoint: "/api/v1/loans/predict", method: "POST", statusCode: 200 });

    await expectSecuredNats(dev);

    const { code, survivors } = await stopDev(dev);
    expect(survivors).toEqual([]);
    expect(code).toBe(0);
    expect(existsSync(join(dataDir, "postgres", "PG_VERSION"))).toBe(true);
  }, 120_000);

  test("a second start on the same data dir keeps the key and the logs", async () => {
    expect(keyId).toStartWith("key_");
    const dev = await startDev();
    expect(dev.output()).toContain("started on existing data");
    const w = walkthrough(dev.output());
    const auth = { authorization: `Bearer ${w.token}` };
    const active = (await (await fetch(`http://127.0.0.1:${ports.KEYS_PORT}/api/v1/keys/`, { headers: auth })).json()) as { data: { keyId: string } };
    expect(active.data.keyId).toBe(keyId);
    const logs = JSON.parse(await runLine(w.logs!, { TOKEN: w.token! }));
    expect(logs.meta.total).toBeGreaterThanOrEqual(1);

    const { code, survivors } = await stopDev(dev);
    expect(survivors).toEqual([]);
    expect(code).toBe(0);
  }, 120_000);
});

describe("bun run dev refuses to start", () => {
  test("with NODE_ENV=production and no JWT_SECRET it exits 1 and starts nothing", async () => {
    const fresh = join(dataRoot, "prod");
    const dev = spawnChild(["bun", "scripts/dev.ts"], bareEnv({ NODE_ENV: "production", DATA_DIR: fresh }), ROOT);
    const code = await dev.proc.exited;
    expect(code).toBe(1);
    expect(dev.output()).toContain("JWT_SECRET is required");
    expect(existsSync(fresh)).toBe(false);
    expect(processesMentioning(fresh)).toEqual([]);
  }, 30_000);
});
