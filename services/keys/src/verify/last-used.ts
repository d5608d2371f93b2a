import type { Logger, Sql } from "@riskinmind/runtime";
import { touchLastUsed, type TouchedRow } from "../keys/repo";

/**
 * last_used_at without a write per verification: ids seen valid are
 * collected in memory and written in one statement every few seconds (and on
 * stop). A failed flush keeps the ids for the next one.
 */
export function lastUsedFlusher(deps: { sql: Sql; log: Logger; seen: Set<string>; onFlushed?(rows: TouchedRow[]): void }, everyMs = 5_000) {
  let running: Promise<void> | null = null;
  const flush = async (): Promise<void> => {
    if (running) return running;
    if (deps.seen.size === 0) return;
    const ids = [...deps.seen];
    deps.seen.clear();
    running = touchLastUsed(deps.sql, ids)
      .then((rows) => deps.onFlushed?.(rows))
      .catch((err) => {
        for (const id of ids) deps.seen.add(id);
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
