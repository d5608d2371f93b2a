/**
 * What the lifecycle tests read back: an owner's audit entries and key
 * events (read from the key-events stream, as another service reads them),
 * and a sweep round of the test's own that surely ran.
 */
import { createLogger, type Sql } from "@riskinmind/runtime";
import { sweepRound, type SweepResult } from "../../services/keys/src/lifecycle/sweep";

export interface AuditRow {
  action: string;
  key_id: string;
  mode: string;
  actor_type: string;
  actor_id: string;
  changes: Record<string, unknown>;
}

export async function auditOf(sql: Sql, ownerId: string, action?: string): Promise<AuditRow[]> {
  return sql<AuditRow[]>`
    select action, key_id, mode, actor_type, actor_id, changes from keys.audit_log
    where owner_id = ${ownerId} and (${action ?? null}::text is null or action = ${action ?? null}) order by seq`;
}

export { publishedEventsOf as eventsOf } from "../audit/helpers";

export const quiet = createLogger("test", "silent");
const noNudge = { nudge() {} };

/** A round of the test's own, retried while a replica holds the round lock, so it surely looked at what is due now. */
export async function ownRound(sql: Sql): Promise<SweepResult> {
  for (;;) {
    const r = await sweepRound({ sql, log: quiet, outbox: noNudge });
    if (r.ran) return r;
    await Bun.sleep(20);
  }
}
