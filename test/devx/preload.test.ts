/**
 * The test command needs no environment: with DATABASE_URL and NATS_URL unset
 * the run starts an embedded Postgres and a nats-server of its own, and stops
 * them (and removes their data) at the end.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processesMentioning } from "./support";

const ROOT = join(import.meta.dir, "../..");
const scratch = mkdtempSync(join(tmpdir(), "rim-preload-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("bun test with no DATABASE_URL/NATS_URL runs on its own embedded Postgres and nats-server, gone afterwards", async () => {
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

  const probe = JSON.parse(readFileSync(out, "utf8")) as { databaseUrl: string; natsUrl: string; infraDir: string };
  // Not the machine's servers: ports of its own, data in its own temp directory.
  expect(new URL(probe.databaseUrl).port).not.toBe("5432");
  expect(new URL(probe.natsUrl).port).not.toBe("4222");
  expect(probe.infraDir).toContain("rim-test-");
  expect(existsSync(probe.infraDir)).toBe(false);
  expect(processesMentioning(probe.infraDir)).toEqual([]);
}, 60_000);

test("bun test with DATABASE_URL and NATS_URL set uses them and starts nothing", async () => {
  const out = join(scratch, "probe-set.json");
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", RIM_PROBE_OUT: out, DATABASE_URL: process.env.DATABASE_URL!, NATS_URL: process.env.NATS_URL! };
  const p = Bun.spawn(["bun", "test", "./test/devx/fixtures/run-services.test.ts"], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(`${stdout}${stderr}`).toContain(" 2 pass");
  expect(code).toBe(0);
  const probe = JSON.parse(readFileSync(out, "utf8"));
  expect(probe).toEqual({ databaseUrl: env.DATABASE_URL, natsUrl: env.NATS_URL, infraDir: null });
}, 60_000);
