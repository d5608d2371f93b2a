import { EVENT_MAX_AGE_MS } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import { monthOf } from "./partitions";

const DAY_MS = 24 * 3600 * 1000;
/**
 * A partition still able to receive an event is never dropped, whatever the
 * retention: an event parsed (and checked against EVENT_MAX_AGE_MS) a moment
 * before the sweep may still be on its way to the database. An hour covers
 * any batch in flight; past that, a nak'ed batch is parsed again.
 */
const IN_FLIGHT_MARGIN_MS = 3600 * 1000;
/** Only one replica sweeps at a time (a session-level advisory lock). */
const SWEEP_LOCK = "usage.retention";

export interface SweepOptions {
  retentionDays: number;
  now?: number;
  /**
   * DETACH ... CONCURRENTLY (default): a SHARE UPDATE EXCLUSIVE lock on
   * usage.events, which neither inserts nor reads wait for. Without it the
   * detach takes ACCESS EXCLUSIVE on usage.events: it waits for every read
   * in progress (an export) and every insert waits behind it.
   */
  concurrently?: boolean;
  /** Checked between partitions: a stopping service leaves the rest to the next sweep. */
  stopping?: () => boolean;
}

export interface Retired {
  name: string;
  rows: number;
}

export interface SweepResult {
  /** Another replica holds the sweep. */
  skipped: boolean;
  /** Partitions dropped by this sweep, oldest first. */
  dropped: Retired[];
  /** Partitions whose upper bound is at or before this are dropped. */
  cutoff: Date;
}

/** The time before which whole months of usage rows go: the retention, never within an ingestible event's reach. */
export function retentionCutoff(retentionDays: number, now: number): Date {
  return new Date(Math.min(now - retentionDays * DAY_MS, now - EVENT_MAX_AGE_MS - IN_FLIGHT_MARGIN_MS));
}

interface PartitionRow {
  name: string;
  attached: boolean;
  pending: boolean;
  retired: boolean;
}

/**
 * Retention: drops whole monthly partitions whose upper bound is older than
 * now - retention (never a DELETE of usage rows). For each, oldest first:
 *
 * 1. one transaction "retires" it: its rows per (owner, mode) are added to
 *    owner_counters.dropped (so totals follow), the rollup rows of its
 *    month (and their totals) are deleted (rollups are aggregates, not usage rows: /usage
 *    follows the retention too), and it is recorded in
 *    usage.retired_partitions, so a sweep interrupted after this step never
 *    counts it twice. A SHARE lock on the partition alone holds off any
 *    insert into it while it is counted; ingestion into other months goes on.
 * 2. it is detached (CONCURRENTLY unless told otherwise) and dropped.
 *
 * Between 1 and 2 the log's total already excludes rows still readable;
 * afterwards both agree.
 */
export async function sweepRetention(sql: Sql, opts: SweepOptions): Promise<SweepResult> {
  const now = opts.now ?? Date.now();
  const cutoff = retentionCutoff(opts.retentionDays, now);
  const concurrently = opts.concurrently ?? true;
  const dropped: Retired[] = [];
  // One connection of our own for the session lock and DETACH CONCURRENTLY
  // (never inside a transaction block); transactions run on the pool.
  const conn = await sql.reserve();
  try {
    const [lock] = await conn<{ ok: boolean }[]>`select pg_try_advisory_lock(hashtext(${SWEEP_LOCK})) as ok`;
    if (!lock?.ok) return { skipped: true, dropped, cutoff };
    try {
      const parts = await conn<PartitionRow[]>`
        select c.relname as name, i.inhrelid is not null as attached, coalesce(i.inhdetachpending, false) as pending,
               exists (select 1 from usage.retired_partitions r where r.name = c.relname) as retired
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'usage'
        left join pg_inherits i on i.inhrelid = c.oid and i.inhparent = 'usage.events'::regclass
        where c.relkind = 'r' and c.relname ~ '^events_y[0-9]{4}m[0-9]{2}$'
        order by c.relname`;
      for (const p of parts) {
        if (opts.stopping?.()) break;
        const month = monthOf(p.name);
        if (!month || month.upper.getTime() > cutoff.getTime()) continue;
        // A detached table we did not retire is an operator's (an archive): left alone.
        if (!p.attached && !p.retired) continue;
        const rows = p.retired ? 0 : await retire(sql, p.name, month);
        if (p.pending) await conn.unsafe(`alter table usage.events detach partition usage.${ident(p.name)} finalize`);
        else if (p.attached && concurrently) await conn.unsafe(`alter table usage.events detach partition usage.${ident(p.name)} concurrently`);
        if (p.attached && !p.pending && !concurrently) {
          await sql.begin(async (tx) => {
            await tx.unsafe(`alter table usage.events detach partition usage.${ident(p.name)}`);
            await tx.unsafe(`drop table usage.${ident(p.name)}`);
          });
        } else {
          await conn.unsafe(`drop table usage.${ident(p.name)}`);
        }
        dropped.push({ name: p.name, rows });
      }
    } finally {
      await conn`select pg_advisory_unlock(hashtext(${SWEEP_LOCK}))`;
    }
  } finally {
    conn.release();
  }
  return { skipped: false, dropped, cutoff };
}

/** Step 1: counts the partition's rows into the owners' `dropped`, removes its month of rollups, records it. */
async function retire(sql: Sql, name: string, month: { lower: Date; upper: Date }): Promise<number> {
  return (await sql.begin(async (tx) => {
    const table = `usage.${ident(name)}`;
    await tx.unsafe(`lock table ${table} in share mode`);
    const [counted] = await tx.unsafe<{ rows: string }[]>(`
      with per_log as (select owner_id, mode, count(*) as n from ${table} group by owner_id, mode),
      bumped as (
        update usage.owner_counters c set dropped = c.dropped + per_log.n
        from per_log where c.owner_id = per_log.owner_id and c.mode = per_log.mode
        returning 1
      )
      select coalesce(sum(n), 0)::int8::text as rows from per_log`);
    const rows = Number(counted?.rows ?? 0);
    // Month bounds are whole hours and days: these are exactly the partition's buckets.
    await tx`delete from usage.rollup_hourly where bucket >= ${month.lower} and bucket < ${month.upper}`;
    await tx`delete from usage.rollup_daily where bucket >= ${month.lower} and bucket < ${month.upper}`;
    await tx`delete from usage.rollup_hourly_total where bucket >= ${month.lower} and bucket < ${month.upper}`;
    await tx`delete from usage.rollup_daily_total where bucket >= ${month.lower} and bucket < ${month.upper}`;
    await tx`insert into usage.retired_partitions (name, lower, upper, rows) values (${name}, ${month.lower}, ${month.upper}, ${rows})`;
    return rows;
  })) as number;
}

/** Partition names come from pg_class and match ^events_y[0-9]{4}m[0-9]{2}$; quoted all the same. */
function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
