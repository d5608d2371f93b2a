/** A key's policy compiled once, checked per call: expiry, then address, then scope. */
import { describe, expect, test } from "bun:test";
import { parseIp } from "@riskinmind/contracts";
import { checkPolicy, compilePolicy, NO_NEEDS, OPEN_POLICY } from "./policy";

const NOW = Date.UTC(2027, 0, 1);
const needs = (scope: string | null) => ({ scope, cost: 1 });
const ip = (s: string) => parseIp(s);

describe("compilePolicy", () => {
  test("a reply with no policy fields (an older keys service) is open: live, no expiry, every scope, any address, nothing counted", () => {
    const p = compilePolicy({}, "owner", "h");
    expect({ mode: p.mode, expiresAt: p.expiresAt, allScopes: p.allScopes, allow: p.allow, limit: p.limit }).toEqual({
      mode: "live",
      expiresAt: Number.POSITIVE_INFINITY,
      allScopes: true,
      allow: null,
      limit: null,
    });
  });

  test("the limiter's input is built once, by owner, mode and key hash, only when there is something to count", () => {
    const p = compilePolicy({ mode: "test", rateLimit: { limit: 5, windowSeconds: 1 }, quota: null }, "owner-1", "ab".repeat(32));
    expect(p.limit).toEqual({ ownerId: "owner-1", mode: "test", keyHash: "ab".repeat(32), rateLimit: { limit: 5, windowSeconds: 1 }, quota: null });
    expect(compilePolicy({ rateLimit: null, quota: null }, "o", "h").limit).toBeNull();
  });
});

describe("checkPolicy", () => {
  test("an open policy accepts any call", () => {
    expect(checkPolicy(OPEN_POLICY, NOW, null, needs("loans:predict"))).toBeNull();
  });

  test("expired at or before now: KEY_EXPIRED; a moment before its expiry the key works", () => {
    expect(checkPolicy(compilePolicy({ expiresAt: NOW }, "o", "h"), NOW, null, NO_NEEDS)).toBe("KEY_EXPIRED");
    expect(checkPolicy(compilePolicy({ expiresAt: NOW + 1 }, "o", "h"), NOW, null, NO_NEEDS)).toBeNull();
  });

  test("scopes: the route's scope must be held; '*' holds every scope; a route that needs none accepts any key", () => {
    const narrow = compilePolicy({ scopes: ["loans:read"] }, "o", "h");
    expect(checkPolicy(narrow, NOW, null, needs("loans:predict"))).toBe("INSUFFICIENT_SCOPE");
    expect(checkPolicy(narrow, NOW, null, needs("loans:read"))).toBeNull();
    expect(checkPolicy(narrow, NOW, null, NO_NEEDS)).toBeNull();
    expect(checkPolicy(compilePolicy({ scopes: ["*"] }, "o", "h"), NOW, null, needs("anything:else"))).toBeNull();
  });

  test("allowlist: an address inside any entry passes, outside or unknown is IP_NOT_ALLOWED", () => {
    const p = compilePolicy({ ipAllowlist: ["127.0.0.1", "2001:db8::/32"] }, "o", "h");
    expect(checkPolicy(p, NOW, ip("127.0.0.1"), NO_NEEDS)).toBeNull();
    expect(checkPolicy(p, NOW, ip("::ffff:127.0.0.1"), NO_NEEDS)).toBeNull();
    expect(checkPolicy(p, NOW, ip("2001:db8:5::1"), NO_NEEDS)).toBeNull();
    expect(checkPolicy(p, NOW, ip("127.0.0.2"), NO_NEEDS)).toBe("IP_NOT_ALLOWED");
    expect(checkPolicy(p, NOW, null, NO_NEEDS)).toBe("IP_NOT_ALLOWED");
  });

  test("an allowlist entry the guard cannot read narrows, never widens: it matches nobody", () => {
    const p = compilePolicy({ ipAllowlist: ["not-an-ip"] }, "o", "h");
    expect(checkPolicy(p, NOW, ip("127.0.0.1"), NO_NEEDS)).toBe("IP_NOT_ALLOWED");
  });

  test("the order a caller learns of refusals: expiry, then address, then scope", () => {
    const all = compilePolicy({ expiresAt: NOW, ipAllowlist: ["10.0.0.0/8"], scopes: ["a"] }, "o", "h");
    expect(checkPolicy(all, NOW, ip("1.1.1.1"), needs("b"))).toBe("KEY_EXPIRED");
    const live = compilePolicy({ expiresAt: NOW + 1000, ipAllowlist: ["10.0.0.0/8"], scopes: ["a"] }, "o", "h");
    expect(checkPolicy(live, NOW, ip("1.1.1.1"), needs("b"))).toBe("IP_NOT_ALLOWED");
    expect(checkPolicy(live, NOW, ip("10.1.1.1"), needs("b"))).toBe("INSUFFICIENT_SCOPE");
  });
});
