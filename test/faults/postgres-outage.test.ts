/**
 * Postgres stopped (a relay in front of the real server that other runs
 * share refuses connections: see pgrelay.ts) while requests flow: management answers
 * 503 DATABASE_UNAVAILABLE in the envelope instead of hanging and recovers by
 * itself; usage ingestion pauses and resumes with nothing lost; verification
 * follows the documented decision (cached keys keep working for at most
 * VERIFY_STALE_MAX_MS, unknown keys get VERIFY_UNAVAILABLE).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newApiKey } from "../../services/keys/src/keys/mint";
import { deploy, type Deployment, isEnvelope, issueKey, newOwner, type PgRelay, predict, req, startPgRelay, usageDuplicates, usageRows, viaPort, waitFor } from "@riskinmind/testkit";

const STALE_MAX_MS = 6_000;
let proxy: PgRelay;
let d: Deployment;

beforeAll(async () => {
  const real = new URL(process.env.DATABASE_URL!);
  proxy = startPgRelay({ host: real.hostname, port: Number(real.port || 5432) });
  d = await deploy({
    databaseUrl: (db) => viaPort(db.url, proxy.port),
    services: ["usage", "keys", "example"],
    // A short fresh TTL so the outage path (stale serving) is what answers, bounded by STALE_MAX.
    extra: { VERIFY_CACHE_TTL_MS: "200", VERIFY_STALE_MAX_MS: String(STALE_MAX_MS) },
  });
});
afterAll(async () => {
  await d?.close();
  proxy?.close();
});

const MANAGEMENT = [
  ["GET", "/api/v1/keys/"],
  ["POST", "/api/v1/keys/generate"],
  ["POST", "/api/v1/keys/regenerate"],
  ["POST", "/api/v1/keys/revoke"],
] as const;

describe("Postgres cut while requests flow", () => {
  test("management answers 503 DATABASE_UNAVAILABLE at once and recovers; ingestion resumes with nothing lost; verification follows the stale-cache decision", async () => {
    const owner = await newOwner("pgcut");
    const { apiKey, keyId } = await issueKey(d.keys!, owner);
    const unknown = newApiKey(); // well-formed, never issued
    expect(await d.verify(apiKey)).toMatchObject({ valid: true, keyId, ownerId: owner.sub });
    expect((await predict(d.example!, apiKey)).status).toBe(200);
    await waitFor(async () => (await usageRows(d.sql, owner.sub)) === 1, 10_000, "first usage row");

    // Background management traffic: every answer must come (no hang) as 200/404 or the 503.
    let running = true;
    const mgmt: { status: number; code?: string }[] = [];
    let cutAt = Date.now();
    const mgmtLoop = (async () => {
      while (running) {
        const t = Date.now();
        try {
          const r = await req(`${d.keys!.url}/api/v1/keys/`, { headers: owner.headers, timeoutMs: 5_000 });
          mgmt.push({ status: r.status, code: r.body?.error?.code });
        } catch (e) {
          mgmt.push({ status: -1, code: `${(e as Error).name} after ${Date.now() - t} ms, ${Date.now() - cutAt} ms after the cut` });
        }
        await Bun.sleep(20);
      }
    })();

    proxy.cut("stopped");
    cutAt = Date.now();
    // Verification decision, taken first while the key's last confirmation is recent.
    expect(await d.verify(apiKey)).toMatchObject({ valid: true, keyId, ownerId: owner.sub });
    expect(await d.verify(unknown)).toEqual({ valid: false, code: "VERIFY_UNAVAILABLE" });

    for (const [method, path] of MANAGEMENT) {
      const r = await req(`${d.keys!.url}${path}`, { method, headers: owner.headers, timeoutMs: 5_000 });
      expect(r.status).toBe(503);
      expect(isEnvelope(r.body)).toBe(true);
      expect(r.body.error.code).toBe("DATABASE_UNAVAILABLE");
    }
    expect((await req(`${d.keys!.url}/ready`)).status).toBe(503);
    // /logs: the usage service cannot read either; the edge answers 503, not a hang.
    const logs = await req(`${d.keys!.url}/api/v1/keys/logs`, { headers: owner.headers, timeoutMs: 5_000 });
    expect(logs.status).toBe(503);
    expect(isEnvelope(logs.body)).toBe(true);

    // Protected traffic keeps flowing (the guard has the key); its usage waits in JetStream.
    let served = 0;
    for (let i = 0; i < 40; i++) {
      const r = await predict(d.example!, apiKey);
      expect(r.status).toBe(200);
      served++;
    }
    expect(await usageRows(d.sql, owner.sub)).toBe(1);

    // The stale window is bounded: once VERIFY_STALE_MAX_MS has passed since the last
    // confirmation, the cached key is no longer vouched for either.
    await waitFor(async () => (await d.verify(apiKey)).code === "VERIFY_UNAVAILABLE", STALE_MAX_MS + 5_000, "stale answer to expire");
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(STALE_MAX_MS - 500);

    proxy.restore();
    // Everything recovers by itself: management, verification, ingestion.
    await waitFor(async () => (await req(`${d.keys!.url}/api/v1/keys/`, { headers: owner.headers })).status === 200, 15_000, "management back");
    await waitFor(async () => (await d.verify(apiKey)).valid === true, 10_000, "verification back");
    expect(await d.verify(unknown)).toEqual({ valid: false, code: "KEY_NOT_FOUND" });
    await waitFor(async () => (await usageRows(d.sql, owner.sub)) === served + 1, 30_000, `${served + 1} usage rows`);
    expect(await usageDuplicates(d.sql)).toBe(0);
    await waitFor(async () => (await req(`${d.keys!.url}/api/v1/keys/logs`, { headers: owner.headers })).status === 200, 15_000, "logs back");

    running = false;
    await mgmtLoop;
    for (const m of mgmt) {
      if (m.status !== 200) expect(m).toEqual({ status: 503, code: "DATABASE_UNAVAILABLE" });
    }
    expect(mgmt.some((m) => m.status === 503)).toBe(true);
    expect(d.keys!.alive() && d.usage!.alive() && d.example!.alive()).toBe(true);
  }, 90_000);
});
