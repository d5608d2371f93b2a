import { errFields, type Logger, type Sql } from "@riskinmind/runtime";
import { changedSince, dbNow, type ChangedRow } from "../keys/repo";

/**
 * Re-reads recent key changes (revocations, rotations, grace ends, policy
 * changes) from Postgres, the source of truth, so a change whose broadcast
 * was lost (NATS down at the moment the changing replica published) still
 * reaches every cache within about one interval. The broadcast stays the fast
 * path (milliseconds); this is the bound.
 */
export function pollChanges(deps: { sql: Sql; log: Logger; intervalMs: number; onChanged(row: ChangedRow): void }): { stop(): void } {
  if (deps.intervalMs <= 0) return { stop() {} };
  // changed_at is the changing transaction's start time, and a row becomes
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
        for (const row of await changedSince(deps.sql, from)) {
          // A key may change twice within the overlap: each change is announced once.
          const id = `${row.id}@${row.changed_at.getTime()}`;
          if (handled.has(id)) continue;
          handled.set(id, row.changed_at.getTime());
          deps.onChanged(row);
        }
        for (const [id, at] of handled) if (at < from.getTime()) handled.delete(id);
      }
      // Before the first read there is nothing cached that predates it.
      since = now;
    } catch (err) {
      // Postgres down: verification serves its stale-window answers meanwhile.
      deps.log.debug({ ...errFields(err) }, "change poll failed");
    } finally {
      busy = false;
    }
  }

  const timer = setInterval(() => void tick(), deps.intervalMs);
  void tick();
  return { stop: () => clearInterval(timer) };
}
