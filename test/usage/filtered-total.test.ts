/**
 * Filtered totals of the logs (meta.total under filters) read from the
 * rollups: whole UTC days from the daily rollups, whole hours from the
 * hourly ones, the partial hours at the edges of from/to from the rows.
 * Against a known set of events written by the real writer (which keeps the
 * rollups), every total equals the true count, for ranges cutting hours and
 * days anywhere, prefixes, combinations, both modes and the empty set; and
 * an event in flight is counted by no read before its commit and by every
 * read after it, rows and rollups alike.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { type KeyMode, type LogsFilter, type LogsFilterInput, parseLogsFilter } from "@riskinmind/contracts";
import { migrate } from "@riskinmind/runtime";
import type { IngestEvent } from "../../services/usage/src/ingest/parse";
import { writeBatch } from "../../services/usage/src/ingest/writer";
import { filteredTotal, planTotal } from "../../services/usage/src/logs/filtered-total";
import { readLogsPage } from "../../services/usage/src/logs/query";
import { createTestDb, type TestDb, USAGE_MIGRATIONS, waitFor } from "@riskinmind/testkit";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** Midnight UTC three days back: four whole days of events, all in the past. */
const D0 = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
const iso = (t: number) => new Date(t).toISOString();

let db: TestDb;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createTestDb();
  sql = postgres(db.url, { max: 4, onnotice: () => {} });
  await migrate(sql, "usage", USAGE_MIGRATIONS);
});
afterAll(async () => {
  await sql?.end({ timeout: 2 });
  await db?.drop();
});

