import type { NatsConnection } from "nats";
import type { Sql } from "postgres";
import { withTimeout } from "./timeout";

/**
 * How long one readiness check may take. A probe that hangs is as bad as a
 * failed one: an orchestrator waiting on /ready must get an answer, not a
 * timeout of its own, and a pool that cannot connect within this is not ready.
 */
export const READY_CHECK_TIMEOUT_MS = 1_000;

/** True when the pool answers `select 1` within the bound. */
export async function postgresReady(sql: Sql, timeoutMs = READY_CHECK_TIMEOUT_MS): Promise<boolean> {
  try {
    await withTimeout(sql`select 1`.execute(), timeoutMs, "readiness: postgres");
    return true;
  } catch {
    return false;
  }
}

/**
 * True when the connection is not closed and the server answers a flush
 * (a PING round trip) within the bound. A connection that is reconnecting
 * queues the PING, so it counts as down until the server is back.
 */
export async function natsReady(nc: NatsConnection, timeoutMs = READY_CHECK_TIMEOUT_MS): Promise<boolean> {
  if (nc.isClosed()) return false;
  try {
    await withTimeout(nc.flush(), timeoutMs, "readiness: nats flush");
    return true;
  } catch {
    return false;
  }
}
