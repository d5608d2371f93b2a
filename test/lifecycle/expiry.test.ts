/**
 * The changes time makes (issue 13): a key's expiry passing and a rotated-out
 * key's grace ending are each recorded once, by the system, with an audit
 * entry and a key event, whichever replica's sweep gets there first. The keys
 * service runs in process on real Postgres and NATS; the test reads the audit
 * log and the outbox, and runs rounds of its own to prove "nothing yet".
 */
import { describe, expect, test } from "bun:test";
import { newOwner, useKeysStack, waitFor, type Owner } from "@riskinmind/testkit";
import { recordExpiry, recordGraceEnd } from "../../services/keys/src/lifecycle/sweep";
import { auditOf, eventsOf, ownRound, quiet } from "./helpers";

const env = useKeysStack({ RATE_LIMIT_PER_MINUTE: "1000", LIFECYCLE_SWEEP_MS: "100" });

const ahead = (ms: number) => new Date(Date.now() + ms).toISOString();

async function generate(o: Owner, body: Record<string, unknown> = {}) {
  const g = await env.a.call("POST", "/api/v1/keys/generate", { headers: o.headers, json: body });
  expect(g.status).toBe(201);
  return g.body.data as { keyId: string; apiKey: string; expiresAt: string | null };
}

async function rotate(o: Owner, gracePeriodSeconds: number) {
  const r = await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { gracePeriodSeconds } });
  expect(r.status).toBe(200);
  return r.body.data as { keyId: string; previousKey: { keyId: string; expiresAt: string } };
}

const recorded =
  (ownerId: string, action: string, n = 1) =>
  async () =>
    (await auditOf(env.sql, ownerId, action)).length >= n;

describe("a key's expiry passing", () => {
  test("nothing before; once it passes, exactly one key.expired entry (system/lifecycle) and one key.expired event", async () => {
    const o = await newOwner("expiry");
    const expiresAt = ahead(4_000);
    const k = await generate(o, { expiresAt });
    await ownRound(env.sql);
    // The round above looked at the key before its expiry (checked after it, so the "nothing yet" means something).
    expect(Date.now()).toBeLessThan(Date.parse(expiresAt));
    expect(await auditOf(env.sql, o.sub, "key.expired")).toEqual([]);
    expect(await eventsOf(env, o.sub, "expired")).toEqual([]);

    await waitFor(recorded(o.sub, "key.expired"), 20_000, "the key.expired entry");
    await ownRound(env.sql);
    await ownRound(env.sql);
    expect(await auditOf(env.sql, o.sub, "key.expired")).toEqual([{ action: "key.expired", key_id: k.keyId, mode: "live", actor_type: "system", actor_id: "lifecycle", changes: { expiresAt } }]);
    const events = await eventsOf(env, o.sub, "expired");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "key.expired",
      data: { ownerId: o.sub, keyId: k.keyId, mode: "live", action: "key.expired", actor: { type: "system", id: "lifecycle" }, changes: { expiresAt } },
    });
    // Recorded only: the key stays as it was (generate replaces an expired key), and verification still says why it is refused.
    const [row] = await env.sql`select status from keys.api_keys where id = ${k.keyId}`;
    expect(row?.status).toBe("ACTIVE");
    expect(await env.verify(k.apiKey)).toEqual({ valid: false, code: "KEY_EXPIRED" });
  });

  test("an expired key a generate replaced before any sweep saw it still gets its one key.expired", async () => {
    const o = await newOwner("replaced");
    const k = await generate(o, { expiresAt: ahead(3_600_000) });
    // Moved into the past and replaced in one go, racing the sweeps.
    await env.sql`update keys.api_keys set expires_at = now() - interval '1 second', changed_at = now() where id = ${k.keyId}`;
    await generate(o);
    const [row] = await env.sql`select status from keys.api_keys where id = ${k.keyId}`;
    expect(row?.status).toBe("REVOKED");
    await waitFor(recorded(o.sub, "key.expired"), 20_000, "the replaced key's key.expired");
    await ownRound(env.sql);
    const entries = await auditOf(env.sql, o.sub, "key.expired");
    expect(entries.map((e) => e.key_id)).toEqual([k.keyId]);
  });

  test("a PATCH that moves an expired key's expiry ahead makes its next expiry a change of its own", async () => {
    const o = await newOwner("extended");
    const first = ahead(1_500);
    const k = await generate(o, { expiresAt: first });
    await waitFor(recorded(o.sub, "key.expired"), 20_000, "the first key.expired");
    const second = ahead(1_500);
    expect((await env.a.call("PATCH", "/api/v1/keys/", { headers: o.headers, json: { expiresAt: second } })).status).toBe(200);
    await waitFor(recorded(o.sub, "key.expired", 2), 20_000, "the second key.expired");
    await ownRound(env.sql);
    const entries = await auditOf(env.sql, o.sub, "key.expired");
    expect(entries.map((e) => [e.key_id, e.changes.expiresAt])).toEqual([
      [k.keyId, first],
      [k.keyId, second],
    ]);
  });
});

