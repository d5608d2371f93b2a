/**
 * Quota thresholds (issue 13): when a slot's quota usage (`used`, what the
 * guards report spent and GET shows as quota.used) reaches 80 % and then
 * 100 % of its limit in a period, the system records key.quota_warning and
 * key.quota_exhausted once each for that period. Units leased but not spent
 * do not count. Real keys.limits.take requests over NATS, the keys service in
 * process, real Postgres.
 */
import { describe, expect, test } from "bun:test";
import { hashKey, subjects, type LimitsTakeReply } from "@riskinmind/contracts";
import { newOwner, useKeysStack, waitFor, type Owner } from "@riskinmind/testkit";
import { readQuotaUsed, takeUnits } from "../../services/keys/src/limits/repo";
import { Periods } from "../../services/keys/src/limits/windows";
import { auditOf, eventsOf, ownRound } from "./helpers";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000", LIFECYCLE_SWEEP_MS: "100" });
const enc = new TextEncoder();

async function take(keyHash: string, quota: { want: number; start?: number; used?: number }) {
  const msg = await env.nc.request(subjects(env.topo).limitsTake, enc.encode(JSON.stringify({ keyHash, quota })), { timeout: 5000 });
  const r = JSON.parse(new TextDecoder().decode(msg.data)) as LimitsTakeReply;
  if (!r.ok || !r.quota) throw new Error(`take refused: ${JSON.stringify(r)}`);
  return r.quota;
}

/** An owner with a live key under a daily quota of `limit`, leased in full (granted, nothing spent yet). */
async function spender(limit: number) {
  const o = await newOwner("quota");
  const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: { quota: { limit, period: "day" } } });
  expect(g.status).toBe(201);
  const hash = hashKey(g.body.data.apiKey).toString("hex");
  const lease = await take(hash, { want: limit });
  expect(lease.granted).toBe(limit);
  return { o, keyId: g.body.data.keyId as string, hash, start: lease.start, report: (used: number) => take(hash, { want: 0, start: lease.start, used }) };
}

const thresholds = async (o: Owner) => (await auditOf(env.sql, o.sub)).filter((e) => e.action === "key.quota_warning" || e.action === "key.quota_exhausted");
/** quota.used as GET computes it (readQuotaUsed; GET itself may answer from its cache for a while). */
const usedInGet = async (o: Owner, limit: number) => (await readQuotaUsed(env.sql, { ownerId: o.sub, mode: "live", period: "day", anchorDay: 1, limit }, Date.now())).used;

