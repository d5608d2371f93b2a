import { AppError, WEBHOOK_LIMITS, type DeliveryStatus, type DeliveryView } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import { withDb } from "../keys/repo";
import { ownedEndpoint } from "./endpoints";

interface Row {
  id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  next_attempt_at: Date | null;
  attempts: { at: string; statusCode: number | null; error: string | null; durationMs: number }[];
}

const encodeCursor = (id: string) => Buffer.from(`d:${id}`).toString("base64url");
function decodeCursor(c: string): string {
  const m = /^d:([1-9][0-9]{0,18})$/.exec(Buffer.from(c, "base64url").toString());
  if (!m) throw new AppError("VALIDATION_ERROR", "Invalid query: cursor is not one this API gave.");
  return m[1]!;
}

/**
 * One page of an endpoint's deliveries, newest first, each with its attempts
 * in order. `nextAttemptAt` is null once a delivery is settled.
 */
export async function listDeliveries(
  sql: Sql,
  input: { ownerId: string; id: string; limit?: string; cursor?: string },
): Promise<{ data: DeliveryView[]; meta: { limit: number; nextCursor: string | null } }> {
  const limit = input.limit ? Number(input.limit) : WEBHOOK_LIMITS.deliveriesPageDefault;
  const before = input.cursor === undefined ? null : decodeCursor(input.cursor);
  await ownedEndpoint(sql, input.ownerId, input.id);
  const rows = await withDb(
    () => sql<Row[]>`
      select d.id::text as id, d.event_id, d.event_type, d.status, d.next_attempt_at,
        coalesce((select json_agg(json_build_object('at', a.at, 'statusCode', a.status_code, 'error', a.error, 'durationMs', a.duration_ms) order by a.attempt_no)
                  from keys.webhook_attempts a where a.delivery_id = d.id), '[]') as attempts
      from keys.webhook_deliveries d
      where d.endpoint_id = ${input.id} and (${before}::bigint is null or d.id < ${before}::bigint)
      order by d.id desc limit ${limit + 1}`,
  );
  const page = rows.slice(0, limit);
  return {
    data: page.map((r) => ({
      eventId: r.event_id,
      eventType: r.event_type,
      status: r.status,
      attempts: r.attempts.map((a) => ({ ...a, at: new Date(a.at).toISOString() })),
      nextAttemptAt: r.status === "pending" && r.next_attempt_at ? r.next_attempt_at.toISOString() : null,
    })),
    meta: { limit, nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null },
  };
}
