/**
 * Test keys: usage is kept per owner and key mode. Events of an owner's live
 * key and of its test key land in two separate logs (pages, totals, gap-free
 * seqs), filed under the mode keys.lookup reports for the key, never the mode
 * an event claims. /logs reads live unless asked for test. Rows written
 * before modes existed read as live.
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { check, subjects, type KeyLookupReply, type KeyMode, type LogsQueryReply } from "@riskinmind/contracts";
import { migrate } from "@riskinmind/runtime";
import { readLogsPage } from "../../services/usage/src/logs/query";
import { createTestDb, event, keyIdFor, USAGE_MIGRATIONS, usageStack, type UsageStack, waitFor } from "@riskinmind/testkit";

let f: UsageStack;
const enc = new TextEncoder();
const dec = new TextDecoder();
const base = Date.now() - 3600_000;

beforeAll(async () => {
  f = await usageStack();
  await f.startService({ batchMax: 3 });
});
afterAll(async () => {
  await f?.cleanup();
});

/**
 * Gives `ownerId` a live key (through the keys repo, as the stack does) and
 * an active test key beside it, written straight into keys.api_keys: the
 * usage side only needs the row keys.lookup reads. Returns both key ids.
 */
async function ownerWithBothKeys(ownerId: string): Promise<{ live: string; test: string }> {
  const live = keyIdFor(ownerId);
  await f.issueKeys([[live, ownerId]]);
  const testId = keyIdFor(`${ownerId}:test`);
  await f.sql`
    insert into keys.api_keys (id, owner_id, key_hash, key_last4, label, status, mode)
    values (${testId}, ${ownerId}, ${randomBytes(32)}, ${testId.slice(-4)}, null, 'ACTIVE', 'test')`;
  return { live, test: testId };
}

async function logs(req: Record<string, unknown>): Promise<LogsQueryReply> {
  const msg = await f.nc.request(subjects(f.topo).logsQuery, enc.encode(JSON.stringify(req)), { timeout: 5000 });
  const reply = JSON.parse(dec.decode(msg.data));
  expect(check.logsQueryReply.Check(reply)).toBe(true);
  return reply as LogsQueryReply;
}

async function page(ownerId: string, mode: KeyMode | undefined, pageNo = 1, limit = 100) {
  const r = await logs({ ownerId, page: pageNo, limit, ...(mode ? { mode } : {}) });
  if (!r.ok) throw new Error(`logs query failed: ${r.code}: ${r.message}`);
  return r;
}

/** Each (mode) log of the owner: row count, seq range and counter, from the tables themselves. */
async function shape(ownerId: string) {
  const rows = await f.sql<{ mode: string; n: number; lo: string; hi: string; total: string }[]>`
    select e.mode, count(*)::int as n, min(e.seq)::text as lo, max(e.seq)::text as hi, c.total::text as total
    from usage.events e join usage.owner_counters c using (owner_id, mode)
    where e.owner_id = ${ownerId} group by e.mode, c.total order by e.mode`;
  return [...rows];
}

