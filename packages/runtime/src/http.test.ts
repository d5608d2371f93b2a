/**
 * errorResponse: the one way an error answer is built outside Elysia's
 * hooks (serve()'s refusals, the guard): status from the code table, the
 * envelope body, and the request id in body and header alike.
 */
import { describe, expect, test } from "bun:test";
import { ERROR_STATUS } from "@riskinmind/contracts";
import { errorResponse, MAX_BODY_BYTES, MAX_HEADER_BYTES, SECURITY_HEADERS } from "./http";

describe("errorResponse", () => {
  test("status from the code, the envelope as JSON, the request id in body and x-request-id", async () => {
    const res = errorResponse("PAYLOAD_TOO_LARGE", "Request body exceeds 16384 bytes.", "req-42");
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("x-request-id")).toBe("req-42");
    expect(await res.json()).toEqual({ success: false, error: { code: "PAYLOAD_TOO_LARGE", message: "Request body exceeds 16384 bytes.", requestId: "req-42" } });
  });

  test("every code answers with its table status", () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) expect(errorResponse(code as keyof typeof ERROR_STATUS, "m", "r").status).toBe(status);
  });

  test("extra headers are sent, but never override the request id", () => {
    const res = errorResponse("RATE_LIMITED", "slow down", "real-id", { "retry-after": "3", "x-request-id": "spoofed" });
    expect(res.headers.get("retry-after")).toBe("3");
    expect(res.headers.get("x-request-id")).toBe("real-id");
  });
});

describe("limits and headers", () => {
  test("16 KiB bodies, 8 KiB headers, as documented", () => {
    expect(MAX_BODY_BYTES).toBe(16_384);
    expect(MAX_HEADER_BYTES).toBe(8_192);
  });

  test("every response's headers: no caching, no sniffing, no framing, no referrer, a deny-all CSP, HSTS", () => {
    expect(SECURITY_HEADERS).toMatchObject({
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
    });
    expect(SECURITY_HEADERS["content-security-policy"]).toStartWith("default-src 'none'");
    expect(SECURITY_HEADERS["strict-transport-security"]).toContain("max-age=");
  });
});
