import { AppError, snippetOf, type KeyMode, type QuotaPeriod } from "@riskinmind/contracts";
import { isDbUnavailable } from "@riskinmind/runtime";
import type { ISql } from "postgres";

/** A pool or a transaction: both run the statements below. */
export type Db = ISql;

/** The SQL of the keys table; every statement is prepared by postgres.js. */
export interface KeyRow extends PolicyColumns {
  id: string;
  owner_id: string;
  key_hash: Buffer;
  key_last4: string;
  label: string | null;
  status: "ACTIVE" | "REVOKED";
  mode: KeyMode;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  /** A rotated-out key (REVOKED) still accepted until then. */
  grace_until: Date | null;
}

/** The policy columns (migration 003), as a key carries them from one row to its successor. */
export interface PolicyColumns {
  expires_at: Date | null;
  scopes: string[];
  ip_allowlist: string[];
  rate_limit: number | null;
  rate_window_s: number | null;
  quota_limit: number | null;
  quota_period: QuotaPeriod | null;
  quota_anchor_day: number | null;
}

export type NewKey = Pick<KeyRow, "id" | "owner_id" | "key_hash" | "key_last4" | "label" | "mode"> & PolicyColumns;
export type RevokedRow = Pick<KeyRow, "id" | "owner_id" | "key_hash" | "revoked_at">;

/** The snippet of a stored key: its mode's prefix and last 4 characters. */
export const snippetFor = (row: Pick<KeyRow, "mode" | "key_last4">): string => snippetOf(row.mode, row.key_last4);

export const ONE_ACTIVE_INDEX = "api_keys_one_active_per_owner_mode";

/** True when the error is the partial unique index refusing a second active key. */
export function isActiveKeyConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint_name?: string } | null;
  return e?.code === "23505" && e.constraint_name === ONE_ACTIVE_INDEX;
}

/** Runs a database step, turning "Postgres is unreachable" into a 503 the edge maps. */
export async function withDb<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (isDbUnavailable(err)) throw new AppError("DATABASE_UNAVAILABLE", "The keys database is unavailable; retry shortly.");
    throw err;
  }
}

export interface OwnerSlot {
  ownerId: string;
  mode: KeyMode;
}

const POLICY_COLUMNS = ["expires_at", "scopes", "ip_allowlist", "rate_limit", "rate_window_s", "quota_limit", "quota_period", "quota_anchor_day"];
const COLUMNS = ["id", "owner_id", "key_hash", "key_last4", "label", "status", "mode", "created_at", "revoked_at", "last_used_at", "grace_until", ...POLICY_COLUMNS];

export async function findActive(sql: Db, { ownerId, mode }: OwnerSlot): Promise<KeyRow | undefined> {
  const rows = await sql<KeyRow[]>`select ${sql(COLUMNS)} from keys.api_keys where owner_id = ${ownerId} and mode = ${mode} and status = 'ACTIVE'`;
  return rows[0];
}

/** The key of this slot still inside its rotation grace period, if any (at most one: a new rotation ends the older grace). */
export async function findInGrace(sql: Db, { ownerId, mode }: OwnerSlot): Promise<Pick<KeyRow, "id" | "key_last4" | "grace_until" | "expires_at"> | undefined> {
  const rows = await sql<Pick<KeyRow, "id" | "key_last4" | "grace_until" | "expires_at">[]>`
    select id, key_last4, grace_until, expires_at from keys.api_keys
    where owner_id = ${ownerId} and mode = ${mode} and status = 'REVOKED' and grace_until > now()
    order by grace_until desc limit 1`;
  return rows[0];
}