const filter = (input: LogsFilterInput): LogsFilter => {
  const r = parseLogsFilter(input);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

/** The events' own test of a filter: what the total must count. */
function matches(e: IngestEvent, mode: KeyMode, f: LogsFilter): boolean {
  if ((e.mode ?? "live") !== mode) return false;
  if (f.statuses && !f.statuses.includes(e.statusCode)) return false;
  if (f.methods && !(f.methods as string[]).includes(e.method)) return false;
  if (f.keyId !== undefined && e.keyId !== f.keyId) return false;
  if (f.endpoint && !(f.endpoint.prefix ? e.endpoint.startsWith(f.endpoint.path) : e.endpoint === f.endpoint.path)) return false;
  if (f.fromMs !== undefined && e.ts < f.fromMs) return false;
  if (f.toMs !== undefined && e.ts >= f.toMs) return false;
  return true;
}

describe("planTotal: every millisecond of [from, to) in exactly one part", () => {
  const ranges: [number | undefined, number | undefined][] = [
    [undefined, undefined],
    [D0 + 90 * 60_000, undefined],
    [undefined, D0 + DAY + 1],
    [D0, D0 + DAY],
    [D0 + 1, D0 + 2 * DAY - 1],
    [D0 + 5 * HOUR, D0 + 5 * HOUR + 1],
    [D0 + 5 * HOUR - 1, D0 + 5 * HOUR + 1],
    [D0 + 23 * HOUR + 1, D0 + DAY + HOUR - 1],
    [D0 + 3 * HOUR + 17, D0 + 21 * HOUR + 5],
  ];
  for (const [from, to] of ranges) {
    test(`${from === undefined ? "-" : iso(from)} .. ${to === undefined ? "-" : iso(to)}`, () => {
      const p = planTotal(from, to);
      const lo = from ?? Number.NEGATIVE_INFINITY;
      const hi = to ?? Number.POSITIVE_INFINITY;
      // Sample instants (every boundary ± 1 ms and a grid) against the parts.
      const probes = new Set<number>();
      for (let t = D0 - 2 * DAY; t <= D0 + 6 * DAY; t += HOUR) for (const d of [-1, 0, 1, 777_777]) probes.add(t + d);
      for (const t of [from, to]) if (t !== undefined) for (const d of [-1, 0, 1]) probes.add(t + d);
      const inSpan = (s: { from: number | null; to: number | null }, t: number) => (s.from === null || t >= s.from) && (s.to === null || t < s.to);
      for (const t of probes) {
        const hits = [...p.days, ...p.hours, ...p.rows].filter((s) => inSpan(s, t)).length;
        expect({ t: iso(t), hits }).toEqual({ t: iso(t), hits: t >= lo && t < hi ? 1 : 0 });
      }
      for (const s of p.days) for (const b of [s.from, s.to]) if (b !== null) expect(b % DAY).toBe(0);
      for (const s of p.hours) for (const b of [s.from, s.to]) expect(b !== null && b % HOUR === 0).toBe(true);
      // Rows are read for at most two hours in all.
      expect(p.rows.reduce((n, s) => n + (s.to! - s.from!), 0)).toBeLessThanOrEqual(2 * HOUR);
    });
  }
});

describe("filtered totals against the true count", () => {
  const owner = "ft_owner";
  const events: IngestEvent[] = [];
  const STATUSES = [200, 201, 404, 429, 500, 503];
  const METHODS = ["GET", "POST", "DELETE", "PUT", "POST"];
  // %, _ and a path past the 256 characters the logs' endpoint index keeps: the rollups compare the whole path.
  const LONG = `/api/v1/long/${"a".repeat(300)}`;
  const ENDPOINTS = ["/api/v1/loans/predict", "/api/v1/loans/list", "/api/v2/other", "/api/v1/loansx", "/p%c_t/x", "/pxcyt/x", LONG, `${LONG}/tail`];

  beforeAll(async () => {
    const ts = (i: number) => D0 + ((i * 7_919_993) % (4 * DAY));
    for (let i = 0; i < 600; i++) events.push(mk(i, ts(i)));
    // On and next to the boundaries the plan cuts at.
    let j = 1000;
    for (const t of [D0, D0 + HOUR, D0 + DAY, D0 + 2 * DAY + 5 * HOUR, D0 + 3 * DAY]) for (const d of [-1, 0, 1]) events.push(mk(j++, t + d));
    // Several batches, so rollup rows are merged as well as created.
    for (let i = 0; i < events.length; i += 50) await writeBatch(sql, events.slice(i, i + 50));
  });

  function mk(i: number, t: number): IngestEvent {
    return {
      key: `i:ft-${i}`,
      ownerId: owner,
      keyId: i % 3 === 0 ? "key_a" : "key_b",
      endpoint: ENDPOINTS[i % ENDPOINTS.length]!,
      method: METHODS[i % METHODS.length]!,
      statusCode: STATUSES[i % STATUSES.length]!,
      ts: t,
      durationMs: i % 4 === 0 ? null : i,
      mode: i % 7 === 0 ? "test" : "live",
    };
  }

  const filters: LogsFilterInput[] = [
    {},
    { status: "5xx" },
    { status: "429,2xx" },
    { status: "302" },
    { method: "POST" },
    { method: "GET,DELETE" },
    { endpoint: "/api/v1/loans/*" },
    { endpoint: "/api/v1/loans*" },
    { endpoint: "/api/v1/loans/predict" },
    { endpoint: "/p%c_t/*" },
    { endpoint: LONG },
    { endpoint: `${LONG}*` },
    { keyId: "key_a" },
    { status: "5xx", method: "POST", endpoint: "/api/*" },
    { status: "4xx", endpoint: "/api/v1/*", keyId: "key_b" },
  ];
  const cuts = [
    D0,
    D0 + 1,
    D0 + HOUR - 1,
    D0 + HOUR,
    D0 + 5 * HOUR + 123,
    D0 + DAY,
    D0 + DAY + 30 * 60_000,
    D0 + 2 * DAY - 1,
    D0 + 2 * DAY + 5 * HOUR,
    D0 + 3 * DAY + 23 * HOUR + 59 * 60_000,
    D0 + 4 * DAY,
  ];
  const ranges: [number | undefined, number | undefined][] = [[undefined, undefined]];
  for (const a of cuts) {
    ranges.push([a, undefined], [undefined, a]);
    for (const b of cuts) if (a < b) ranges.push([a, b]);
  }

  test("the data set is not trivial: every cut has events around it and most filters split it", () => {
    for (const c of cuts.slice(0, -1)) expect(events.some((e) => e.ts >= c && e.ts < c + HOUR)).toBe(true);
    for (const f of filters.slice(1, -1)) {
      const n = events.filter((e) => matches(e, "live", filter(f))).length;
      if (f.status !== "302") expect({ f, some: n > 0 && n < events.length }).toEqual({ f, some: true });
    }
  });

  test("each filter alone and combined, over ranges cutting hours and days anywhere: the exact count", async () => {
    let nonZero = 0;
    for (const f of filters) {
      for (const [from, to] of ranges) {
        const lf = { ...filter(f), ...(from === undefined ? {} : { fromMs: from }), ...(to === undefined ? {} : { toMs: to }) };
        const want = events.filter((e) => matches(e, "live", lf)).length;
        const got = await filteredTotal(sql, { ownerId: owner, mode: "live", filter: lf });
        expect({ f, from: from && iso(from), to: to && iso(to), got }).toEqual({ f, from: from && iso(from), to: to && iso(to), got: want });
        if (want > 0) nonZero++;
      }
    }
    expect(nonZero).toBeGreaterThan(filters.length * 10);
  }, 60_000);

  test("through readLogsPage: the total is the number of rows the page read returns", async () => {
    for (const f of [{ status: "5xx" }, { endpoint: "/api/v1/loans*", method: "POST" }, { from: iso(D0 + HOUR - 1), to: iso(D0 + 2 * DAY + 5 * HOUR) }]) {
      const page = await readLogsPage(sql, { ownerId: owner, page: 1, limit: 1000, filter: filter(f) });
      expect(page.total).toBe(page.data.length);
      expect(page.total).toBe(events.filter((e) => matches(e, "live", filter(f))).length);
    }
  });

  test("the test mode is its own log", async () => {
    for (const f of [{}, { status: "5xx" }, { from: iso(D0 + 5 * HOUR + 123), to: iso(D0 + 2 * DAY + 5 * HOUR) }]) {
      const want = events.filter((e) => matches(e, "test", filter(f))).length;
      expect(want).toBeGreaterThan(0);
      expect(await filteredTotal(sql, { ownerId: owner, mode: "test", filter: filter(f) })).toBe(want);
    }
  });

  test("the empty set: another owner, a filter nothing matches, a range without events", async () => {
    expect(await filteredTotal(sql, { ownerId: "ft_nobody", mode: "live", filter: filter({ status: "5xx" }) })).toBe(0);
    expect(await filteredTotal(sql, { ownerId: owner, mode: "live", filter: filter({ status: "302", from: iso(D0 + 1) }) })).toBe(0);
    expect(await filteredTotal(sql, { ownerId: owner, mode: "live", filter: filter({ from: iso(D0 - 10 * DAY), to: iso(D0 - 2 * DAY - 1) }) })).toBe(0);
    expect(await filteredTotal(sql, { ownerId: owner, mode: "live", filter: filter({ from: iso(D0 + 5 * DAY) }) })).toBe(0);
  });

  test("whole hours and days are read from the rollups, the edges from the rows", async () => {
    // A copy of the owner's data under another owner, then its rollups and rows made to disagree on purpose.
    const o = "ft_probe";
    await writeBatch(
      sql,
      events.filter((e) => (e.mode ?? "live") === "live").map((e) => ({ ...e, key: `${e.key}:probe`, ownerId: o })),
    );
    const read = (from: number, to: number) => filteredTotal(sql, { ownerId: o, mode: "live", filter: { fromMs: from, toMs: to } });
    const truth = (from: number, to: number) => events.filter((e) => matches(e, "live", { fromMs: from, toMs: to })).length;
    const day1 = [D0 + DAY, D0 + 2 * DAY] as const;
    const edge = [D0 + DAY + 30 * 60_000, D0 + DAY + HOUR] as const;
    expect(await read(...day1)).toBe(truth(...day1));
    expect(await read(...edge)).toBe(truth(...edge));
    const bumped = await sql`
      update usage.rollup_daily set count = count + 1000
      where ctid = (select ctid from usage.rollup_daily where owner_id = ${o} and mode = 'live' and bucket = ${new Date(D0 + DAY)} limit 1)`;
    expect(bumped.count).toBe(1);
    // A whole day is the daily rollup; a partial hour is rows (the rollups do not enter).
    expect(await read(...day1)).toBe(truth(...day1) + 1000);
    expect(await read(...edge)).toBe(truth(...edge));
  });
});

describe("an event in flight", () => {
  test("no read counts it before its transaction commits, every read after, rows and rollups alike", async () => {
    const o = "ft_flight";
    const t0 = D0 + DAY + 20 * 60_000;
    const ev = (i: number, t: number): IngestEvent => ({ key: `i:fl-${i}`, ownerId: o, keyId: "key_a", endpoint: "/x", method: "POST", statusCode: 503, ts: t, durationMs: 1, mode: "live" });
    await writeBatch(sql, [ev(0, t0), ev(1, t0 + HOUR)]);
    // A whole day (daily rollup), the hours after a partial one (hourly rollups), a partial hour (rows).
    const f = (from: number) => ({ ownerId: o, mode: "live" as const, filter: filter({ status: "5xx", from: iso(from) }) });
    const reads = async () => [await filteredTotal(sql, f(D0)), await filteredTotal(sql, f(D0 + DAY + 5 * 60_000)), await filteredTotal(sql, f(t0 + HOUR - 1))];
    expect(await reads()).toEqual([2, 2, 1]);

    // The writer's transaction stops at the daily rollup row (locked here),
    // after the owner's counter is bumped and while its row and hourly rollup
    // are written in the same statement, before anything commits.
    const blocker = postgres(db.url, { max: 1, onnotice: () => {} });
    let writing: Promise<number> | undefined;
    try {
      await blocker.begin(async (tx) => {
        const [me] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
        const locked = await tx`select 1 from usage.rollup_daily where owner_id = ${o} and bucket = ${new Date(D0 + DAY)} for update`;
        expect(locked.length).toBe(1);
        writing = writeBatch(sql, [ev(2, t0 + HOUR + 1)]);
        await waitFor(async () => (await sql`select 1 from pg_stat_activity where ${me!.pid}::int = any(pg_blocking_pids(pid))`).length > 0, 10_000, "the writer waiting on the daily rollup row");
        expect(await reads()).toEqual([2, 2, 1]);
      });
      expect(await writing).toBe(1);
      expect(await reads()).toEqual([3, 3, 2]);
    } finally {
      await blocker.end({ timeout: 2 });
    }
  });

  test("reads during a stream of batches only ever see whole batches", async () => {
    const o = "ft_stream";
    // Each batch: one event in the partial hour at the edge (rows), two in whole hours (rollups).
    const from = D0 + 2 * DAY + 30 * 60_000;
    const batch = (i: number): IngestEvent[] =>
      [from + 1000 + i, from + HOUR + i, from + DAY + i].map((t, k) => ({
        key: `i:st-${i}-${k}`,
        ownerId: o,
        keyId: "key_a",
        endpoint: "/s",
        method: "GET",
        statusCode: 200,
        ts: t,
        durationMs: 1,
        mode: "live",
      }));
    const BATCHES = 40;
    let done = false;
    const writer = (async () => {
      for (let i = 0; i < BATCHES; i++) await writeBatch(sql, batch(i));
      done = true;
    })();
    const seen: number[] = [];
    while (!done) seen.push(await filteredTotal(sql, { ownerId: o, mode: "live", filter: filter({ method: "GET", from: iso(from) }) }));
    await writer;
    seen.push(await filteredTotal(sql, { ownerId: o, mode: "live", filter: filter({ method: "GET", from: iso(from) }) }));
    // A read mixing two moments (rows of one, rollups of another) would leave a remainder.
    expect(seen.filter((n) => n % 3 !== 0)).toEqual([]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen.at(-1)).toBe(3 * BATCHES);
  });
});
