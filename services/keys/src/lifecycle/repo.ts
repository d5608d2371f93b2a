/**
 * The SQL of the lifecycle sweep (migration 008). Every "due" read states the
 * predicate of its partial index word for word, so the planner can use it;
 * every "claim" re-checks the row under the owner's lock and sets the marker
 * in the caller's transaction, so the entry and the marker commit together.
 */
import type { KeyMode, QuotaPeriod } from "@riskinmind/contracts";
import type { Db } from "../keys/repo";

export interface DueKey {
  id: string;
  owner_id: string;
}

export interface DueQuota {
  owner_id: string;
  mode: KeyMode;
  period: QuotaPeriod;
  start_ms: string;
}

/** Keys whose expiry has passed and is not recorded yet (index api_keys_expiry_due). */
export function dueExpiries(sql: Db, limit: number): Promise<DueKey[]> {
  return sql<DueKey[]>`
    select id, owner_id from keys.api_keys
    where expires_at is not null and expiry_recorded_for is distinct from expires_at and (status = 'ACTIVE' or revoked_at > expires_at)
      and expires_at <= now()
    order by expires_at limit ${limit}`;
}

/** Rotated-out keys whose grace has ended (at grace_until, or at their own expiry if sooner), not recorded yet (index api_keys_grace_due). */
export function dueGraceEnds(sql: Db, limit: number): Promise<DueKey[]> {
  return sql<DueKey[]>`
    select id, owner_id from keys.api_keys
    where status = 'REVOKED' and grace_until is not null and grace_recorded_at is null and (expires_at is null or expires_at > revoked_at)
      and (grace_until <= now() or expires_at <= now())
    order by grace_until limit ${limit}`;
}

/** Quota periods whose usage reached a threshold not recorded yet (index limit_quota_reached_due). */
export function dueQuotas(sql: Db, limit: number): Promise<DueQuota[]> {
  return sql<DueQuota[]>`
    select owner_id, mode, period, start_ms::text as start_ms from keys.limit_quota
    where reached > reached_recorded
    order by end_ms limit ${limit}`;
}

export interface ClaimedExpiry {
  owner_id: string;
  mode: KeyMode;
  expires_at: Date;
}

/** Marks the key's expiry recorded, if it still is due (another replica may have been first). */
export async function claimExpiry(tx: Db, keyId: string): Promise<ClaimedExpiry | undefined> {
  const rows = await tx<ClaimedExpiry[]>`
    update keys.api_keys set expiry_recorded_for = expires_at
    where id = ${keyId} and expires_at is not null and expiry_recorded_for is distinct from expires_at
      and (status = 'ACTIVE' or revoked_at > expires_at) and expires_at <= now()
    returning owner_id, mode, expires_at`;
  return rows[0];
}

export interface ClaimedGrace {
  owner_id: string;
  mode: KeyMode;
  /** When the key stopped being accepted: its grace end, or its own expiry if sooner (keys/policy.ts graceEnd). */
  ended: Date;
}

/** Marks the end of the key's grace recorded, if it still is due. */
export async function claimGraceEnd(tx: Db, keyId: string): Promise<ClaimedGrace | undefined> {
  const rows = await tx<ClaimedGrace[]>`
    update keys.api_keys set grace_recorded_at = now()
    where id = ${keyId} and status = 'REVOKED' and grace_until is not null and grace_recorded_at is null
      and (expires_at is null or expires_at > revoked_at) and (grace_until <= now() or expires_at <= now())
    returning owner_id, mode, least(grace_until, coalesce(expires_at, grace_until)) as ended`;
  return rows[0];
}

export interface ClaimedQuota {
  lim: number;
  used: number;
  end_ms: number;
  /** Recorded level before the claim, and the level reached (0 none, 1 = 80 %, 2 = 100 %). */
  from: number;
  to: number;
}

/** Marks the thresholds reached in this period recorded, if any still is not; returns which were crossed. */
export async function claimQuota(tx: Db, q: DueQuota): Promise<ClaimedQuota | undefined> {
  const rows = await tx<ClaimedQuota[]>`
    select lim::float8 as lim, used::float8 as used, end_ms::float8 as end_ms, reached_recorded as "from", reached as "to"
    from keys.limit_quota
    where owner_id = ${q.owner_id} and mode = ${q.mode} and period = ${q.period} and start_ms = ${q.start_ms}::bigint and reached > reached_recorded
    for update`;
  const row = rows[0];
  if (row === undefined) return undefined;
  await tx`
    update keys.limit_quota set reached_recorded = ${row.to}
    where owner_id = ${q.owner_id} and mode = ${q.mode} and period = ${q.period} and start_ms = ${q.start_ms}::bigint`;
  return row;
}

/**
 * The key a quota entry names: the slot's active key (an index probe);
 * without one (revoked while its last units were being reported), its most
 * recently revoked key, a read with no index of its own, and rare.
 */
export async function slotKeyId(tx: Db, ownerId: string, mode: KeyMode): Promise<string | undefined> {
  const active = await tx<{ id: string }[]>`select id from keys.api_keys where owner_id = ${ownerId} and mode = ${mode} and status = 'ACTIVE'`;
  if (active[0]) return active[0].id;
  const latest = await tx<{ id: string }[]>`
    select id from keys.api_keys where owner_id = ${ownerId} and mode = ${mode}
    order by revoked_at desc nulls last, created_at desc limit 1`;
  return latest[0]?.id;
}
