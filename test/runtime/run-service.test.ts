/**
 * runService as a real process (test/runtime/fixtures/svc.ts) on the real
 * Postgres and NATS: the start line, a graceful SIGTERM that lets an in-flight
 * request finish and closes everything in order, a stop that overstays the
 * deadline, and a start that fails.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Child, createTestDb, freePort, natsUrl, spawnChild, startService, type TestDb, waitFor } from "@riskinmind/testkit";

const ENTRY = "test/runtime/fixtures/svc.ts";
let db: TestDb;
const children: Child[] = [];

beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null) await c.kill("SIGKILL");
  await db.drop();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/root",
    DATABASE_URL: db.url,
    NATS_URL: natsUrl("keys"),
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    ...extra,
  };
}

/** The JSON log lines of a child's output (anything else fails the parse, and the test). */
function lines(child: Child): { level: string; msg: string; [k: string]: unknown }[] {
  return child
    .output()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

async function start(extra: Record<string, string> = {}): Promise<{ child: Child; base: string }> {
  const port = freePort();
  const child = await startService(ENTRY, { ...env(extra), PORT: String(port) }, port);
  children.push(child);
  return { child, base: `http://127.0.0.1:${port}` };
}

describe("runService", () => {
  test("logs one 'listening' line and serves /health and /ready", async () => {
    const { child, base } = await start();
    expect(lines(child).filter((l) => l.msg === "listening")).toHaveLength(1);
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: "ok", service: "fixture" });
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ status: "ready", checks: { postgres: "up", nats: "up" } });
    expect(await child.kill("SIGTERM")).toBe(0);
  });

  test("SIGTERM with a request in flight: the request completes, the steps run in order, exit 0", async () => {
    const { child, base } = await start();
    const slow = fetch(`${base}/slow`);
    await waitFor(() => child.output().includes("slow request started"), 10_000, "the slow request to be in flight");
    child.proc.kill("SIGTERM");
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    expect(await child.proc.exited).toBe(0);
    // The exit can be seen before the pipe's last bytes are read: wait for the last line, not for time.
    await waitFor(() => child.output().includes('"msg":"stopped"'), 5_000, "the last log line");
    const msgs = lines(child).map((l) => l.msg);
    const order = ["shutting down", "slow request done", "http closed", "service stopped", "nats drained", "postgres closed", "stopped"];
    const at = order.map((m) => msgs.indexOf(m));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(lines(child).filter((l) => l.level === "error")).toEqual([]);
  });

  test("a stop() that hangs: one error line once SHUTDOWN_DEADLINE_MS has passed, exit 1", async () => {
    const { child } = await start({ FIXTURE_STOP: "hang", SHUTDOWN_DEADLINE_MS: "300" });
    expect(await child.kill("SIGTERM")).toBe(1);
    await waitFor(() => child.output().includes("shutdown exceeded"), 5_000, "the deadline's line");
    const errors = lines(child).filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe("shutdown exceeded its deadline; exiting");
    expect(errors[0]!.deadlineMs).toBe(300);
    // It was stuck in the service's stop: HTTP had closed, the service never reported stopped.
    const msgs = lines(child).map((l) => l.msg);
    expect(msgs).toContain("http closed");
    expect(msgs).not.toContain("service stopped");
  });

  test("a start that fails (Postgres unreachable): one error line naming the phase, no stack trace, exit 1", async () => {
    const child = spawnChild(["bun", ENTRY], { ...env({ DATABASE_URL: `postgres://postgres@127.0.0.1:${freePort()}/nowhere` }), PORT: String(freePort()) });
    children.push(child);
    expect(await child.proc.exited).toBe(1);
    await waitFor(() => child.output().includes("start failed"), 5_000, "the start failure's line");
    const all = lines(child);
    const errors = all.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ msg: "start failed", phase: "postgres", err: { code: "ECONNREFUSED" } });
    expect(all.map((l) => l.msg)).not.toContain("listening");
    expect(child.output()).not.toMatch(/\n\s+at /);
  });
});
