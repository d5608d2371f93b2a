/**
 * keys.limits.take over real NATS and Postgres: leases never add up past the
 * limit, whatever the concurrency; windows and quota periods roll over; used
 * reports land on their period; bad input and unusable keys are answered.
 * Window and period cases drive the one statement (repo.ts) with a clock of
 * their own; everything else goes through the responder on the bus.
 */
import { describe, expect, test } from "bun:test";
import { hashKey, quotaWindow, rateWindow, subjects, type LimitsTakeReply } from "@riskinmind/contracts";
import { useKeysStack, newOwner, issueKey } from "@riskinmind/testkit";
import { readQuotaUsed, takeUnits, type Draw } from "../../services/keys/src/limits/repo";
import { Periods } from "../../services/keys/src/limits/windows";

const env = useKeysStack();
const enc = new TextEncoder();

async function take(payload: unknown): Promise<LimitsTakeReply> {
  const data = typeof payload === "string" ? payload : JSON.stringify(payload);
  const msg = await env.nc.request(subjects(env.topo).limitsTake, enc.encode(data), { timeout: 5000 });
  return JSON.parse(new TextDecoder().decode(msg.data)) as LimitsTakeReply;
}

interface Policy {
  rate?: [limit: number, windowS: number];
  quota?: [limit: number, period: "day" | "month", anchorDay: number];
}

/** A fresh owner with a live key under `policy` (set in SQL: these tests pin the counters, not the management API). */
async function keyWith(policy: Policy) {
  const owner = await newOwner("limits");
  const { apiKey, keyId } = await issueKey(env.a, owner);
  const [rl, rw] = policy.rate ?? [null, null];
  const [ql, qp, qa] = policy.quota ?? [null, null, null];
  await env.sql`update keys.api_keys set rate_limit = ${rl}, rate_window_s = ${rw}, quota_limit = ${ql}, quota_period = ${qp}, quota_anchor_day = ${qa} where id = ${keyId}`;
  return { owner, keyId, hash: hashKey(apiKey), hex: hashKey(apiKey).toString("hex") };
}

const draw = (want: number, more: Partial<Draw> = {}): Draw => ({ want, start: -1, release: 0, used: 0, ...more });
const NONE = draw(0);

describe("keys.limits.take: leases", () => {
  test("200 concurrent takes of 7 against a limit of 500: exactly 500 granted, no more", async () => {
    const k = await keyWith({ rate: [500, 3600], quota: [500, "day", 1] });
    const replies = await Promise.all(Array.from({ length: 200 }, () => take({ keyHash: k.hex, rate: { want: 7 }, quota: { want: 7 } })));
    let rate = 0;
    let quota = 0;
    for (const r of replies) {
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      rate += r.rate!.granted;
      quota += r.quota!.granted;
    }
    expect(rate).toBe(500);
    expect(quota).toBe(500);
    const after = await take({ keyHash: k.hex, rate: { want: 1 }, quota: { want: 1 } });
    expect(after).toMatchObject({ ok: true, rate: { granted: 0, left: 0, limit: 500 }, quota: { granted: 0, left: 0, limit: 500 } });
  });

  test("a lease names its window and period on the keys service's clock", async () => {
    const k = await keyWith({ rate: [10, 60], quota: [1000, "month", 31] });
    const r = await take({ keyHash: k.hex, rate: { want: 3 }, quota: { want: 4 } });
    if (!r.ok) throw new Error(`refused: ${r.code}`);
    expect(r.rate).toEqual({ granted: 3, left: 7, limit: 10, ...rateWindow(60, r.now) });
    expect(r.quota).toEqual({ granted: 4, left: 996, limit: 1000, ...quotaWindow("month", 31, r.now) });
  });

  test("a key with neither limit gets an empty lease; a kind the key lacks is left out", async () => {
    const none = await keyWith({});
    expect(await take({ keyHash: none.hex, rate: { want: 5 }, quota: { want: 5 } })).toEqual({ ok: true, now: expect.any(Number) });
    const rateOnly = await keyWith({ rate: [5, 1] });
    const r = await take({ keyHash: rateOnly.hex, quota: { want: 5 } });
    expect(r.ok && r.rate?.granted === 0 && r.rate.left === 5 && r.quota === undefined).toBe(true);
  });

  test("the slot, not the key, owns the counters: a regenerated key goes on from its predecessor's count", async () => {
    const k = await keyWith({ rate: [10, 3600] });
    expect(await take({ keyHash: k.hex, rate: { want: 6 } })).toMatchObject({ rate: { granted: 6 } });
    const next = await env.a.regenerate(k.owner);
    if (!next.body.success) throw new Error(`regenerate: ${next.status}`);
    const hex = hashKey(next.body.data.apiKey).toString("hex");
    await env.sql`update keys.api_keys set rate_limit = 10, rate_window_s = 3600 where id = ${next.body.data.keyId}`;
    expect(await take({ keyHash: hex, rate: { want: 6 } })).toMatchObject({ rate: { granted: 4, left: 0 } });
  });
});

