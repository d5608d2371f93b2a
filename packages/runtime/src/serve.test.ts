/** serve()'s Host rules, one by one (the services end to end: test/security/host-header.test.ts). */
import { describe, expect, test } from "bun:test";
import { isValidHost, normalizeRequest } from "./serve";

const withHost = (url: string, host: string | null) => {
  const r = new Request(url);
  // A Request built here carries no Host; set it as Bun's server would have received it.
  if (host !== null) r.headers.set("host", host);
  return r;
};

describe("isValidHost", () => {
  test("names, IPv4, bracketed IPv6, with ports up to 65535", () => {
    for (const h of ["localhost", "keys.example.com", "127.0.0.1", "127.0.0.1:3000", "[::1]", "[::1]:65535", "a", "x:0", "my-host_1"]) {
      expect({ h, ok: isValidHost(h) }).toEqual({ h, ok: true });
    }
  });
  test("refuses what no URL authority can be: brackets alone, userinfo, paths, spaces, non-ASCII, ports past 65535", () => {
    for (const h of ["[", "[::1", "a@b", "a/b", "a b", "é", "x:65536", "x:99999", "x:", ":80", "-x", "a\\b", "a?b", "a#b"]) {
      expect({ h, ok: isValidHost(h) }).toEqual({ h, ok: false });
    }
  });
});

describe("normalizeRequest", () => {
  test("a well-formed Host of 4+ characters passes through untouched (no copy on the common path)", () => {
    const r = withHost("http://keys.example.com/api/v1/keys/", "keys.example.com");
    expect(normalizeRequest(r)).toBe(r);
  });
  test("a short Host is rebased, so the path is the path", () => {
    const out = normalizeRequest(withHost("http://x/api/metrics?a=1", "x")) as Request;
    expect(new URL(out.url).pathname).toBe("/api/metrics");
    expect(new URL(out.url).search).toBe("?a=1");
  });
  test("a relative URL (no usable Host) is rebased", () => {
    const r = withHost("http://placeholder/health", "");
    Object.defineProperty(r, "url", { value: "/x/y?z=1" });
    expect(new URL((normalizeRequest(r) as Request).url).pathname).toBe("/x/y");
  });
  test("a malformed Host is a 400 VALIDATION_ERROR envelope", async () => {
    const res = normalizeRequest(withHost("http://a/health", "a@b")) as Response;
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_ERROR");
  });
});