export async function insertKey(sql: Db, k: NewKey): Promise<KeyRow> {
  const rows = await sql<KeyRow[]>`
    insert into keys.api_keys (id, owner_id, key_hash, key_last4, label, status, mode, expires_at, scopes, ip_allowlist, rate_limit, rate_window_s, quota_limit, quota_period, quota_anchor_day)
    values (${k.id}, ${k.owner_id}, ${k.key_hash}, ${k.key_last4}, ${k.label}, 'ACTIVE', ${k.mode}, ${k.expires_at}, ${k.scopes}::text[], ${k.ip_allowlist}::text[],
      ${k.rate_limit}, ${k.rate_window_s}, ${k.quota_limit}, ${k.quota_period}, ${k.quota_anchor_day})
    returning ${sql(COLUMNS)}`;
  return rows[0]!;
}

/** Revokes the slot's active key; with `graceS` > 0 it keeps working that many seconds more (grace_until). */
export async function revokeActive(sql: Db, { ownerId, mode }: OwnerSlot, graceS = 0): Promise<RevokedRow | undefined> {
  const rows = await sql<RevokedRow[]>`
    update keys.api_keys set status = 'REVOKED', revoked_at = now(), changed_at = now(),
      grace_until = case when ${graceS}::int > 0 then now() + make_interval(secs => ${graceS}::int) end
    where owner_id = ${ownerId} and mode = ${mode} and status = 'ACTIVE'
    returning id, owner_id, key_hash, revoked_at`;
  return rows[0];
}

/** Revokes the slot's active key when it has expired: an expired key no longer blocks a generate. */
export async function revokeExpired(sql: Db, { ownerId, mode }: OwnerSlot): Promise<RevokedRow | undefined> {
  const rows = await sql<RevokedRow[]>`
    update keys.api_keys set status = 'REVOKED', revoked_at = now(), changed_at = now()
    where owner_id = ${ownerId} and mode = ${mode} and status = 'ACTIVE' and expires_at <= now()
    returning id, owner_id, key_hash, revoked_at`;
  return rows[0];
}

/** Ends every grace period of the slot at once (revoke, or a new rotation). The rows are announced like revocations. */
export async function endGrace(sql: Db, { ownerId, mode }: OwnerSlot): Promise<RevokedRow[]> {
  return sql<RevokedRow[]>`
    update keys.api_keys set grace_until = null, changed_at = now()
    where owner_id = ${ownerId} and mode = ${mode} and status = 'REVOKED' and grace_until > now()
    returning id, owner_id, key_hash, revoked_at`;
}

/** A key revokeKeyNow ended: its mode, and whether it was active or in a grace period. */
export type LeakRevokedRow = RevokedRow & { mode: KeyMode; was: "ACTIVE" | "GRACE" };

/**
 * Revokes one key by id, whatever its slot: an active key is revoked now, a
 * rotated-out key's grace ends now; undefined when it was neither (already
 * dead). A leaked key is known by its hash, not by its owner's slot.
 */
export async function revokeKeyNow(sql: Db, id: string): Promise<LeakRevokedRow | undefined> {
  const rows = await sql<LeakRevokedRow[]>`
    with old as (select id, status from keys.api_keys where id = ${id} for update)
    update keys.api_keys k set status = 'REVOKED', revoked_at = case when old.status = 'ACTIVE' then now() else k.revoked_at end,
      grace_until = null, changed_at = now()
    from old
    where k.id = old.id and (old.status = 'ACTIVE' or k.grace_until > now())
    returning k.id, k.owner_id, k.key_hash, k.revoked_at, k.mode, (case when old.status = 'ACTIVE' then 'ACTIVE' else 'GRACE' end) as was`;
  return rows[0];
}

export type HashOwnerRow = Pick<KeyRow, "id" | "owner_id" | "key_hash">;

/** The keys with these hashes, whatever their status (one probe of the unique index each); unknown hashes are absent. */
export async function findByHashes(sql: Db, hashes: Buffer[]): Promise<HashOwnerRow[]> {
  // Run even for no hashes: revoke-by-value does the same work whatever it was sent.
  const hex = hashes.map((h) => h.toString("hex"));
  return sql<HashOwnerRow[]>`
    select id, owner_id, key_hash from keys.api_keys
    where key_hash = any(array(select decode(h, 'hex') from unnest(${hex}::text[]) as h))`;
}

