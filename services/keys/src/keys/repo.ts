import { AppError } from "@riskinmind/contracts";
import { isDbUnavailable } from "@riskinmind/runtime";
import type { ISql } from "postgres";

/** A pool or a transaction: both run the statements below. */
export type Db = ISql;

/** The SQL of the keys table; every statement is prepared by postgres.js. */
export interface KeyRow {
  id: string;
  owner_id: string;
  key_hash: Buffer;
  key_last4: string;
  label: string | null;
  status: "ACTIVE" | "REVOKED";
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}
export type NewKey = Pick<KeyRow, "id" | "owner_id" | "key_hash" | "key_last4" | "label">;
export type RevokedRow = Pick<KeyRow, "id" | "owner_id" | "key_hash" | "revoked_at">;

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

export async function findActive(sql: Db, ownerId: string): Promise<KeyRow | undefined> {
  const rows = await sql<KeyRow[]>`
    select * from keys.api_keys where owner_id = ${ownerId} and status = 'ACTIVE'`;
  return rows[0];
}

export async function insertKey(sql: Db, k: NewKey): Promise<KeyRow> {
  const rows = await sql<KeyRow[]>`
    insert into keys.api_keys (id, owner_id, key_hash, key_last4, label, status)
    values (${k.id}, ${k.owner_id}, ${k.key_hash}, ${k.key_last4}, ${k.label}, 'ACTIVE')
    returning *`;
  return rows[0]!;
}

export async function revokeActive(sql: Db, ownerId: string): Promise<RevokedRow | undefined> {
  const rows = await sql<RevokedRow[]>`
    update keys.api_keys set status = 'REVOKED', revoked_at = now()
    where owner_id = ${ownerId} and status = 'ACTIVE'
    returning id, owner_id, key_hash, revoked_at`;
  return rows[0];
}

/** Serializes the mutations of one owner inside the caller's transaction. */
export async function lockOwner(sql: Db, ownerId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${"keys:owner:" + ownerId}))`;
}

export interface HashLookup {
  id: string;
  owner_id: string;
  status: "ACTIVE" | "REVOKED";
}

/** The verification read: one index probe by hash, never a plaintext comparison. */
export async function findByHash(sql: Db, hash: Buffer): Promise<HashLookup | undefined> {
  const rows = await sql<HashLookup[]>`select id, owner_id, status from keys.api_keys where key_hash = ${hash}`;
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

/** Keys revoked after `from`, oldest first (the revocation poll). */
export async function revokedSince(sql: Db, from: Date, limit = 10_000): Promise<RevokedRow[]> {
  return sql<RevokedRow[]>`
    select id, owner_id, key_hash, revoked_at from keys.api_keys
    where revoked_at > ${from} order by revoked_at limit ${limit}`;
}
