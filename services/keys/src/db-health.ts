/**
 * Whether Postgres is presumed down, shared by verification and management:
 * whichever path meets the outage first spares the other a connect timeout
 * per request, and stops the management cache from answering for a database
 * that is gone.
 */
export interface DbHealth {
  /** Until when (Date.now()) the database is presumed down. */
  downUntil: number;
}

export const DB_DOWN_BACKOFF_MS = 1_000;

export function markDbDown(db: DbHealth): void {
  db.downUntil = Date.now() + DB_DOWN_BACKOFF_MS;
}