describe("usage per key mode", () => {
  test("keys.lookup answers each key's mode (revoked keys too); unknown ids are absent", async () => {
    const o = "modes_lookup";
    const k = await ownerWithBothKeys(o);
    await f.sql`update keys.api_keys set status = 'REVOKED', revoked_at = now() where id = ${k.test}`;
    const msg = await f.nc.request(subjects(f.topo).keyLookup, enc.encode(JSON.stringify({ keyIds: [k.live, k.test, "key_neverIssued0000000000"] })), { timeout: 5000 });
    const reply = JSON.parse(dec.decode(msg.data)) as KeyLookupReply;
    expect(check.keyLookupReply.Check(reply)).toBe(true);
    if (!reply.ok) throw new Error(reply.code);
    expect(new Map(reply.keys.map((x) => [x.keyId, x]))).toEqual(
      new Map([
        [k.live, { keyId: k.live, ownerId: o, mode: "live" }],
        [k.test, { keyId: k.test, ownerId: o, mode: "test" }],
      ]),
    );
  });

  test("a live key's and a test key's events of one owner land in separate logs: pages, totals and gap-free seqs of their own; no mode reads live", async () => {
    const o = "modes_split";
    const k = await ownerWithBothKeys(o);
    const at = (i: number) => new Date(base + i * 1000).toISOString();
    const L = (i: number) => event({ ownerId: o, keyId: k.live, endpoint: `/live/${i}`, timestamp: at(i) });
    const T = (i: number) => event({ ownerId: o, keyId: k.test, endpoint: `/test/${i}`, timestamp: at(i) });
    // Interleaved in one message and in messages of their own; batches of 3 mix both modes.
    await f.publish([L(0), T(1), L(2), T(3)], { issue: false });
    await f.publish(L(4), { issue: false });
    await f.publish([T(5), T(6)], { issue: false });
    await f.publish([L(7), T(8)], { issue: false });
    await waitFor(async () => (await f.count(`owner_id = '${o}'`)) === 9, 15_000, "all 9 rows");

    const live = await page(o, "live");
    const test_ = await page(o, "test");
    expect(live.total).toBe(4);
    expect(live.data.map((d) => d.endpoint)).toEqual(["/live/7", "/live/4", "/live/2", "/live/0"]);
    expect(live.data.every((d) => d.keyId === k.live)).toBe(true);
    expect(test_.total).toBe(5);
    expect(test_.data.map((d) => d.endpoint)).toEqual(["/test/8", "/test/6", "/test/5", "/test/3", "/test/1"]);
    expect(test_.data.every((d) => d.keyId === k.test)).toBe(true);
    // No mode at all is live, exactly.
    expect(await page(o, undefined)).toEqual(live);

    // Paging walks one mode only: the last test page holds the oldest test row.
    expect((await page(o, "test", 2, 2)).data.map((d) => d.endpoint)).toEqual(["/test/5", "/test/3"]);
    expect(await page(o, "test", 3, 2)).toMatchObject({ total: 5, data: [{ endpoint: "/test/1" }] });
    expect(await page(o, "test", 4, 2)).toEqual({ ok: true, data: [], total: 5, nextCursor: null });
    expect(await page(o, "live", 3, 2)).toEqual({ ok: true, data: [], total: 4, nextCursor: null });

    // In the tables: one counter per mode, each log's seq exactly 1..total.
    expect(await shape(o)).toEqual([
      { mode: "live", n: 4, lo: "1", hi: "4", total: "4" },
      { mode: "test", n: 5, lo: "1", hi: "5", total: "5" },
    ]);
  }, 30_000);

  test("an event's own mode is not believed: a live key's event that says test stays live, and the other way round", async () => {
    const o = "modes_forged";
    const k = await ownerWithBothKeys(o);
    await f.publish(
      [
        event({ ownerId: o, keyId: k.live, endpoint: "/live-says-test", mode: "test" }),
        event({ ownerId: o, keyId: k.test, endpoint: "/test-says-live", mode: "live" }),
        event({ ownerId: o, keyId: k.live, endpoint: "/live-says-live", mode: "live" }),
      ],
      { issue: false },
    );
    await waitFor(async () => (await f.count(`owner_id = '${o}'`)) === 3, 15_000, "all 3 rows");
    const live = await page(o, "live");
    const test_ = await page(o, "test");
    expect(live.data.map((d) => d.endpoint).sort()).toEqual(["/live-says-live", "/live-says-test"]);
    expect(live.total).toBe(2);
    expect(test_.data.map((d) => d.endpoint)).toEqual(["/test-says-live"]);
    expect(test_.total).toBe(1);
    // Stored, not refused: the mode an event claims is informative only.
    expect(await f.count(`owner_id = '${o}' and mode = 'live' and endpoint = '/live-says-test'`)).toBe(1);
  }, 30_000);

  test("an owner with test traffic only has an empty live log (total 0), and another owner's test log is not theirs", async () => {
    const o = "modes_testonly";
    const k = await ownerWithBothKeys(o);
    await f.publish([event({ ownerId: o, keyId: k.test }), event({ ownerId: o, keyId: k.test })], { issue: false });
    await waitFor(async () => (await f.count(`owner_id = '${o}'`)) === 2, 15_000, "both rows");
    expect(await page(o, undefined)).toEqual({ ok: true, data: [], total: 0, nextCursor: null });
    expect((await page(o, "test")).total).toBe(2);
    expect(await page("modes_nobody", "test")).toEqual({ ok: true, data: [], total: 0, nextCursor: null });
  }, 30_000);

  test("a mode outside live|test → VALIDATION_ERROR naming the field, never silence", async () => {
    for (const mode of ["prod", "", "TEST", 1, null]) {
      const r = await logs({ ownerId: "modes_bad", page: 1, limit: 10, mode });
      expect(r).toMatchObject({ ok: false, code: "VALIDATION_ERROR" });
      if (!r.ok) expect(r.message).toContain("mode");
    }
  });
});