describe("keys.limits.take: windows and periods", () => {
  const periods = new Periods();
  const at = (k: { hash: Buffer }, rate: Draw, quota: Draw, now: number) => takeUnits(env.sql, k.hash, rate, quota, now, periods.at(now));

  test("a rate window refills when the next one starts, not before", async () => {
    const k = await keyWith({ rate: [10, 60] });
    const t0 = rateWindow(60, Date.now()).start + 1_000;
    expect((await at(k, draw(10), NONE, t0))!.rate).toMatchObject({ granted: 10, left: 0, start: t0 - 1_000 });
    expect((await at(k, draw(1), NONE, t0 + 58_999))!.rate).toMatchObject({ granted: 0, left: 0 });
    expect((await at(k, draw(4), NONE, t0 + 59_000))!.rate).toMatchObject({ granted: 4, left: 6, start: t0 + 59_000 });
  });

  test("released units of the current window can be leased again; of an ended one, they are ignored", async () => {
    const k = await keyWith({ rate: [10, 60] });
    const w = rateWindow(60, Date.now());
    expect((await at(k, draw(10), NONE, w.start))!.rate!.left).toBe(0);
    expect((await at(k, draw(0, { start: w.start, release: 4 }), NONE, w.start + 10))!.rate).toMatchObject({ granted: 0, left: 4 });
    expect((await at(k, draw(0, { start: w.start - 60_000, release: 4 }), NONE, w.start + 20))!.rate!.left).toBe(4);
    // a release never goes below zero, whatever a caller claims
    expect((await at(k, draw(0, { start: w.start, release: 1_000 }), NONE, w.start + 30))!.rate!.left).toBe(10);
  });

  test("a daily quota resets at 00:00 UTC", async () => {
    const k = await keyWith({ quota: [5, "day", 1] });
    const day = quotaWindow("day", 1, Date.now());
    expect((await at(k, NONE, draw(9), day.start + 5))!.quota).toMatchObject({ granted: 5, left: 0, end: day.end });
    expect((await at(k, NONE, draw(1), day.end - 1))!.quota!.granted).toBe(0);
    expect((await at(k, NONE, draw(1), day.end))!.quota).toMatchObject({ granted: 1, left: 4, start: day.end });
  });

  test("a monthly quota anchored on the 31st runs from February's last day", async () => {
    const k = await keyWith({ quota: [100, "month", 31] });
    const now = Date.UTC(2027, 2, 15);
    const q = (await at(k, NONE, draw(1), now))!.quota!;
    expect(q).toMatchObject({ start: Date.UTC(2027, 1, 28), end: Date.UTC(2027, 2, 31) });
    expect((await at(k, NONE, draw(1), Date.UTC(2027, 2, 31)))!.quota).toMatchObject({ granted: 1, left: 99, start: Date.UTC(2027, 2, 31) });
  });

  test("used reports: on their own period even after it ended, and never past what was granted", async () => {
    const k = await keyWith({ quota: [50, "day", 1] });
    const slot = { ownerId: k.owner.sub, mode: "live" as const, period: "day" as const, anchorDay: 1, limit: 50 };
    const day = quotaWindow("day", 1, Date.now());
    await at(k, NONE, draw(20), day.start);
    await at(k, NONE, draw(0, { start: day.start, used: 12 }), day.start + 1);
    expect(await readQuotaUsed(env.sql, slot, day.start + 2)).toEqual({ used: 12, resetsAt: new Date(day.end).toISOString() });
    // the next day: 3 more spent yesterday reported along with today's first take
    await at(k, NONE, draw(5, { start: day.start, used: 3 }), day.end + 1);
    expect((await readQuotaUsed(env.sql, slot, day.start + 3)).used).toBe(15);
    expect((await readQuotaUsed(env.sql, slot, day.end + 2)).used).toBe(0);
    await at(k, NONE, draw(0, { start: day.end, used: 999 }), day.end + 3);
    expect((await readQuotaUsed(env.sql, slot, day.end + 4)).used).toBe(5);
  });
});

