/** DbHealth transitions: presumed down for exactly the backoff after a failure, up otherwise. */
import { describe, expect, test } from "bun:test";
import { DB_DOWN_BACKOFF_MS, DbHealth } from "../../services/keys/src/db-health";

describe("DbHealth", () => {
  test("is up until a failure is marked", () => {
    expect(new DbHealth().isDown(0)).toBe(false);
    expect(new DbHealth().isDown()).toBe(false);
  });

  test("a failure presumes the database down for the backoff, then up again (no probe needed)", () => {
    const db = new DbHealth(500);
    db.markDown(1_000);
    expect(db.isDown(1_000)).toBe(true);
    expect(db.isDown(1_499)).toBe(true);
    expect(db.isDown(1_500)).toBe(false);
  });

  test("a later failure extends the window; the default backoff is DB_DOWN_BACKOFF_MS", () => {
    const db = new DbHealth();
    db.markDown(0);
    db.markDown(400);
    expect(db.isDown(DB_DOWN_BACKOFF_MS + 399)).toBe(true);
    expect(db.isDown(DB_DOWN_BACKOFF_MS + 400)).toBe(false);
  });
});
