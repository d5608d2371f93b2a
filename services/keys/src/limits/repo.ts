import { quotaWindow, type KeyMode, type QuotaPeriod } from "@riskinmind/contracts";
import type { ISql } from "postgres";
import type { PeriodTable } from "./windows";

/** What one take asks of each kind (zeros when the request left a kind out). */
export interface Draw {
  want: number;
  /** Start (epoch ms) of the lease that `release` and `used` refer to; -1 when none. */
  start: number;
  release: number;
  used: number;
}

export interface LeaseRow {
  granted: number;
  left: number;
  limit: number;
  start: number;
  end: number;
}

export interface TakeRow {
  usable: boolean;
  rate: LeaseRow | null;
  quota: LeaseRow | null;
}

interface RawTake {
  usable: boolean;
  r_grant: number | null;
  r_granted: number | null;
  r_lim: number | null;
  r_start: number | null;
  r_end: number | null;
  q_grant: number | null;
  q_granted: number | null;
  q_lim: number | null;
  q_start: number | null;
  q_end: number | null;
}

/**
 * One take, one statement: find the key by hash with its policy, and for each
 * limit it has, grant `want` units of the current window/period, but never
 * past the limit (the upsert locks the counter row, so concurrent takes see
 * each other's grants), after taking back `release` units of the caller's
 * lease if that lease is of this same window/period. Quota `used` reports
 * land on the lease's own period, even one that has ended since. A key that
 * is unknown, revoked past its grace or expired gets `usable: false` and no
 * units; undefined when no key has this hash.
 */
export async function takeUnits(sql: ISql, keyHash: Buffer, rate: Draw, quota: Draw, now: number, periods: PeriodTable): Promise<TakeRow | undefined> {
  const at = new Date(now);
  const rows = await sql<RawTake[]>`
    with k as (
      select owner_id, mode, rate_limit, rate_window_s, quota_limit, quota_period,
        (status = 'ACTIVE' or grace_until > ${at}) and (expires_at is null or expires_at > ${at}) as usable,
        (${now}::bigint / (rate_window_s * 1000::bigint)) * (rate_window_s * 1000::bigint) as rate_start,
        case quota_period when 'day' then ${periods.dayStart}::bigint
          else (${periods.monthStarts}::text::jsonb ->> (quota_anchor_day - 1))::bigint end as quota_start,
        case quota_period when 'day' then ${periods.dayEnd}::bigint
          else (${periods.monthEnds}::text::jsonb ->> (quota_anchor_day - 1))::bigint end as quota_end
      from keys.api_keys where key_hash = ${keyHash}
    ),
    rate as (
      insert into keys.limit_rate as r (owner_id, mode, window_s, start_ms, lim, granted, last_grant)
      select owner_id, mode, rate_window_s, rate_start, rate_limit, least(${rate.want}::int, rate_limit), least(${rate.want}::int, rate_limit)
      from k where usable and rate_limit is not null
      on conflict (owner_id, mode, window_s, start_ms) do update set
        lim = excluded.lim,
        granted = (r.granted - least(r.granted, case when r.start_ms = ${rate.start}::bigint then ${rate.release}::int else 0 end))
          + least(${rate.want}::int, greatest(0, excluded.lim - (r.granted - least(r.granted, case when r.start_ms = ${rate.start}::bigint then ${rate.release}::int else 0 end)))),
        last_grant = least(${rate.want}::int, greatest(0, excluded.lim - (r.granted - least(r.granted, case when r.start_ms = ${rate.start}::bigint then ${rate.release}::int else 0 end))))
      returning last_grant, granted, lim, start_ms, start_ms + window_s * 1000::bigint as end_ms
    ),
    quota as (
      insert into keys.limit_quota as q (owner_id, mode, period, start_ms, end_ms, lim, granted, used, last_grant)
      select owner_id, mode, quota_period, quota_start, quota_end, quota_limit, least(${quota.want}::bigint, quota_limit), 0, least(${quota.want}::bigint, quota_limit)
      from k where usable and quota_limit is not null
      on conflict (owner_id, mode, period, start_ms) do update set
        lim = excluded.lim,
        granted = (q.granted - least(q.granted, case when q.start_ms = ${quota.start}::bigint then ${quota.release}::bigint else 0 end))
          + least(${quota.want}::bigint, greatest(0, excluded.lim - (q.granted - least(q.granted, case when q.start_ms = ${quota.start}::bigint then ${quota.release}::bigint else 0 end)))),
        last_grant = least(${quota.want}::bigint, greatest(0, excluded.lim - (q.granted - least(q.granted, case when q.start_ms = ${quota.start}::bigint then ${quota.release}::bigint else 0 end)))),
        -- a report can only say so much: used never passes what was granted
        used = least(q.granted, q.used + case when q.start_ms = ${quota.start}::bigint then ${quota.used}::bigint else 0 end)
      returning last_grant, granted, lim, start_ms, end_ms
    ),
    -- units spent from a lease of another period (it ended while the report was on its way), or of a key no longer usable
    earlier as (
      update keys.limit_quota q set used = least(q.granted, q.used + ${quota.used}::bigint)
      from k
      where ${quota.used}::bigint > 0 and q.owner_id = k.owner_id and q.mode = k.mode and q.start_ms = ${quota.start}::bigint
        and (not k.usable or k.quota_limit is null or q.start_ms is distinct from k.quota_start or q.period is distinct from k.quota_period)
      returning 1
    )
    select k.usable,
      rate.last_grant::int as r_grant, rate.granted::int as r_granted, rate.lim::int as r_lim, rate.start_ms::float8 as r_start, rate.end_ms::float8 as r_end,
      quota.last_grant::int as q_grant, quota.granted::int as q_granted, quota.lim::int as q_lim, quota.start_ms::float8 as q_start, quota.end_ms::float8 as q_end
    from k left join rate on true left join quota on true`;
  const r = rows[0];
  if (r === undefined) return undefined;
  return {
    usable: r.usable,
    rate: r.r_lim === null ? null : { granted: r.r_grant!, left: Math.max(0, r.r_lim - r.r_granted!), limit: r.r_lim, start: r.r_start!, end: r.r_end! },
    quota: r.q_lim === null ? null : { granted: r.q_grant!, left: Math.max(0, r.q_lim - r.q_granted!), limit: r.q_lim, start: r.q_start!, end: r.q_end! },
  };
}