describe("keys.limits.take: refusals and bad input", () => {
  test("the hash of an unknown, revoked or expired key is refused; a rotated-out key in its grace period is not", async () => {
    const unknown = hashKey(`sk_live_${"x".repeat(40)}`).toString("hex");
    expect(await take({ keyHash: unknown, rate: { want: 1 } })).toMatchObject({ ok: false, code: "KEY_REFUSED" });

    const k = await keyWith({ rate: [10, 60] });
    await env.sql`update keys.api_keys set status = 'REVOKED', revoked_at = now(), grace_until = now() + interval '1 hour' where id = ${k.keyId}`;
    expect(await take({ keyHash: k.hex, rate: { want: 1 } })).toMatchObject({ ok: true, rate: { granted: 1 } });
    await env.sql`update keys.api_keys set grace_until = null where id = ${k.keyId}`;
    expect(await take({ keyHash: k.hex, rate: { want: 1 } })).toMatchObject({ ok: false, code: "KEY_REFUSED" });

    const e = await keyWith({ quota: [10, "day", 1] });
    await env.sql`update keys.api_keys set expires_at = now() - interval '1 second' where id = ${e.keyId}`;
    expect(await take({ keyHash: e.hex, quota: { want: 1 } })).toMatchObject({ ok: false, code: "KEY_REFUSED" });
  });

  test("anything but a valid take gets VALIDATION_ERROR, never silence, and spends nothing", async () => {
    const k = await keyWith({ rate: [10, 3600] });
    const bad: unknown[] = [
      "not json",
      "null",
      {},
      { keyHash: k.hex.toUpperCase(), rate: { want: 1 } },
      { keyHash: k.hex, rate: { want: -1 } },
      { keyHash: k.hex, rate: { want: 1.5 } },
      { keyHash: k.hex, rate: { want: 1_000_001 } },
      { keyHash: k.hex, rate: { want: 1, extra: 1 } },
      { keyHash: k.hex, keyId: k.keyId, rate: { want: 1 } },
      { keyHash: k.hex, rate: { want: 1, start: -5 } },
      { keyHash: k.hex, quota: "all" },
    ];
    for (const b of bad) expect(await take(b)).toMatchObject({ ok: false, code: "VALIDATION_ERROR" });
    expect(await take({ keyHash: k.hex, rate: { want: 0 } })).toMatchObject({ ok: true, rate: { left: 10 } });
  });

  test("Postgres unreachable → DATABASE_UNAVAILABLE, an answer rather than a timeout", async () => {
    const k = await keyWith({ rate: [10, 60] });
    const c = await env.start();
    await env.a.service.stop();
    try {
      await c.sql.end({ timeout: 1 });
      expect(await take({ keyHash: k.hex, rate: { want: 1 } })).toMatchObject({ ok: false, code: "DATABASE_UNAVAILABLE" });
    } finally {
      await c.service.stop();
      await env.a.service.start();
    }
  });
});
