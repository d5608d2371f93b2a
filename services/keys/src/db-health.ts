/**
 * Whether Postgres is presumed down, shared by verification and management:
 * whichever path meets the outage first spares the other a connect timeout
 * per request, and stops the management cache from answering for a database
 * that is gone.
 */
export class DbHealth {
  /** Until when (Date.now()) the database is presumed down. */
  private downUntil = 0;

  constructor(private readonly backoffMs = DB_DOWN_BACKOFF_MS) {}

  /** True while a recent failure says the database is away. */
  isDown(now = Date.now()): boolean {
    return now < this.downUntil;
  }

  /** A connection failure: presume the database down for the backoff. */
  markDown(now = Date.now()): void {
    this.downUntil = now + this.backoffMs;
  }
}

export const DB_DOWN_BACKOFF_MS = 1_000;
