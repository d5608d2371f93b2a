import { EVENT_MAX_AGE_MS } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";

/** Months created ahead of now: a service down over a month end still finds its partition on return. */
export const MONTHS_AHEAD = 2;

/** A monthly partition's name: usage.events_yYYYYmMM (005_partitions.sql). */
const PARTITION_NAME = /^events_y(\d{4})m(\d{2})$/;

/** The window of months the service keeps partitions for: from the oldest ingestible event to two months ahead. */
export function partitionWindow(now: number): { from: Date; to: Date } {
  const ahead = new Date(now);
  ahead.setUTCMonth(ahead.getUTCMonth() + MONTHS_AHEAD);
  return { from: new Date(now - EVENT_MAX_AGE_MS), to: ahead };
}

/**
 * Creates the partitions of every month an event may be ingested into now
 * (and two months ahead), idempotently; returns how many it created. Safe
 * from any number of replicas at once (usage.ensure_partitions serialises).
 */
export async function ensurePartitions(sql: Sql, now = Date.now()): Promise<number> {
  const { from, to } = partitionWindow(now);
  const [row] = await sql<{ made: number }[]>`select usage.ensure_partitions(${from}, ${to}) as made`;
  return row?.made ?? 0;
}

/** A monthly partition of usage.events by its name, or null when the name is not one of ours. */
export function monthOf(name: string): { lower: Date; upper: Date } | null {
  const m = PARTITION_NAME.exec(name);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  if (month < 0 || month > 11) return null;
  return { lower: new Date(Date.UTC(year, month, 1)), upper: new Date(Date.UTC(year, month + 1, 1)) };
}

/** The name of the partition holding `ts`. */
export function partitionName(ts: number): string {
  const d = new Date(ts);
  return `events_y${String(d.getUTCFullYear()).padStart(4, "0")}m${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/**
 * Postgres found no partition for a row (SQLSTATE 23514 like a CHECK
 * violation, but without a constraint name). Partitions are made ahead, so
 * this should never happen; when it does the batch is not refused: it waits
 * like a batch meeting an unreachable database while partitions are ensured.
 */
export function isNoPartition(err: unknown): boolean {
  const e = err as { code?: unknown; constraint_name?: unknown } | null;
  return e?.code === "23514" && (e.constraint_name === undefined || e.constraint_name === null || e.constraint_name === "");
}