/** The quota of a key slot as GET /api/v1/keys/ shows it. */
export interface QuotaSlot {
  ownerId: string;
  mode: KeyMode;
  period: QuotaPeriod;
  /** keys.api_keys.quota_anchor_day (1..31; ignored for a daily quota). */
  anchorDay: number;
  limit: number;
}

/**
 * quota.used and quota.resetsAt of a slot at `now`: the units the guards have
 * reported spent in the current period (each guard reports within about a
 * second; see packages/guard/src/limits), never more than the limit.
 */
export async function readQuotaUsed(sql: ISql, q: QuotaSlot, now: number): Promise<{ used: number; resetsAt: string }> {
  const w = quotaWindow(q.period, q.anchorDay, now);
  const rows = await sql<{ used: number }[]>`
    select used::float8 as used from keys.limit_quota
    where owner_id = ${q.ownerId} and mode = ${q.mode} and period = ${q.period} and start_ms = ${w.start}::bigint`;
  return { used: Math.min(q.limit, rows[0]?.used ?? 0), resetsAt: new Date(w.end).toISOString() };
}

/** Ended rate windows (the longest is an hour) and quota periods over 40 days past: nobody reads them again. */
export async function sweepLimits(sql: ISql, now: number): Promise<void> {
  await sql`delete from keys.limit_rate where start_ms < ${now - 2 * 3_600_000}::bigint`;
  await sql`delete from keys.limit_quota where end_ms < ${now - 40 * 86_400_000}::bigint`;
}

/** readQuotaUsed in the shape the key views take (keys/policy.ts's QuotaReader). */
export function quotaReader(sql: ISql) {
  return (slot: { ownerId: string; mode: KeyMode }, quota: { limit: number; period: QuotaPeriod; anchorDay: number }, now: number) =>
    readQuotaUsed(sql, { ownerId: slot.ownerId, mode: slot.mode, period: quota.period, anchorDay: quota.anchorDay, limit: quota.limit }, now);
}
