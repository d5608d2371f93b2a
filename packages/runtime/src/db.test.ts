/**
 * isDbUnavailable decides between 503 DATABASE_UNAVAILABLE (retry later, the
 * database is away) and a real error: a query's own fault must never pass
 * for an outage, nor an outage for a bug.
 */
import { describe, expect, test } from "bun:test";
import { isDbUnavailable } from "./db";

const err = (code: string, field: "code" | "errno" = "code") => Object.assign(new Error("x"), { [field]: code });

describe("isDbUnavailable", () => {
  test("network failures and postgres.js connection states are outages", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT"]) {
      expect({ code, down: isDbUnavailable(err(code)) }).toEqual({ code, down: true });
    }
  });

  test("SQLSTATE class 08 (connection exception), shutdowns (57P01-03) and too many connections (53300) are outages", () => {
    for (const code of ["08000", "08003", "08006", "08P01", "57P01", "57P02", "57P03", "53300"]) {
      expect({ code, down: isDbUnavailable(err(code)) }).toEqual({ code, down: true });
    }
  });

  test("a query's own errors are not: unique violation, undefined table, syntax, cancel", () => {
    for (const code of ["23505", "42P01", "42601", "57014", "22021", ""]) {
      expect({ code, down: isDbUnavailable(err(code)) }).toEqual({ code, down: false });
    }
  });

  test("the code may come as errno; anything without a code is not an outage", () => {
    expect(isDbUnavailable(err("ECONNREFUSED", "errno"))).toBe(true);
    expect(isDbUnavailable(new Error("ECONNREFUSED"))).toBe(false);
    expect(isDbUnavailable(null)).toBe(false);
    expect(isDbUnavailable(undefined)).toBe(false);
    expect(isDbUnavailable("ECONNREFUSED")).toBe(false);
  });
});
