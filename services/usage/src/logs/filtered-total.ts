import type { KeyMode, LogsFilter } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";

/** Whose log and which filter: the part of a logs read the total depends on. */
export interface TotalRead {
  ownerId: string;
  mode: KeyMode;
  filter: LogsFilter;
}

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/** A half-open time range [from, to) in epoch ms; null is unbounded on that side. */
interface Span {
  from: number | null;
  to: number | null;
}

/** Where each part of [from, to) is counted: whole days, whole hours, and the rows of the partial hours at the edges. */
export interface TotalPlan {
  days: Span[];
  hours: Span[];
  rows: Span[];
}

const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;
const ceilTo = (t: number, unit: number) => Math.ceil(t / unit) * unit;

/**
 * Splits [from, to) into whole UTC days (daily rollups), whole UTC hours
 * outside them (hourly rollups) and what is left at the edges, less than an
 * hour on each side (rows). Every millisecond of the range is in exactly one
 * part, so the three sums add up to the count of the rows. Buckets are epoch
 * multiples of an hour or a day, as the writer computes them (UTC).
 */
export function planTotal(fromMs: number | undefined, toMs: number | undefined): TotalPlan {
  const from = fromMs ?? null;
  const to = toMs ?? null;
  const h1 = from === null ? null : ceilTo(from, HOUR_MS);
  const h2 = to === null ? null : floorTo(to, HOUR_MS);
  // No whole hour inside: under two hours of rows, counted directly.
  if (h1 !== null && h2 !== null && h1 >= h2) return { days: [], hours: [], rows: [{ from, to }] };
  const rows: Span[] = [];
  if (from !== null && h1 !== from) rows.push({ from, to: h1 });
  if (to !== null && h2 !== to) rows.push({ from: h2, to });

  const d1 = h1 === null ? null : ceilTo(h1, DAY_MS);
  const d2 = h2 === null ? null : floorTo(h2, DAY_MS);
  if (d1 !== null && d2 !== null && d1 >= d2) return { days: [], hours: [{ from: h1, to: h2 }], rows };
  const hours: Span[] = [];
  if (h1 !== null && d1 !== h1) hours.push({ from: h1, to: d1 });
  if (h2 !== null && d2 !== h2) hours.push({ from: d2, to: h2 });
  return { days: [{ from: d1, to: d2 }], hours, rows };
}

/**
 * The exact number of an owner's rows in one mode that a filter matches,
 * read mostly from the rollups (004_rollups.sql). Every filter but the time
 * range is a rollup dimension (key, endpoint, method, status), so whole days
 * and hours are sums of rollup counts, and only the partial hours at the
 * edges of from/to are counted in usage.events, through (owner, mode, ts).
 * For the heavy owner of the benchmark that is tens of rollup rows and at
 * most two hours of rows, instead of a count over up to millions of index
 * entries.
 *
 * One statement, hence one snapshot: the writer commits a batch's rows and
 * their rollup increments in one transaction, so the total is exact for the
 * moment the statement starts, however many events arrive meanwhile.
 */
export async function filteredTotal(sql: Sql | Parameters<Parameters<Sql["begin"]>[1]>[0], read: TotalRead): Promise<number> {
  const params: unknown[] = [];
  const $ = (v: unknown) => `$${params.push(v)}`;
  // The same column names in usage.events and both rollup tables.
  const dims = dimensionsWhere(read, $);
  const plan = planTotal(read.filter.fromMs, read.filter.toMs);
  const parts: string[] = [];
  const range = (col: string, s: Span) => [s.from === null ? "" : ` and ${col} >= ${$(iso(s.from))}::timestamptz`, s.to === null ? "" : ` and ${col} < ${$(iso(s.to))}::timestamptz`].join("");
  for (const s of plan.days) parts.push(`(select coalesce(sum(count), 0) from usage.rollup_daily where ${dims}${range("bucket", s)})`);
  for (const s of plan.hours) parts.push(`(select coalesce(sum(count), 0) from usage.rollup_hourly where ${dims}${range("bucket", s)})`);
  for (const s of plan.rows) parts.push(`(select count(*) from usage.events where ${dims}${range("ts", s)})`);
  // Unprepared, as the page's read: the planner sees the values (an edge of rows is a narrow ts range).
  const [row] = (await sql.unsafe(`select (${parts.join(" + ")})::int8 as n`, params as never[], { prepare: false })) as unknown as { n: string }[];
  return Number(row?.n ?? 0);
}

const iso = (t: number) => new Date(t).toISOString();

/**
 * The filter's conditions other than time. The endpoint is compared whole
 * (the rollups keep it whole; their unique index holds only its md5, so no
 * index serves it: the (owner, mode, bucket) range has few rows to check).
 */
function dimensionsWhere(read: TotalRead, $: (v: unknown) => string): string {
  const f = read.filter;
  const conds = [`owner_id = ${$(read.ownerId)}`, `mode = ${$(read.mode)}`];
  if (f.statuses) conds.push(`status_code = any(${$(f.statuses)}::int4[])`);
  if (f.methods) conds.push(`method = any(${$(f.methods)}::text[])`);
  if (f.keyId) conds.push(`key_id = ${$(f.keyId)}`);
  // starts_with, not LIKE: a path may hold % or _, which LIKE would read as wildcards.
  if (f.endpoint) conds.push(f.endpoint.prefix ? `starts_with(endpoint, ${$(f.endpoint.path)}::text)` : `endpoint = ${$(f.endpoint.path)}::text`);
  return conds.join(" and ");
}
