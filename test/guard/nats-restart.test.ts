/**
 * NATS restarted under a protected service (a private nats-server with
 * JetStream on file storage, started and killed by this test): requests with a
 * cached key keep succeeding while NATS is away, none fails because of usage
 * recording, the events buffered meanwhile all arrive once NATS is back, and
 * the guard verifies its cached keys again after a reconnect (revocations may have been missed).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { subjects } from "@riskinmind/contracts";
import { newApiKey } from "../../services/keys/src/keys/mint";
import { createUsageStream, goodLoan, issueKey, newOwner, type OwnNats, readUsageEvents, req, startOwnNats, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

// Explicit budgets (the waits below allow 15-20 s): Bun applies the preload's setDefaultTimeout to the first file of a run only, so a whole-suite run gave these 5 s.
let server: OwnNats;
let stack: TrioStack;

beforeAll(async () => {
  // The repository's nats-server.conf on a server of this test's own, so it can be stopped and started again.
  server = await startOwnNats();
  stack = await trioStack({ nats: server, guard: { verifyTimeoutMs: 500 } });
  const jsm = await stack.nc.jetstreamManager();
  await createUsageStream(jsm, stack.topo, subjects(stack.topo).usageEvents);
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await server?.stop();
});

test("through a NATS restart: no protected request fails, buffered usage events all arrive, cached keys are verified again", async () => {
  const key = await issueKey(stack.keys, await newOwner());
  const predict = (k = key.apiKey) => req(`${stack.loansUrl}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": k }, json: goodLoan });
  const statuses: number[] = [];
  statuses.push((await predict()).status); // verified and cached

  let disconnected = false;
  void (async () => {
    for await (const st of stack.guardNc.status()) if (st.type === "disconnect") disconnected = true;
  })();
  await server.kill("SIGTERM");
  await waitFor(() => disconnected, 5_000, "guard's connection sees the disconnect");
  for (let i = 0; i < 20; i++) statuses.push((await predict()).status);
  // An uncached key cannot be verified while NATS is away: 503, not 401.
  const unknown = await predict(newApiKey());
  expect(unknown.status).toBe(503);
  expect(unknown.body.error.code).toBe("VERIFY_UNAVAILABLE");
  const held = stack.loans.guard.stats().usage;
  expect(held.queued + held.buffered + held.inFlightEvents).toBeGreaterThanOrEqual(20);
  const invalidationsBefore = stack.loans.guard.stats().cache.invalidations;

  await server.start();
  await waitFor(() => stack.loans.guard.stats().cache.invalidations > invalidationsBefore, 15_000, "cache marked for re-verification on reconnect");
  await waitFor(async () => (await predict()).status === 200, 15_000, "key verified again after reconnect");
  statuses.push(200);

  expect(statuses.every((s) => s === 200)).toBe(true);
  let mine: Record<string, unknown>[] = [];
  await waitFor(
    async () => {
      mine = (await readUsageEvents(stack.nc, stack.topo.stream)).events.filter((e) => e.keyId === key.keyId);
      return mine.length >= statuses.length;
    },
    20_000,
    "buffered usage events published",
  );
  expect(mine.length).toBe(statuses.length);
  expect(new Set(mine.map((e) => e.id)).size).toBe(mine.length);
  expect(stack.loans.guard.stats().usage.dropped).toBe(0);
}, 60_000);

test("a key revoked while the guard was cut off from NATS (its event lost) is refused once the guard is back", async () => {
  const owner = await newOwner();
  const key = await issueKey(stack.keys, owner);
  const predict = () => req(`${stack.loansUrl}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": key.apiKey }, json: goodLoan });
  // Verified, then served from the guard's cache (a hit), so what follows tests the cache and not a
  // verification in flight (the keys service may still be reconnecting after the test before).
  await waitFor(
    async () => {
      const hits = stack.loans.guard.stats().cache.hits;
      return (await predict()).status === 200 && stack.loans.guard.stats().cache.hits > hits;
    },
    15_000,
    "key verified and cached",
  );

  let disconnected = false;
  void (async () => {
    for await (const st of stack.guardNc.status()) if (st.type === "disconnect") disconnected = true;
  })();
  await server.kill("SIGTERM");
  await waitFor(() => disconnected, 5_000, "guard's connection sees the disconnect");
  // The revoke commits in Postgres; its broadcast cannot reach anyone now.
  const revoked = await req(`${stack.keysUrl}/api/v1/keys/revoke`, { method: "POST", headers: owner.headers });
  expect(revoked.status).toBe(200);
  // Still served from the cache while NATS is away: the guard cannot know yet.
  expect((await predict()).status).toBe(200);

  await server.start();
  await waitFor(async () => (await predict()).status === 401, 15_000, "revoked key refused after the reconnect");
  const refused = await predict();
  expect(refused.status).toBe(401);
  expect(refused.body.error.code).toBe("INVALID_API_KEY");
}, 60_000);
