import { AUDIT_EVENT, eventSubjectToken, type Actor, type AuditAction, type AuditEntry, type KeyEvent, type KeyMode } from "@riskinmind/contracts";
import { newId } from "../keys/mint";
import type { Db } from "../keys/repo";
import { auditEntryHash, type ChainedEntry, entryView } from "./chain";

/** The outbox publisher as a verb sees it: told after a commit that wrote a key event, so it goes out without waiting for the poll. */
export interface OutboxNudge {
  nudge(): void;
}

/** Where an owner's change came from (the HTTP request); null fields for the system's own changes. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}
export const NO_REQUEST: RequestMeta = { ip: null, userAgent: null, requestId: null };

/** One change of one key, as the verb that made it describes it. */
export interface ChangeRecord {
  ownerId: string;
  keyId: string;
  mode: KeyMode;
  action: AuditAction;
  actor: Actor;
  request?: RequestMeta;
  /** What changed: field → value (or `{ from, to }`); never a key, a hash of one, or a secret. */
  changes: Record<string, unknown>;
}

/**
 * Writes a change's audit entry and its key event (keys.outbox) in the
 * caller's transaction, so both commit with the change or not at all. The
 * caller must hold the owner's lock (lockOwner): the entry extends the
 * owner's hash chain, which the database checks on insert. Call the outbox
 * publisher's `nudge()` after the commit to publish without waiting for its poll.
 */
export async function recordChange(tx: Db, rec: ChangeRecord, at = new Date()): Promise<{ entry: AuditEntry; event: KeyEvent }> {
  const [last] = await tx<{ seq: string; hash: Buffer }[]>`
    select seq, hash from keys.audit_log where owner_id = ${rec.ownerId} order by seq desc limit 1`;
  const req = rec.request ?? NO_REQUEST;
  const chained: ChainedEntry = {
    id: newId("aud"),
    ownerId: rec.ownerId,
    seq: last ? Number(last.seq) + 1 : 1,
    action: rec.action,
    keyId: rec.keyId,
    mode: rec.mode,
    actor: rec.actor,
    ip: req.ip,
    userAgent: req.userAgent,
    requestId: req.requestId,
    at: new Date(at.getTime()),
    changes: rec.changes,
    prevHash: last?.hash ?? null,
  };
  const hash = auditEntryHash(chained);
  await tx`
    insert into keys.audit_log (id, owner_id, seq, action, key_id, mode, actor_type, actor_id, ip, user_agent, request_id, at, changes, prev_hash, hash)
    values (${chained.id}, ${chained.ownerId}, ${chained.seq}, ${chained.action}, ${chained.keyId}, ${chained.mode}, ${chained.actor.type}, ${chained.actor.id},
      ${chained.ip}, ${chained.userAgent}, ${chained.requestId}, ${chained.at}, ${tx.json(chained.changes as never)}, ${chained.prevHash}, ${hash})`;

  const type = AUDIT_EVENT[rec.action];
  const event: KeyEvent = {
    id: newId("evt"),
    type,
    timestamp: chained.at.toISOString(),
    data: { ownerId: rec.ownerId, keyId: rec.keyId, mode: rec.mode, action: rec.action, actor: rec.actor, changes: rec.changes },
  };
  await tx`insert into keys.outbox (event_id, subject_token, payload) values (${event.id}, ${eventSubjectToken(type)}, ${tx.json(event as never)})`;

  const entry = entryView(chained, hash);
  return { entry, event };
}
