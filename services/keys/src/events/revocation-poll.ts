import { errFields, type Logger, type Sql } from "@riskinmind/runtime";
import { dbNow, revokedSince, type RevokedRow } from "../keys/repo";

/**
 * Re-reads recent revocations from Postgres, the source of truth, so a
 * revocation whose broadcast was lost (NATS down at the moment the revoking
 * replica published) still reaches every cache within about one interval.
 * The broadcast stays the fast path (milliseconds); this is the bound.
 */
export function pollRevocations(deps: { sql: Sql; log: Logger; intervalMs: number; onRevoked(row: RevokedRow): void }): { stop(): void } {
  if (deps.intervalMs <= 0) return { stop() {} };
  // revoked_at is the revoking transaction's start time, and a row becomes
  // visible only at its commit: look back far enough to see late commits.
  const OVERLAP_MS = 10_000;
  let since: Date | null = null;
  const handled = new Map<string, number>();
  let busy = false;

  async function tick(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const now = await dbNow(deps.sql);
      if (since !== null) {
        const from = new Date(since.getTime() - OVERLAP_MS);
        for (const row of await revokedSince(deps.sql, from)) {
          if (handled.has(row.id)) continue;
          handled.set(row.id, row.revoked_at!.getTime());
          deps.onRevoked(row);
        }
        for (const [id, at] of handled) if (at < from.getTime()) handled.delete(id);
      }
      // Before the first read there is nothing cached that predates it.
      since = now;
    } catch (err) {
      // Postgres down: verification serves its stale-window answers meanwhile.
      deps.log.debug({ ...errFields(err) }, "revocation poll failed");
    } finally {
      busy = false;
    }
  }

  const timer = setInterval(() => void tick(), deps.intervalMs);
  void tick();
  return { stop: () => clearInterval(timer) };
}
