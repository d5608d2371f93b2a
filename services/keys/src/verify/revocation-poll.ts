import type { Logger, Sql } from "@riskinmind/runtime";
import type { RevokedRow } from "../keys/repo";

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
  const seen = new Map<string, number>();
  let busy = false;

  async function tick(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const [{ now }] = (await deps.sql`select now() as now`) as unknown as [{ now: Date }];
      if (since !== null) {
        const from = new Date(since.getTime() - OVERLAP_MS);
        const rows = await deps.sql<RevokedRow[]>`
          select id, owner_id, key_hash, revoked_at from keys.api_keys
          where revoked_at > ${from} order by revoked_at limit 10000`;
        for (const row of rows) {
          if (seen.has(row.id)) continue;
          seen.set(row.id, row.revoked_at!.getTime());
          deps.onRevoked(row);
        }
        for (const [id, at] of seen) if (at < from.getTime()) seen.delete(id);
      }
      // Before the first read there is nothing cached that predates it.
      since = now;
    } catch (err) {
      // Postgres down: verification serves its stale-window answers meanwhile.
      deps.log.debug({ err: { message: (err as Error).message } }, "revocation poll failed");
    } finally {
      busy = false;
    }
  }

  const timer = setInterval(() => void tick(), deps.intervalMs);
  void tick();
  return { stop: () => clearInterval(timer) };
}
