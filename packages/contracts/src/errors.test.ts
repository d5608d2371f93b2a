/**
 * The one table of error codes and statuses, the envelope every transport
 * builds from it, and the request id an envelope carries.
 */
import { describe, expect, test } from "bun:test";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { AppError, ERROR_CODES, ERROR_STATUS, ErrorEnvelope, errorBody, requestIdFor } from "./errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("codes and statuses", () => {
  test("the table is exactly the documented one (README, HTTP contract): a code is stable forever", () => {
    expect(ERROR_STATUS).toEqual({
      UNAUTHORIZED: 401,
      INVALID_API_KEY: 401,
      KEY_EXPIRED: 401,
      IP_NOT_ALLOWED: 403,
      INSUFFICIENT_SCOPE: 403,
      VALIDATION_ERROR: 400,
      MALFORMED_JSON: 400,
      KEY_NOT_FOUND: 404,
      NOT_FOUND: 404,
      REQUEST_TIMEOUT: 408,
      ACTIVE_KEY_EXISTS: 409,
      PAYLOAD_TOO_LARGE: 413,
      HEADERS_TOO_LARGE: 431,
      UNSUPPORTED_MEDIA_TYPE: 415,
      RATE_LIMITED: 429,
      QUOTA_EXCEEDED: 429,
      INTERNAL: 500,
      DATABASE_UNAVAILABLE: 503,
      USAGE_UNAVAILABLE: 503,
      VERIFY_UNAVAILABLE: 503,
      NOT_READY: 503,
    });
  });

  test("every code has an HTTP error status, and ERROR_CODES lists every code once", () => {
    expect([...ERROR_CODES].sort() as string[]).toEqual(Object.keys(ERROR_STATUS).sort());
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) {
      const status = ERROR_STATUS[code];
      expect({ code, ok: Number.isInteger(status) && status >= 400 && status <= 599 }).toEqual({ code, ok: true });
    }
  });

  test("codes never advertised because nothing produces them are absent", () => {
    for (const dead of ["FORBIDDEN", "METHOD_NOT_ALLOWED"]) expect(Object.keys(ERROR_STATUS)).not.toContain(dead);
  });
});

describe("the envelope", () => {
  const valid = TypeCompiler.Compile(ErrorEnvelope);

  test("errorBody builds exactly {success:false, error:{code, message, requestId}}, which the schema accepts", () => {
    const body = errorBody("RATE_LIMITED", "Too many.", "req-1");
    expect(body).toEqual({ success: false, error: { code: "RATE_LIMITED", message: "Too many.", requestId: "req-1" } });
    expect(valid.Check(body)).toBe(true);
  });

  test("the schema refuses an unknown code, success:true and a missing request id", () => {
    expect(valid.Check({ success: false, error: { code: "TEAPOT", message: "m", requestId: "r" } })).toBe(false);
    expect(valid.Check({ success: true, error: { code: "INTERNAL", message: "m", requestId: "r" } })).toBe(false);
    expect(valid.Check({ success: false, error: { code: "INTERNAL", message: "m" } })).toBe(false);
  });
});

describe("AppError", () => {
  test("carries its code, the code's status, its message and headers, and is an Error", () => {
    const e = new AppError("RATE_LIMITED", "Too many.", { "retry-after": "3" });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("AppError");
    expect(e.code).toBe("RATE_LIMITED");
    expect(e.status).toBe(429);
    expect(e.message).toBe("Too many.");
    expect(e.headers).toEqual({ "retry-after": "3" });
    expect(new AppError("DATABASE_UNAVAILABLE", "down").status).toBe(503);
    expect(new AppError("INTERNAL", "x").headers).toBeUndefined();
  });
});

describe("requestIdFor", () => {
  test("a well-formed incoming id is kept, up to 64 characters of [A-Za-z0-9._-]", () => {
    for (const id of ["abc", "0193c6a2-5f7e-7c3a-9b1d-2f4e6a8c0b1d", "a.b_c-D9", "x".repeat(64)]) expect(requestIdFor(id)).toBe(id);
  });

  test("a missing, empty, too long or ill-formed id is replaced by a fresh UUID", () => {
    for (const id of [null, undefined, "", "x".repeat(65), "a b", "a:b", "a/b", "é", "a\nb", "<script>"]) {
      const out = requestIdFor(id);
      expect({ id, out: UUID.test(out) }).toEqual({ id, out: true });
    }
    expect(requestIdFor(null)).not.toBe(requestIdFor(null));
  });

  test("an id shaped like an API key or a JWT is never echoed (it would land in logs and bodies)", () => {
    for (const id of ["sk_live_abc", "xsk_test_1", "eyJhbGciOiJIUzI1NiJ9", "a.eyJzdWIiOiJ4In0"]) expect(requestIdFor(id)).toMatch(UUID);
  });
});
