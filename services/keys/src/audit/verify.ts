import type { Db } from "../keys/repo";
import { auditEntryHash } from "./chain";
import type { AuditRow } from "./repo";

/** The first entry of an owner's chain that does not hold, and why. */
export interface ChainBreak {
  id: string;
  seq: number;
  problem: string;
}

export interface ChainVerdict {
  ownerId: string;
  entries: number;
  broken: ChainBreak | null;
}

const PAGE = 1000;

/**
 * Walks one owner's chain in seq order: seq 1, 2, … without gaps, each
 * prev_hash the previous entry's stored hash, and each stored hash the one
 * recomputed from the row (auditEntryHash). Stops at the first break: what
 * follows it cannot be trusted to be checked against anything.
 */
export async function verifyOwnerChain(sql: Db, ownerId: string): Promise<ChainVerdict> {
  let expectedSeq = 1;
  let prev: Buffer | null = null;
  let entries = 0;
  for (;;) {
    const rows: AuditRow[] = await sql<AuditRow[]>`
      select id, owner_id, seq, action, key_id, mode, actor_type, actor_id, ip, user_agent, request_id, at, changes, prev_hash, hash
      from keys.audit_log where owner_id = ${ownerId} and seq >= ${expectedSeq} order by seq limit ${PAGE}`;
    for (const r of rows) {
      const seq = Number(r.seq);
      const brk = (problem: string): ChainVerdict => ({ ownerId, entries, broken: { id: r.id, seq, problem } });
      if (seq !== expectedSeq) return brk(`seq ${seq} where ${expectedSeq} was expected (an entry is missing)`);
      const link = r.prev_hash ? r.prev_hash.toString("hex") : null;
      const want = prev ? prev.toString("hex") : null;
      if (link !== want) return brk(`prev_hash ${link ?? "null"} is not the previous entry's hash ${want ?? "null"}`);
      const again = auditEntryHash({
        id: r.id,
        ownerId: r.owner_id,
        seq,
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
      });
      if (!again.equals(r.hash)) return brk("the stored hash does not match the entry's content (altered after it was written)");
      prev = r.hash;
      expectedSeq++;
      entries++;
    }
    if (rows.length < PAGE) return { ownerId, entries, broken: null };
  }
}

/** Every owner with entries, in order (or the one asked for). */
export async function ownersToVerify(sql: Db, owner?: string): Promise<string[]> {
  if (owner !== undefined) return [owner];
  const rows = await sql<{ owner_id: string }[]>`select distinct owner_id from keys.audit_log order by owner_id`;
  return rows.map((r) => r.owner_id);
}
