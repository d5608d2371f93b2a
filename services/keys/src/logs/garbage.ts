/**
 * Keeps an export's garbage from growing the process.
 *
 * An export moves hundreds of megabytes through this process (socket reads,
 * nats.js's reply buffers, the body's chunks). Each page's buffers die young,
 * but the collector paces itself by the live heap: in a keys process holding
 * its verify and key caches (200,000 entries), the first 2M-row export grew
 * RSS by 24-85 MB from run to run (`bun bench/export-check.ts` with a heap of
 * that size). So every few pages the export looks at RSS, and once it stands
 * `slackBytes` above the lowest it has been since the last request, it asks
 * for a collection. `Bun.gc(false)` runs it concurrently: about 1 ms on this
 * thread, where a forced synchronous one (`Bun.gc(true)`) stopped the process,
 * verifications included, for 30-50 ms with such a heap. Measured the same
 * way, at the same rows/s: first exports of a process grew RSS by 17, 31 and
 * 22 MB with the guard at 16 MB (later ones 8-13 MB), by 30-36 MB at 24 MB,
 * and by 24, 50, 54 and 85 MB without it (later ones up to 75 MB).
 */
export function garbageGuard(slackBytes: number, rss: () => number = () => process.memoryUsage.rss()) {
  let low = Number.POSITIVE_INFINITY;
  return {
    /** Called as pages pass; returns true when it asked for a collection. */
    check(): boolean {
      const now = rss();
      if (now < low) low = now;
      if (now - low <= slackBytes) return false;
      Bun.gc(false);
      // The collection runs concurrently: measure the next growth from here, and follow RSS down as it frees.
      low = now;
      return true;
    },
  };
}