describe("quota thresholds", () => {
  test("a quota of 10: leased in full is not spent; used 8 → one warning, 10 → one exhausted, and nothing more in the period", async () => {
    const s = await spender(10);
    const periodStart = new Date(s.start).toISOString();
    await s.report(7);
    await ownRound(env.sql);
    expect(await usedInGet(s.o, 10)).toBe(7);
    expect(await thresholds(s.o)).toEqual([]);

    await s.report(1);
    await waitFor(async () => (await thresholds(s.o)).length >= 1, 20_000, "the quota warning");
    await s.report(1);
    await ownRound(env.sql);
    expect(await usedInGet(s.o, 10)).toBe(9);
    expect(await thresholds(s.o)).toEqual([
      { action: "key.quota_warning", key_id: s.keyId, mode: "live", actor_type: "system", actor_id: "quota", changes: { period: "day", periodStart, limit: 10, used: 8 } },
    ]);

    await s.report(1);
    await waitFor(async () => (await thresholds(s.o)).length >= 2, 20_000, "the quota exhausted entry");
    // More reports and takes in the same period: used stays at what was granted, nothing is recorded again.
    await s.report(5);
    expect((await take(s.hash, { want: 3 })).granted).toBe(0);
    await ownRound(env.sql);
    await ownRound(env.sql);
    const entries = await thresholds(s.o);
    expect(entries.map((e) => [e.action, e.actor_id, e.changes.used])).toEqual([
      ["key.quota_warning", "quota", 8],
      ["key.quota_exhausted", "quota", 10],
    ]);
    const events = (await eventsOf(env, s.o.sub)).filter((e) => e.type.startsWith("key.quota_"));
    expect(events.map((e) => e.type)).toEqual(["key.quota_warning", "key.quota_exhausted"]);
    expect(events[1]).toMatchObject({ data: { ownerId: s.o.sub, keyId: s.keyId, mode: "live", actor: { type: "system", id: "quota" }, changes: { period: "day", periodStart, limit: 10, used: 10 } } });
  });

  test("one report from below 80 % to 100 %: both thresholds, warning first, once each", async () => {
    const s = await spender(10);
    await s.report(10);
    await waitFor(async () => (await thresholds(s.o)).length >= 2, 20_000, "both thresholds");
    await ownRound(env.sql);
    expect((await thresholds(s.o)).map((e) => [e.action, e.changes.used])).toEqual([
      ["key.quota_warning", 10],
      ["key.quota_exhausted", 10],
    ]);
  });

  test("a limit raised after the warning and reached again: still one warning for the period", async () => {
    const s = await spender(10);
    await s.report(8);
    await waitFor(async () => (await thresholds(s.o)).length >= 1, 20_000, "the quota warning");
    // The owner raises the limit: usage falls below 80 % of it (the counter row takes the new limit on the next take).
    expect((await env.a.call("PATCH", "/api/v1/keys/", { headers: s.o.headers, json: { quota: { limit: 20, period: "day" } } })).status).toBe(200);
    const more = await take(s.hash, { want: 10 });
    expect(more).toMatchObject({ granted: 10, limit: 20, start: s.start });
    await s.report(2);
    await ownRound(env.sql);
    expect((await thresholds(s.o)).map((e) => e.action)).toEqual(["key.quota_warning"]);
    // 16 of 20 is 80 % again: the period's warning is already recorded.
    await take(s.hash, { want: 0, start: s.start, used: 6 });
    await ownRound(env.sql);
    expect(await usedInGet(s.o, 20)).toBe(16);
    expect((await thresholds(s.o)).map((e) => e.action)).toEqual(["key.quota_warning"]);
  });

  test("the next period has thresholds of its own", async () => {
    const s = await spender(10);
    await s.report(8);
    await waitFor(async () => (await thresholds(s.o)).length >= 1, 20_000, "today's warning");
    // Tomorrow, on a clock of the test's own (the take statement takes the time it is given).
    const tomorrow = s.start + 86_400_000;
    const periods = new Periods();
    const none = { want: 0, start: -1, release: 0, used: 0 };
    const at = (quota: typeof none, now: number) => takeUnits(env.sql, Buffer.from(s.hash, "hex"), none, quota, now, periods.at(now));
    expect((await at({ ...none, want: 10 }, tomorrow + 1))!.quota).toMatchObject({ granted: 10, start: tomorrow });
    await at({ ...none, start: tomorrow, used: 9 }, tomorrow + 2);
    await waitFor(async () => (await thresholds(s.o)).length >= 2, 20_000, "tomorrow's warning");
    await ownRound(env.sql);
    expect((await thresholds(s.o)).map((e) => [e.action, e.changes.periodStart, e.changes.used])).toEqual([
      ["key.quota_warning", new Date(s.start).toISOString(), 8],
      ["key.quota_warning", new Date(tomorrow).toISOString(), 9],
    ]);
  });

  test("the entry names the slot's active key: after a rotation, the new one", async () => {
    const s = await spender(10);
    const r = await env.a.call("POST", "/api/v1/keys/regenerate", { headers: s.o.headers, json: { gracePeriodSeconds: 3600 } });
    expect(r.status).toBe(200);
    // The old key, still in its grace, reports what it spent.
    await s.report(9);
    await waitFor(async () => (await thresholds(s.o)).length >= 1, 20_000, "the quota warning");
    expect((await thresholds(s.o)).map((e) => e.key_id)).toEqual([r.body.data.keyId]);
  });

  test("an owner below 80 %, and one without a quota, get nothing", async () => {
    const low = await spender(10);
    await low.report(7);
    const none = await newOwner("noquota");
    expect((await env.a.call("POST", "/api/v1/keys/generate", { headers: none.headers })).status).toBe(201);
    await ownRound(env.sql);
    await ownRound(env.sql);
    for (const o of [low.o, none]) {
      expect((await auditOf(env.sql, o.sub)).filter((e) => e.actor_type === "system")).toEqual([]);
      expect((await eventsOf(env, o.sub)).filter((e) => e.data.actor.type === "system")).toEqual([]);
    }
  });
});
