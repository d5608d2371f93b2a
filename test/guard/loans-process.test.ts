/**
 * The example loans API as a real process (its main.ts): it fails fast on bad
 * config, serves /health publicly and guards its predict route, and on SIGTERM
 * publishes the usage events it still holds before exiting 0.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Child, freePort, goodLoan, issueKey, natsUrl, newOwner, readUsageEvents, req, spawnChild, startService, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

const ENTRY = "examples/loans-api/src/main.ts";
let stack: TrioStack;
let child: Child | undefined;

beforeAll(async () => {
  // The usage service would create the stream; here the test reads what the guard publishes.
  stack = await trioStack({ usageStream: true });
});

afterAll(async () => {
  if (child && child.proc.exitCode === null) await child.kill("SIGKILL");
  await stack.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/root",
    // The example is a guarded service: it connects as "guard", as every service mounting the guard does.
    NATS_URL: natsUrl("guard"),
    NATS_SUBJECT_PREFIX: stack.topo.prefix,
    USAGE_STREAM: stack.topo.stream,
    LOG_LEVEL: "warn",
    HOST: "127.0.0.1",
    ...extra,
  };
}

test("a bad NATS_URL stops the example at start with one config line and exit 1", async () => {
  const c = spawnChild(["bun", ENTRY], env({ NATS_URL: "http://nope" }));
  const code = await c.proc.exited;
  expect(code).toBe(1);
  expect(c.output()).toContain("config error: NATS_URL");
  expect(c.output()).not.toContain("    at ");
});

test("the example process guards predict and loses no usage event when stopped with SIGTERM", async () => {
  const port = freePort();
  child = await startService(ENTRY, env(), port);
  const base = `http://127.0.0.1:${port}`;
  expect((await req(`${base}/health`)).status).toBe(200);
  expect((await req(`${base}/ready`)).status).toBe(200);
  const metrics = await fetch(`${base}/metrics`);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toContain("http_requests_total");
  expect((await req(`${base}/api/v1/loans/predict`, { method: "POST", json: goodLoan })).status).toBe(401);

  const key = await issueKey(stack.keys, await newOwner());
  const ok = await req(`${base}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": key.apiKey }, json: goodLoan });
  expect(ok.status).toBe(200);
  expect(ok.body.data.keyId).toBe(key.keyId);

  const code = await child.kill("SIGTERM");
  expect(code).toBe(0);
  await waitFor(async () => (await readUsageEvents(stack.nc, stack.topo.stream)).events.some((e) => e.keyId === key.keyId), 5_000, "the call's usage event");
});
