import type { KeyMode } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import { rollupColumns, totalColumns, upsertRollup, upsertTotals } from "../aggregate/rollup";
import type { IngestEvent } from "./parse";

/** Conflicts another replica's concurrent batch can cause; the batch is simply retried. */
const RETRYABLE = new Set(["23505", "40P01", "40001"]);
const MAX_ATTEMPTS = 5;

/**
 * Writes a batch in one transaction and returns how many rows it added.
 * Events already stored (or repeated within the batch) are dropped, so a
 * redelivered message is harmless. Usage is kept per owner and key mode (an
 * event without a mode is live): each (owner, mode) counter is bumped once
 * and the new rows take seqs total-n+1..total, keeping seq gap-free so log
 * pages are pure arithmetic.
 */
export async function writeBatch(sql: Sql, events: IngestEvent[], order?: SeqOrder): Promise<number> {
  // The turn is awaited before a connection is taken: a batch waiting for the
  // one before it must not hold a pool connection that one still needs (with
  // several owner lanes, waiting inside the transaction could take the whole
  // pool and deadlock).
  await order?.turn();
  // First try optimistic (no look-up of existing keys); a batch that meets a
  // stored key is rolled back and written again with the look-up.
  let precheck = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return await writeOnce(sql, events, order, precheck);
    } catch (err) {
      if (err instanceof AlreadyStored && !precheck) {
        precheck = true;
        continue;
      }
      const code = (err as { code?: string }).code ?? "";
      if (!(err instanceof AlreadyStored) && !RETRYABLE.has(code)) throw err;
      if (attempt >= MAX_ATTEMPTS) throw err;
      await Bun.sleep(attempt * 5);
    }
  }
}

/** Some events of the batch were stored before (a redelivery, a re-sent id, a racing replica). */
class AlreadyStored extends Error {}

/**
 * Lets batches written concurrently take their seqs in the order they were
 * formed: a batch bumps the counters only after the batch before it has, so
 * "most recently recorded" stays the order the messages arrived in.
 */
export interface SeqOrder {
  /** Resolves when the previous batch holds its counter rows (or gave up). */
  turn(): Promise<void>;
  /** Called once this batch holds its counter rows. */
  done(): void;
}

/** One (owner, mode) log's share of a batch. */
interface Log {
  id: string;
  ownerId: string;
  mode: KeyMode;
  events: IngestEvent[];
}