/** Replaces the policy columns (and label) of the slot's active key. */
export async function updatePolicy(sql: Db, slot: OwnerSlot, label: string | null, p: PolicyColumns): Promise<KeyRow | undefined> {
  const rows = await sql<KeyRow[]>`
    update keys.api_keys set label = ${label}, expires_at = ${p.expires_at}, scopes = ${p.scopes}::text[], ip_allowlist = ${p.ip_allowlist}::text[],
      rate_limit = ${p.rate_limit}, rate_window_s = ${p.rate_window_s}, quota_limit = ${p.quota_limit}, quota_period = ${p.quota_period},
      quota_anchor_day = ${p.quota_anchor_day}, changed_at = now()
    where owner_id = ${slot.ownerId} and mode = ${slot.mode} and status = 'ACTIVE'
    returning ${sql(COLUMNS)}`;
  return rows[0];
}

/** Serializes the mutations of one owner inside the caller's transaction. */
export async function lockOwner(sql: Db, ownerId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${"keys:owner:" + ownerId}))`;
}

export type HashLookup = Omit<KeyRow, "key_hash" | "key_last4" | "label" | "created_at" | "revoked_at" | "last_used_at">;

/** The verification read: one index probe by hash, never a plaintext comparison. */
export async function findByHash(sql: Db, hash: Buffer): Promise<HashLookup | undefined> {
  const rows = await sql<HashLookup[]>`
    select id, owner_id, status, mode, grace_until, ${sql(POLICY_COLUMNS)} from keys.api_keys where key_hash = ${hash}`;
  return rows[0];
}

export type TouchedRow = Pick<KeyRow, "id" | "owner_id" | "last_used_at">;

/** How fresh last_used_at is kept: a key used all day is written once a minute, not on every flush. */
export const LAST_USED_PRECISION_S = 60;

export async function touchLastUsed(sql: Db, ids: string[]): Promise<TouchedRow[]> {
  return sql<TouchedRow[]>`
    update keys.api_keys set last_used_at = now()
    where id = any(${ids}::text[])
      and (last_used_at is null or last_used_at < now() - make_interval(secs => ${LAST_USED_PRECISION_S}))
    returning id, owner_id, last_used_at`;
}

export type OwnerRow = Pick<KeyRow, "id" | "owner_id">;

/** Owners of the given key ids, whatever the keys' status; unknown ids are simply absent. */
export async function ownersOf(sql: Db, ids: string[]): Promise<OwnerRow[]> {
  return sql<OwnerRow[]>`select id, owner_id from keys.api_keys where id = any(${ids}::text[])`;
}

/** The database's clock: the revocation poll's watermark must not depend on ours. */
export async function dbNow(sql: Db): Promise<Date> {
  const [row] = await sql<{ now: Date }[]>`select now() as now`;
  return row!.now;
}

/** A key whose verification answer changed (revoked, rotated, grace ended, policy changed). */
export type ChangedRow = Pick<KeyRow, "id" | "owner_id" | "key_hash" | "status"> & { changed_at: Date };

/**
 * Keys changed after `from`, oldest first (the change poll). A key as it was
 * inserted (changed_at = created_at, one transaction's now()) is not a change:
 * no cache can hold a verdict on a key that did not exist, and announcing it
 * would move every guard's cache epoch, so a verification of the new key in
 * flight at that moment would not be cached.
 */
export async function changedSince(sql: Db, from: Date, limit = 10_000): Promise<ChangedRow[]> {
  return sql<ChangedRow[]>`
    select id, owner_id, key_hash, status, changed_at from keys.api_keys
    where changed_at > ${from} and changed_at <> created_at order by changed_at limit ${limit}`;
}