describe("a rotation's grace ending", () => {
  test("nothing before; once it ends, exactly one key.grace_ended for the old key, as a key.revoked event", async () => {
    const o = await newOwner("grace");
    const old = await generate(o);
    const r = await rotate(o, 3);
    const graceUntil = r.previousKey.expiresAt;
    expect(r.previousKey.keyId).toBe(old.keyId);
    await ownRound(env.sql);
    expect(Date.now()).toBeLessThan(Date.parse(graceUntil));
    expect(await auditOf(env.sql, o.sub, "key.grace_ended")).toEqual([]);

    await waitFor(recorded(o.sub, "key.grace_ended"), 20_000, "the key.grace_ended entry");
    await ownRound(env.sql);
    expect(await auditOf(env.sql, o.sub, "key.grace_ended")).toEqual([
      { action: "key.grace_ended", key_id: old.keyId, mode: "live", actor_type: "system", actor_id: "lifecycle", changes: { graceUntil } },
    ]);
    const events = (await eventsOf(env, o.sub, "revoked")).filter((e) => e.data.action === "key.grace_ended");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "key.revoked", data: { keyId: old.keyId, actor: { type: "system", id: "lifecycle" }, changes: { graceUntil } } });
    // The new key has no expiry: nothing recorded about it.
    expect((await auditOf(env.sql, o.sub)).filter((e) => e.actor_type === "system").map((e) => e.key_id)).toEqual([old.keyId]);
  });

  test("a grace ended early by a revoke is the owner's change: the sweep records no grace end", async () => {
    const o = await newOwner("cut");
    await generate(o);
    await rotate(o, 2);
    expect((await env.a.call("POST", "/api/v1/keys/revoke", { headers: o.headers })).status).toBe(200);
    const [past] = await env.sql<{ at: Date }[]>`select now() + interval '2500 milliseconds' as at`;
    await waitFor(async () => Date.now() > past!.at.getTime(), 10_000, "past the grace the rotation had set");
    await ownRound(env.sql);
    // The revoke recorded the early end itself (actor owner); the sweep adds nothing.
    const ended = await auditOf(env.sql, o.sub, "key.grace_ended");
    expect(ended.map((e) => e.actor_type)).toEqual(["owner"]);
  });
});

