import { AppError, type AuditEntry, type KeyMode } from "@riskinmind/contracts";
import type { Db } from "../keys/repo";
import { type ChainedEntry, entryView } from "./chain";

/** A stored audit row, as keys.audit_log holds it. */
export interface AuditRow {
  id: string;
  owner_id: string;
  seq: string;
  action: string;
  key_id: string;
  mode: KeyMode;
  actor_type: "owner" | "system" | "reporter";
  actor_id: string;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  at: Date;
  changes: Record<string, unknown>;
  prev_hash: Buffer | null;
  hash: Buffer;
}

/** A stored row as the hash sees it (auditEntryHash): what audit:verify recomputes. */
export function chainedOf(r: AuditRow): ChainedEntry {
  return {
    id: r.id,
    ownerId: r.owner_id,
    seq: Number(r.seq),
    action: r.action,
    keyId: r.key_id,
    mode: r.mode,
    actor: { type: r.actor_type, id: r.actor_id },
    ip: r.ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    at: r.at,
    changes: r.changes,
    prevHash: r.prev_hash,
  };
}

export function entryOf(r: AuditRow): AuditEntry {
  return entryView(chainedOf(r), r.hash);
}

/**
 * The cursor: the seq of the last entry shown, so the next page starts below
 * it (seq only grows, so a page never repeats or skips an entry while new
 * ones arrive). Opaque to callers; it names no owner, and every read is
 * bounded to the JWT's owner, so another owner's cursor shows nothing foreign.
 */
const CURSOR = /^a1\.([1-9][0-9]{0,15})$/;
export const encodeCursor = (seq: number): string => Buffer.from(`a1.${seq}`).toString("base64url");
export function decodeCursor(cursor: string): number {
  const m = /^[A-Za-z0-9_-]+$/.test(cursor) ? CURSOR.exec(Buffer.from(cursor, "base64url").toString("latin1")) : null;
  if (!m) throw new AppError("VALIDATION_ERROR", "Invalid cursor: pass meta.nextCursor of a previous answer.");
  return Number(m[1]);
}

/** One page of an owner's entries, newest first; `below` is the cursor's seq. */
export async function auditPage(sql: Db, q: { ownerId: string; mode?: KeyMode; limit: number; below?: number }): Promise<{ entries: AuditEntry[]; nextCursor: string | null }> {
  const rows = await sql<AuditRow[]>`
    select id, owner_id, seq, action, key_id, mode, actor_type, actor_id, ip, user_agent, request_id, at, changes, prev_hash, hash
    from keys.audit_log
    where owner_id = ${q.ownerId}
      ${q.mode ? sql`and mode = ${q.mode}` : sql``}
      ${q.below !== undefined ? sql`and seq < ${q.below}` : sql``}
    order by seq desc limit ${q.limit + 1}`;
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return { entries: page.map(entryOf), nextCursor: rows.length > q.limit && last ? encodeCursor(Number(last.seq)) : null };
}