describe("migration 002_modes", () => {
  test("rows and counters written before modes are live: read by default and by mode=live, absent from mode=test; new test rows start their own seq", async () => {
    const db = await createTestDb();
    const sql = postgres(db.url, { max: 2, onnotice: () => {} });
    const only001 = mkdtempSync(join(tmpdir(), "usage-001-"));
    try {
      copyFileSync(join(USAGE_MIGRATIONS, "001_usage.sql"), join(only001, "001_usage.sql"));
      expect(await migrate(sql, "usage", only001)).toEqual(["001_usage.sql"]);
      await sql`
        insert into usage.events (owner_id, seq, event_key, key_id, endpoint, method, status_code, ts, duration_ms)
        select 'old', s, 'old:' || s, 'key_old', '/old/' || s, 'GET', 200, now() - make_interval(secs => 100 - s), null
        from generate_series(1, 3) s`;
      await sql`insert into usage.owner_counters (owner_id, total) values ('old', 3)`;

      expect(await migrate(sql, "usage", USAGE_MIGRATIONS)).toContain("002_modes.sql");
      const byDefault = await readLogsPage(sql, { ownerId: "old", page: 1, limit: 10 });
      expect(byDefault.total).toBe(3);
      expect(byDefault.data.map((d) => d.endpoint)).toEqual(["/old/3", "/old/2", "/old/1"]);
      expect(await readLogsPage(sql, { ownerId: "old", page: 1, limit: 10, mode: "live" })).toEqual(byDefault);
      expect(await readLogsPage(sql, { ownerId: "old", page: 1, limit: 10, mode: "test" })).toEqual({ data: [], total: 0 });
      // The same seq in the other mode is a different row: the key is (owner, mode, seq).
      await sql`
        insert into usage.events (owner_id, mode, seq, event_key, key_id, endpoint, method, status_code, ts)
        values ('old', 'test', 1, 'new:1', 'key_new', '/new/1', 'GET', 200, now())`;
      await sql`insert into usage.owner_counters (owner_id, mode, total) values ('old', 'test', 1)`;
      expect(await readLogsPage(sql, { ownerId: "old", page: 1, limit: 10, mode: "test" })).toMatchObject({ total: 1, data: [{ endpoint: "/new/1" }] });
      expect((await readLogsPage(sql, { ownerId: "old", page: 1, limit: 10 })).total).toBe(3);
      // Anything but live|test is refused by the table itself.
      await expect(sql`insert into usage.owner_counters (owner_id, mode, total) values ('old', 'prod', 1)`).rejects.toMatchObject({ code: "23514" });
    } finally {
      rmSync(only001, { recursive: true, force: true });
      await sql.end({ timeout: 2 });
      await db.drop();
    }
  }, 30_000);
});