describe("several replicas sweeping", () => {
  test("three sweepers (two replicas and the test's own rounds): still exactly one entry per expiry and per grace end", async () => {
    const b = await env.start({ LIFECYCLE_SWEEP_MS: "20" });
    expect(b.config.LIFECYCLE_SWEEP_MS).toBe(20);
    const owners = await Promise.all(Array.from({ length: 6 }, () => newOwner("replicas")));
    const keys = await Promise.all(
      owners.map(async (o) => {
        const old = await generate(o);
        const r = await env.a.call("POST", "/api/v1/keys/regenerate", { headers: o.headers, json: { gracePeriodSeconds: 1, expiresAt: ahead(1_500) } });
        expect(r.status).toBe(200);
        return { o, old: old.keyId, current: r.body.data.keyId as string };
      }),
    );
    let sweeping = true;
    const own = (async () => {
      while (sweeping) await ownRound(env.sql);
    })();
    try {
      await waitFor(
        async () => {
          for (const k of keys) if (!(await recorded(k.o.sub, "key.expired")()) || !(await recorded(k.o.sub, "key.grace_ended")())) return false;
          return true;
        },
        20_000,
        "every expiry and grace end recorded",
      );
    } finally {
      sweeping = false;
      await own;
    }
    await ownRound(env.sql);
    for (const k of keys) {
      const system = (await auditOf(env.sql, k.o.sub)).filter((e) => e.actor_type === "system");
      expect(system.map((e) => [e.action, e.key_id]).sort()).toEqual([
        ["key.expired", k.current],
        ["key.grace_ended", k.old],
      ]);
      expect((await eventsOf(env, k.o.sub)).filter((e) => e.data.actor.type === "system")).toHaveLength(2);
    }
  });
});

describe("without the round lock", () => {
  test("the same due change claimed by eight concurrent transactions: one records it, the others find it recorded", async () => {
    // Replicas whose rounds overlap anyway (a round lock lost with its connection) are kept apart by the owner's lock and the marker.
    const b = await env.start({ LIFECYCLE_SWEEP_MS: "0" });
    const o = await newOwner("claims");
    const old = await generate(o, { expiresAt: ahead(3_600_000) });
    const cur = await rotate(o, 3600);
    // The test holds the round lock: no replica's round runs meanwhile, only the calls below.
    const holder = await env.sql.reserve();
    let wins: boolean[];
    try {
      await holder`select pg_advisory_lock(hashtext('keys:lifecycle'))`;
      await env.sql`update keys.api_keys set expires_at = now() - interval '1 second' where id = ${cur.keyId}`;
      await env.sql`update keys.api_keys set grace_until = now() - interval '1 second' where id = ${old.keyId}`;
      const deps = { sql: b.sql, log: quiet, outbox: { nudge() {} } };
      wins = await Promise.all([...Array.from({ length: 8 }, () => recordExpiry(deps, o.sub, cur.keyId)), ...Array.from({ length: 8 }, () => recordGraceEnd(deps, o.sub, old.keyId))]);
    } finally {
      await holder`select pg_advisory_unlock(hashtext('keys:lifecycle'))`;
      holder.release();
    }
    expect(wins.slice(0, 8).filter(Boolean)).toHaveLength(1);
    expect(wins.slice(8).filter(Boolean)).toHaveLength(1);
    await ownRound(env.sql);
    expect(
      (await auditOf(env.sql, o.sub))
        .filter((e) => e.actor_type === "system")
        .map((e) => [e.action, e.key_id])
        .sort(),
    ).toEqual([
      ["key.expired", cur.keyId],
      ["key.grace_ended", old.keyId],
    ]);
  });
});

describe("owners the sweep must leave alone", () => {
  test("an owner whose key expires later, and one without expiry, get nothing", async () => {
    const later = await newOwner("later");
    const never = await newOwner("never");
    await generate(later, { expiresAt: ahead(3_600_000) });
    await generate(never);
    await rotate(never, 3600);
    await ownRound(env.sql);
    await ownRound(env.sql);
    for (const o of [later, never]) {
      expect((await auditOf(env.sql, o.sub)).filter((e) => e.actor_type === "system")).toEqual([]);
      expect((await eventsOf(env, o.sub)).filter((e) => e.data.actor.type === "system")).toEqual([]);
    }
  });
});
