/** What the audit tests share: reading the key-events stream as a consumer would, and the audit rows of an owner. */
import type { NatsConnection } from "nats";
import { AckPolicy } from "nats";
import { keyStreamOf, type KeyEvent, type Topology } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import { waitFor } from "@riskinmind/testkit";

export interface StreamedEvent {
  subject: string;
  msgId: string | undefined;
  event: KeyEvent;
}

/**
 * Every message of the key-events stream, read through an ephemeral pull
 * consumer from the first message (as another service reads it), in stream order.
 */
export async function readKeyEvents(nc: NatsConnection, stream: string): Promise<StreamedEvent[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0) return [];
  const name = `audit-test-${Math.random().toString(36).slice(2, 10)}`;
  await jsm.consumers.add(stream, { name, ack_policy: AckPolicy.Explicit, inactive_threshold: 30_000_000_000 });
  try {
    const consumer = await nc.jetstream().consumers.get(stream, name);
    const out: StreamedEvent[] = [];
    while (out.length < info.state.messages) {
      const batch = await consumer.fetch({ max_messages: info.state.messages - out.length, expires: 2_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        out.push({ subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id") || undefined, event: m.json<KeyEvent>() });
        m.ack();
      }
      if (got === 0) break;
    }
    return out;
  } finally {
    await jsm.consumers.delete(stream, name).catch(() => {});
  }
}

/** How many stream messages carry each event id. */
export function countById(events: StreamedEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.event.id, (counts.get(e.event.id) ?? 0) + 1);
  return counts;
}

export const outboxRows = async (sql: Sql): Promise<number> => Number((await sql<{ n: string }[]>`select count(*) as n from keys.outbox`)[0]!.n);

export const auditRows = (sql: Sql, ownerId: string) =>
  sql<{ id: string; seq: string; action: string; key_id: string; changes: Record<string, unknown> }[]>`
    select id, seq, action, key_id, changes from keys.audit_log where owner_id = ${ownerId} order by seq`;

/**
 * The owner's key events as another service reads them: once the outbox
 * holds none of them any more (all published), every message of the
 * key-events stream that is the owner's, in stream order, duplicates included.
 */
export async function publishedEventsOf(env: { sql: Sql; nc: NatsConnection; topo: Topology }, ownerId: string, token?: string): Promise<KeyEvent[]> {
  await waitFor(async () => (await env.sql`select 1 from keys.outbox where payload -> 'data' ->> 'ownerId' = ${ownerId} limit 1`).length === 0, 10_000, `the outbox to publish ${ownerId}'s events`);
  const all = await readKeyEvents(env.nc, keyStreamOf(env.topo));
  return all.filter((e) => e.event.data.ownerId === ownerId && (token === undefined || e.subject.endsWith(`.keys.events.${token}`) || e.subject === `keys.events.${token}`)).map((e) => e.event);
}
