/**
 * What the lifecycle tests read back: an owner's audit entries and key
 * events (read from the key-events stream, as another service reads them),
 * and a sweep round of the test's own that surely ran.
 */
import { keyStreamOf, type KeyEvent, type Topology } from "@riskinmind/contracts";
import { waitFor } from "@riskinmind/testkit";
import type { NatsConnection } from "nats";
import { readKeyEvents } from "../audit/helpers";
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

/**
 * The owner's key events as another service reads them: once the outbox
 * holds none of them any more (all published), every message of the
 * key-events stream that is the owner's, in stream order, duplicates included.
 */
export async function eventsOf(env: { sql: Sql; nc: NatsConnection; topo: Topology }, ownerId: string, token?: string): Promise<KeyEvent[]> {
  await waitFor(async () => (await env.sql`select 1 from keys.outbox where payload -> 'data' ->> 'ownerId' = ${ownerId} limit 1`).length === 0, 10_000, `the outbox to publish ${ownerId}'s events`);
  const all = await readKeyEvents(env.nc, keyStreamOf(env.topo));
  return all.filter((e) => e.event.data.ownerId === ownerId && (token === undefined || e.subject.endsWith(`.keys.events.${token}`) || e.subject === `keys.events.${token}`)).map((e) => e.event);
}

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
