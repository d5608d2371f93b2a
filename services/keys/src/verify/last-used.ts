import { errFields, type Logger, type Sql } from "@riskinmind/runtime";
import type { CurrentKeyCache } from "../keys/current-cache";
import { LAST_USED_PRECISION_S, touchLastUsed } from "../keys/repo";

/**
 * last_used_at without a write per verification: ids seen valid are
 * collected in memory (`note`) and written in one statement every few seconds
 * (and on stop). A failed flush keeps the ids for the next one. A key written
 * less than LAST_USED_PRECISION_S ago is not sent again: under steady traffic
 * the flush stays a no-op instead of rewriting every hot key's row every time.
 * What was written is passed on to the `GET /api/v1/keys/` cache.
 */
export class LastUsed {
  /** Key ids seen valid since the last flush. */
  private readonly pending = new Set<string>();
  /** When this replica last sent each key id (pruned as entries age out). */
  private readonly written = new Map<string, number>();
  private running: Promise<void> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly deps: { sql: Sql; log: Logger; current: Pick<CurrentKeyCache, "touch">; everyMs?: number }) {}

  /** A verification found this key valid. */
  note(keyId: string): void {
    this.pending.add(keyId);
  }

  /** Flushes every few seconds until stop(). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.deps.everyMs ?? 5_000);
    this.timer.unref?.();
  }

  /** Stops the timer and writes what is still pending. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.flush();
  }

  /** Writes the pending ids now (joins a flush already running). */
  flush(): Promise<void> {
    if (this.running) return this.running;
    if (this.pending.size === 0) return Promise.resolve();
    const now = Date.now();
    const horizon = now - LAST_USED_PRECISION_S * 1000;
    const ids: string[] = [];
    for (const id of this.pending) if (!((this.written.get(id) ?? 0) > horizon)) ids.push(id);
    this.pending.clear();
    for (const [id, at] of this.written) if (at <= horizon) this.written.delete(id);
    if (ids.length === 0) return Promise.resolve();
    for (const id of ids) this.written.set(id, now);
    this.running = touchLastUsed(this.deps.sql, ids)
      .then((rows) => {
        for (const r of rows) if (r.last_used_at) this.deps.current.touch(r.owner_id, r.id, r.last_used_at.toISOString());
      })
      .catch((err) => {
        for (const id of ids) {
          this.pending.add(id);
          this.written.delete(id);
        }
        this.deps.log.warn({ ...errFields(err), keys: ids.length }, "last_used_at flush failed");
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}
