import { errFields, type Logger, type Sql } from "@riskinmind/runtime";
import { ensurePartitions } from "./partitions";
import { sweepRetention, type SweepResult } from "./retention";

const HOUR_MS = 3600 * 1000;

export interface StorageMaintenance {
  /**
   * Ensures partitions now (the service awaits it before ingesting); false
   * when it could not (Postgres away at start: ingestion waits on the
   * database anyway, and its first insert finding no partition asks again).
   */
  ensure(): Promise<boolean>;
  /** Ensures partitions soon, once however many batches ask (an insert found no partition). */
  ensureSoon(): void;
  /** One retention sweep (the hourly timer's, or a test's). */
  sweep(): Promise<SweepResult | undefined>;
  /** Starts the hourly ensure + sweep, with a first sweep now. */
  start(): void;
  /** Stops the timer and waits for the work in hand (a sweep stops between partitions). */
  stop(): Promise<void>;
}

/**
 * The usage store's upkeep: partitions created ahead (at start, hourly, and
 * whenever an insert found none) and the retention sweep (at start and
 * hourly; one replica at a time, see sweepRetention). Errors are logged and
 * the next round tries again: neither ever stops ingestion.
 */
export function storageMaintenance(deps: { sql: Sql; log: Logger; retentionDays: number; intervalMs?: number }): StorageMaintenance {
  const { sql, log, retentionDays } = deps;
  let timer: ReturnType<typeof setInterval> | undefined;
  let stopping = false;
  let ensuring: Promise<unknown> | undefined;
  const running = new Set<Promise<unknown>>();

  function track<T>(p: Promise<T>): Promise<T> {
    running.add(p);
    void p.finally(() => running.delete(p)).catch(() => {});
    return p;
  }

  async function ensure(): Promise<boolean> {
    try {
      const made = await ensurePartitions(sql);
      if (made > 0) log.info({ made }, "usage partitions created");
      return true;
    } catch (err) {
      log.error({ ...errFields(err) }, "usage partitions not ensured; next round retries");
      return false;
    }
  }

  async function sweep(): Promise<SweepResult | undefined> {
    try {
      const r = await sweepRetention(sql, { retentionDays, stopping: () => stopping });
      for (const d of r.dropped) log.info({ partition: d.name, rows: d.rows, cutoff: r.cutoff.toISOString() }, "usage partition dropped by retention");
      return r;
    } catch (err) {
      log.error({ ...errFields(err) }, "usage retention sweep failed; next round retries");
      return undefined;
    }
  }

  async function round(): Promise<void> {
    await ensure();
    await sweep();
  }

  return {
    ensure,
    ensureSoon() {
      if (ensuring || stopping) return;
      ensuring = track(ensure().then(() => (ensuring = undefined)));
    },
    sweep: () => track(sweep()),
    start() {
      stopping = false;
      void track(sweep());
      timer = setInterval(() => void track(round()), deps.intervalMs ?? HOUR_MS);
    },
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await Promise.allSettled([...running]);
    },
  };
}
