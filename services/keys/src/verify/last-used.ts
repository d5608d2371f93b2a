import type { Logger, Sql } from "@riskinmind/runtime";
import { LAST_USED_PRECISION_S, touchLastUsed, type TouchedRow } from "../keys/repo";

/**
 * last_used_at without a write per verification: ids seen valid are
 * collected in memory and written in one statement every few seconds (and on
 * stop). A failed flush keeps the ids for the next one. A key written less
 * than LAST_USED_PRECISION_S ago is not sent again: under steady traffic the
 * flush stays a no-op instead of rewriting every hot key's row every time.
 */
export function lastUsedFlusher(deps: { sql: Sql; log: Logger; seen: Set<string>; onFlushed?(rows: TouchedRow[]): void }, everyMs = 5_000) {
  let running: Promise<void> | null = null;
  /** When this replica last sent each key id (pruned as entries age out). */
  const written = new Map<string, number>();
  const flush = async (): Promise<void> => {
    if (running) return running;
    if (deps.seen.size === 0) return;
    const now = Date.now();
    const ids: string[] = [];
    for (const id of deps.seen) if (!((written.get(id) ?? 0) > now - LAST_USED_PRECISION_S * 1000)) ids.push(id);
    deps.seen.clear();
    for (const [id, at] of written) if (at <= now - LAST_USED_PRECISION_S * 1000) written.delete(id);
    if (ids.length === 0) return;
    for (const id of ids) written.set(id, now);
    running = touchLastUsed(deps.sql, ids)
      .then((rows) => deps.onFlushed?.(rows))
      .catch((err) => {
        for (const id of ids) {
          deps.seen.add(id);
          written.delete(id);
        }
        deps.log.warn({ err: { message: (err as Error).message }, keys: ids.length }, "last_used_at flush failed");
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void flush(), everyMs);
  timer.unref?.();
  return {
    flush,
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
      await flush();
    },
  };
}