async function writeOnce(sql: Sql, events: IngestEvent[], order: SeqOrder | undefined, precheck: boolean): Promise<number> {
  const unique = new Map<string, IngestEvent>();
  for (const e of events) if (!unique.has(e.key)) unique.set(e.key, e);
  if (unique.size === 0) {
    order?.done();
    return 0;
  }

  return sql.begin(async (tx) => {
    if (precheck) {
      // Idempotency is (event_key, ts) (005_partitions.sql): the look-up is by
      // both, and a stored row counts only when its time is the event's too.
      const batch = [...unique.values()];
      const existing = await tx<{ event_key: string; ts: Date }[]>`
        select event_key, ts from usage.events
        where event_key = any(${batch.map((e) => e.key)}::text[]) and ts = any(${batch.map((e) => new Date(e.ts).toISOString())}::timestamptz[])`;
      for (const row of existing) if (unique.get(row.event_key)?.ts === row.ts.getTime()) unique.delete(row.event_key);
      if (unique.size === 0) {
        order?.done();
        return 0;
      }
    }

    // Per (owner, mode), in (timestamp, key) order: in-order traffic reads in time order.
    const byLog = new Map<string, Log>();
    for (const e of unique.values()) {
      const mode = e.mode ?? "live";
      // NUL never occurs in a stored owner id (validation refuses it), so the pair is unambiguous.
      const id = `${e.ownerId}\0${mode}`;
      const log = byLog.get(id);
      if (log) log.events.push(e);
      else byLog.set(id, { id, ownerId: e.ownerId, mode, events: [e] });
    }
    // Counters locked in sorted order so two replicas' batches cannot deadlock.
    const logs = [...byLog.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const owners = logs.map((l) => l.ownerId);
    const modes = logs.map((l) => l.mode);
    const counts = logs.map((l) => l.events.length);
    // Totals come back tied to each log's position in `logs` (idx), not to
    // the text Postgres returns: a value Postgres normalises on the way in
    // must never make a counter row unrecognisable to us.
    const totals = await tx<{ idx: string; total: string }[]>`
      with input as (
        select owner_id, mode, n, idx from unnest(${owners}::text[], ${modes}::text[], ${counts}::int8[]) with ordinality as t(owner_id, mode, n, idx)
      ), bumped as (
        insert into usage.owner_counters (owner_id, mode, total)
        select owner_id, mode, n from input order by idx
        on conflict (owner_id, mode) do update set total = usage.owner_counters.total + excluded.total
        returning owner_id, mode, total
      )
      select input.idx, bumped.total from input join bumped using (owner_id, mode)`;
    order?.done();
    if (totals.length !== logs.length) throw new Error(`counter rows: expected ${logs.length}, got ${totals.length}`);

    const rows: { e: IngestEvent; mode: KeyMode; seq: number }[] = [];
    for (const { idx, total } of totals) {
      const log = logs[Number(idx) - 1];
      if (!log) throw new Error("counter row out of range");
      const list = log.events;
      list.sort((a, b) => a.ts - b.ts || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const first = Number(total) - list.length + 1;
      for (let i = 0; i < list.length; i++) rows.push({ e: list[i]!, mode: log.mode, seq: first + i });
    }
    // Inserted in event_key order: two batches racing on the same keys then
    // wait on each other in one direction only (no unique-index deadlock).
    rows.sort((a, b) => (a.e.key < b.e.key ? -1 : a.e.key > b.e.key ? 1 : 0));

    const n = rows.length;
    const ownerCol = new Array<string>(n);
    const modeCol = new Array<string>(n);
    const seqCol = new Array<number>(n);
    const keyCol = new Array<string>(n);
    const keyIdCol = new Array<string>(n);
    const endpointCol = new Array<string>(n);
    const methodCol = new Array<string>(n);
    const statusCol = new Array<number>(n);
    const tsCol = new Array<string>(n);
    const durCol = new Array<number | null>(n);
    for (let i = 0; i < n; i++) {
      const { e, mode, seq } = rows[i]!;
      ownerCol[i] = e.ownerId;
      modeCol[i] = mode;
      seqCol[i] = seq;
      keyCol[i] = e.key;
      keyIdCol[i] = e.keyId;
      endpointCol[i] = e.endpoint;
      methodCol[i] = e.method;
      statusCol[i] = e.statusCode;
      tsCol[i] = new Date(e.ts).toISOString();
      durCol[i] = e.durationMs;
    }
    // A key stored meanwhile (or before, on the optimistic try) is skipped by
    // the conflict clause and detected by the count: the whole transaction is
    // then rolled back, so seq never has a gap. The hourly and daily rollups
    // (004_rollups.sql) and their per-bucket totals (006_rollup_totals.sql)
    // are bumped in the same statement, so they commit with exactly these
    // rows or not at all: an event is never counted twice.
    const rolled = rows.map(({ e, mode }) => ({ ...e, mode }));
    const hourly = rollupColumns(rolled, "hour");
    const daily = rollupColumns(rolled, "day");
    const [inserted] = await tx<{ n: number }[]>`
      with ins as (
        insert into usage.events (owner_id, mode, seq, event_key, key_id, endpoint, method, status_code, ts, duration_ms)
        select * from unnest(
          ${ownerCol}::text[], ${modeCol}::text[], ${seqCol}::int8[], ${keyCol}::text[], ${keyIdCol}::text[], ${endpointCol}::text[],
          ${methodCol}::text[], ${statusCol}::int4[], ${tsCol}::timestamptz[], ${durCol}::float8[])
        on conflict (event_key, ts) do nothing
        returning 1
      ), hourly as (${upsertRollup(tx, "usage.rollup_hourly", hourly)}),
      daily as (${upsertRollup(tx, "usage.rollup_daily", daily)}),
      hourly_total as (${upsertTotals(tx, "usage.rollup_hourly_total", totalColumns(hourly))}),
      daily_total as (${upsertTotals(tx, "usage.rollup_daily_total", totalColumns(daily))})
      select count(*)::int as n from ins`;
    if (inserted?.n !== n) throw new AlreadyStored();
    return n;
  }) as Promise<number>;
}
