/**
 * The test command needs no environment: with DATABASE_URL unset the run
 * starts an embedded Postgres of its own; NATS is always a nats-server of the
 * run's own, from the repository's nats/nats-server.conf (a NATS_URL given is
 * not used). Both are stopped (and their data removed) at the end.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processesMentioning } from "@riskinmind/testkit";

const ROOT = join(import.meta.dir, "../..");
const scratch = mkdtempSync(join(tmpdir(), "rim-preload-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("bun test with no DATABASE_URL runs on its own embedded Postgres and nats-server, gone afterwards", async () => {
  const out = join(scratch, "probe.json");
  const p = Bun.spawn(["bun", "test", "./test/devx/fixtures/run-services.test.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", RIM_PROBE_OUT: out },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(`${stdout}${stderr}`).toContain(" 2 pass");
  expect(code).toBe(0);

  const probe = JSON.parse(readFileSync(out, "utf8")) as { databaseUrl: string; natsServer: string; infraDir: string };
  // Not the machine's servers: ports of its own, data in its own temp directory.
  expect(new URL(probe.databaseUrl).port).not.toBe("5432");
  expect(new URL(probe.natsServer).port).not.toBe("4222");
  expect(probe.infraDir).toContain("rim-test-");
  expect(existsSync(probe.infraDir)).toBe(false);
  expect(processesMentioning(probe.infraDir)).toEqual([]);
}, 60_000);

test("bun test with DATABASE_URL and NATS_URL set uses that Postgres, but always a nats-server of its own from the repo config", async () => {
  const out = join(scratch, "probe-set.json");
  // A NATS_URL of an open server: the run must not use it (no credentials, no permissions there).
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", RIM_PROBE_OUT: out, DATABASE_URL: process.env.DATABASE_URL!, NATS_URL: "nats://127.0.0.1:4222" };
  const p = Bun.spawn(["bun", "test", "./test/devx/fixtures/run-services.test.ts"], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(`${stdout}${stderr}`).toContain(" 2 pass");
  expect(code).toBe(0);
  const probe = JSON.parse(readFileSync(out, "utf8")) as { databaseUrl: string; natsServer: string; infraDir: string };
  expect(probe.databaseUrl).toBe(env.DATABASE_URL);
  expect(new URL(probe.natsServer).port).not.toBe("4222");
  expect(probe.infraDir).toContain("rim-test-");
  expect(existsSync(probe.infraDir)).toBe(false);
  expect(processesMentioning(probe.infraDir)).toEqual([]);
}, 60_000);
