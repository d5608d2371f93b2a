/**
 * Reads are limited per owner too: READ_RATE_LIMIT_PER_MINUTE over GET / and
 * /logs (429 + Retry-After), and LOGS_MAX_IN_FLIGHT_PER_OWNER concurrent
 * /logs (one more is 429 with Retry-After: 1). Another owner is unaffected.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { subjects } from "@riskinmind/contracts";
import type { Msg, Subscription } from "nats";
import { type KeysInstance, type KeysStack, keysStack, newOwner, waitFor } from "@riskinmind/testkit";

let env: KeysStack;
let limited: KeysInstance;
let gated: KeysInstance;
let usage: Subscription;
/** usage.logs.query requests the test holds unanswered (so a /logs stays in flight), then releases. */
const held: Msg[] = [];
let hold = false;

beforeAll(async () => {
  env = await keysStack();
  limited = await env.start({ READ_RATE_LIMIT_PER_MINUTE: "5" });
  gated = await env.start({ LOGS_MAX_IN_FLIGHT_PER_OWNER: "2", LOGS_TIMEOUT_MS: "10000" });
  // The test answers usage.logs.query itself, on real NATS, in place of the usage service: only so it decides when a /logs request ends.
  usage = env.nc.subscribe(subjects(env.topo).logsQuery, {
    callback: (_e, m) => {
      if (hold) held.push(m);
      else m.respond(new TextEncoder().encode(JSON.stringify({ ok: true, data: [], total: 0 })));
    },
  });
  await env.nc.flush();
});
afterAll(async () => {
  usage?.unsubscribe();
  await env?.close();
});

describe("read rate limit per owner", () => {
  test("the 6th read within a minute (GET / and /logs together) is 429 RATE_LIMITED with Retry-After; another owner is unaffected", async () => {
    const noisy = await newOwner("noisy");
    const quiet = await newOwner("quiet");
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await limited.call("GET", i % 2 ? "/api/v1/keys/logs" : "/api/v1/keys/", { headers: noisy.headers })).status);
    expect(statuses).toEqual([404, 200, 404, 200, 404]);
    for (const path of ["/api/v1/keys/", "/api/v1/keys/logs"]) {
      const r = await limited.call("GET", path, { headers: noisy.headers });
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 429, code: "RATE_LIMITED" });
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    expect((await limited.call("GET", "/api/v1/keys/", { headers: quiet.headers })).status).toBe(404);
    expect((await limited.call("GET", "/api/v1/keys/logs", { headers: quiet.headers })).status).toBe(200);
  });

  test("reads and mutations have separate budgets: a read-limited owner can still generate", async () => {
    const o = await newOwner("both");
    for (let i = 0; i < 5; i++) await limited.call("GET", "/api/v1/keys/", { headers: o.headers });
    expect((await limited.call("GET", "/api/v1/keys/", { headers: o.headers })).status).toBe(429);
    expect((await limited.call("POST", "/api/v1/keys/generate", { headers: o.headers })).status).toBe(201);
  });
});

describe("concurrent /logs per owner", () => {
  test("with 2 of one owner's /logs in flight the 3rd is 429 with Retry-After: 1; another owner's goes through; a slot frees when one answers", async () => {
    const noisy = await newOwner("noisy");
    const quiet = await newOwner("quiet");
    hold = true;
    const first = [gated.call("GET", "/api/v1/keys/logs", { headers: noisy.headers }), gated.call("GET", "/api/v1/keys/logs", { headers: noisy.headers })];
    await waitForHeld(2);
    const third = await gated.call("GET", "/api/v1/keys/logs", { headers: noisy.headers });
    expect({ status: third.status, code: third.body.error?.code, retry: third.headers.get("retry-after") }).toEqual({ status: 429, code: "RATE_LIMITED", retry: "1" });
    const other = gated.call("GET", "/api/v1/keys/logs", { headers: quiet.headers });
    await waitForHeld(3);
    hold = false;
    for (const m of held.splice(0)) m.respond(new TextEncoder().encode(JSON.stringify({ ok: true, data: [], total: 0 })));
    expect((await Promise.all([...first, other])).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await gated.call("GET", "/api/v1/keys/logs", { headers: noisy.headers })).status).toBe(200);
  });
});

async function waitForHeld(n: number): Promise<void> {
  await waitFor(() => held.length >= n, 5_000, `${n} held logs requests`);
}
