/** What withTimeout rejects with: names the operation, never its arguments (they may hold secrets). */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} timed out after ${ms} ms`);
  }
}

/**
 * `promise`, or a TimeoutError once `ms` have passed without it settling. The
 * timer is cleared as soon as either side wins, so a fast answer leaves no
 * timer behind to hold the process open. The operation itself is not
 * cancelled (a NATS flush or a SQL query has no handle for that here); its
 * late outcome is ignored, and a late rejection is never unhandled.
 */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
