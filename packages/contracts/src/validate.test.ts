/**
 * The compiled validators every NATS message passes through. Each case sits
 * at an edge: the last value accepted and the first refused, a field too
 * many, a code outside the closed list.
 */
import { describe, expect, test } from "bun:test";
import { check, parseJson } from "./validate";

const HASH = "a".repeat(64);
const str = (n: number, c = "x") => c.repeat(n);

describe("keys.verify request", () => {
  test("exactly {keyHash: 64 lowercase hex}", () => {
    expect(check.verifyRequest.Check({ keyHash: HASH })).toBe(true);
    expect(check.verifyRequest.Check({ keyHash: "0123456789abcdef".repeat(4) })).toBe(true);
  });

  test("an unknown field is refused (a caller still sending the key next to its hash fails at once)", () => {
    expect(check.verifyRequest.Check({ keyHash: HASH, apiKey: "sk_live_x" })).toBe(false);
    expect(check.verifyRequest.Check({ keyHash: HASH, extra: 1 })).toBe(false);
  });

  test("uppercase, short, long, non-hex hashes and non-objects are refused", () => {
    for (const keyHash of ["A".repeat(64), "a".repeat(63), "a".repeat(65), `${"a".repeat(63)}g`, "", 42]) {
      expect(check.verifyRequest.Check({ keyHash })).toBe(false);
    }
    for (const v of [null, undefined, [], "x", {}]) expect(check.verifyRequest.Check(v)).toBe(false);
  });
});

describe("keys.verify reply", () => {
  test("valid carries keyId and ownerId (policy optional, as an older keys service sends none); a refusal carries one of the five codes", () => {
    expect(check.verifyReply.Check({ valid: true, keyId: "key_1", ownerId: "o" })).toBe(true);
    const policy = { mode: "test", expiresAt: 1_900_000_000_000, scopes: ["*"], ipAllowlist: ["10.0.0.0/8"], rateLimit: { limit: 5, windowSeconds: 1 }, quota: { limit: 10, period: "day" } };
    expect(check.verifyReply.Check({ valid: true, keyId: "key_1", ownerId: "o", ...policy })).toBe(true);
    expect(check.verifyReply.Check({ valid: true, keyId: "key_1", ownerId: "o", ...policy, mode: "prod" })).toBe(false);
    expect(check.verifyReply.Check({ valid: true, keyId: "key_1", ownerId: "o", ...policy, quota: { limit: 10, period: "week" } })).toBe(false);
    expect(check.verifyReply.Check({ valid: true, keyId: "key_1" })).toBe(false);
    for (const code of ["MALFORMED", "KEY_NOT_FOUND", "KEY_REVOKED", "KEY_EXPIRED", "VERIFY_UNAVAILABLE"]) expect(check.verifyReply.Check({ valid: false, code })).toBe(true);
    for (const code of ["INTERNAL", "", undefined]) expect(check.verifyReply.Check({ valid: false, code })).toBe(false);
  });
});

describe("key events", () => {
  const revoked = { keyId: "key_1", keyHash: HASH, ownerId: "owner", revokedAt: "2026-01-01T00:00:00.000Z" };

  test("a revocation names the key by id and hash, the owner as storable text, bounded fields", () => {
    expect(check.keyRevoked.Check(revoked)).toBe(true);
    expect(check.keyRevoked.Check({ ...revoked, keyHash: "A".repeat(64) })).toBe(false);
    expect(check.keyRevoked.Check({ ...revoked, keyId: str(64) })).toBe(true);
    expect(check.keyRevoked.Check({ ...revoked, keyId: str(65) })).toBe(false);
    expect(check.keyRevoked.Check({ ...revoked, ownerId: "" })).toBe(false);
    expect(check.keyRevoked.Check({ ...revoked, ownerId: str(255) })).toBe(true);
    expect(check.keyRevoked.Check({ ...revoked, ownerId: str(256) })).toBe(false);
    expect(check.keyRevoked.Check({ ...revoked, ownerId: "o\ud800" })).toBe(false);
    expect(check.keyRevoked.Check({ ...revoked, revokedAt: str(41) })).toBe(false);
    const { keyHash: _, ...noHash } = revoked;
    expect(check.keyRevoked.Check(noHash)).toBe(false);
  });

  test("owner-changed carries a storable owner", () => {
    expect(check.ownerKeyChanged.Check({ ownerId: "o" })).toBe(true);
    expect(check.ownerKeyChanged.Check({ ownerId: "o\u0000" })).toBe(false);
    expect(check.ownerKeyChanged.Check({})).toBe(false);
  });
});

describe("usage.logs.query", () => {
  const req = { ownerId: "owner", page: 1, limit: 10 };

  test("page 1..999,999,999 and limit 1..5,000 (the export's pages; HTTP stays 1..100), integers only", () => {
    expect(check.logsQueryRequest.Check(req)).toBe(true);
    expect(check.logsQueryRequest.Check({ ...req, page: 999_999_999, limit: 5000 })).toBe(true);
    for (const bad of [{ page: 0 }, { page: 1_000_000_000 }, { page: 1.5 }, { page: "1" }, { limit: 0 }, { limit: 5001 }, { limit: 2.5 }]) {
      expect({ bad, ok: check.logsQueryRequest.Check({ ...req, ...bad }) }).toEqual({ bad, ok: false });
    }
  });

  test("the owner is 1..255 characters of storable text", () => {
    expect(check.logsQueryRequest.Check({ ...req, ownerId: str(255) })).toBe(true);
    for (const ownerId of ["", str(256), "a\ud800", "a\u0000"]) expect(check.logsQueryRequest.Check({ ...req, ownerId })).toBe(false);
  });

  test("a reply is rows and a total, or a failure with a closed code", () => {
    const row = { endpoint: "/x", method: "GET", statusCode: 200, timestamp: "2026-01-01T00:00:00.000Z", keyId: "key_1", durationMs: null };
    expect(check.logsQueryReply.Check({ ok: true, data: [row], total: 1 })).toBe(true);
    expect(check.logsQueryReply.Check({ ok: true, data: [], total: 0 })).toBe(true);
    expect(check.logsQueryReply.Check({ ok: true, data: [{ ...row, timestamp: "2026-13-45T00:00:00Z" }], total: 1 })).toBe(false);
    expect(check.logsQueryReply.Check({ ok: true, data: [{ ...row, timestamp: "2026-01-01 00:00:00Z" }], total: 1 })).toBe(false);
    for (const code of ["VALIDATION_ERROR", "DATABASE_UNAVAILABLE", "INTERNAL"]) expect(check.logsQueryReply.Check({ ok: false, code, message: "m" })).toBe(true);
    expect(check.logsQueryReply.Check({ ok: false, code: "NOT_FOUND", message: "m" })).toBe(false);
    expect(check.logsQueryReply.Check({ ok: false, code: "INTERNAL" })).toBe(false);
  });
});

describe("keys.lookup", () => {
  test("1..1000 key ids of 1..64 characters", () => {
    expect(check.keyLookupRequest.Check({ keyIds: ["key_1"] })).toBe(true);
    expect(check.keyLookupRequest.Check({ keyIds: Array.from({ length: 1000 }, (_, i) => `key_${i}`) })).toBe(true);
    expect(check.keyLookupRequest.Check({ keyIds: [] })).toBe(false);
    expect(check.keyLookupRequest.Check({ keyIds: Array.from({ length: 1001 }, (_, i) => `key_${i}`) })).toBe(false);
    expect(check.keyLookupRequest.Check({ keyIds: [""] })).toBe(false);
    expect(check.keyLookupRequest.Check({ keyIds: [str(64)] })).toBe(true);
    expect(check.keyLookupRequest.Check({ keyIds: [str(65)] })).toBe(false);
    expect(check.keyLookupRequest.Check({ keyIds: "key_1" })).toBe(false);
  });

  test("a reply lists keys with owners, or a failure with a closed code", () => {
    expect(check.keyLookupReply.Check({ ok: true, keys: [{ keyId: "key_1", ownerId: "o" }] })).toBe(true);
    expect(check.keyLookupReply.Check({ ok: true, keys: [{ keyId: "key_1" }] })).toBe(false);
    expect(check.keyLookupReply.Check({ ok: false, code: "DATABASE_UNAVAILABLE", message: "m" })).toBe(true);
    expect(check.keyLookupReply.Check({ ok: false, code: "KEY_NOT_FOUND", message: "m" })).toBe(false);
  });
});

describe("parseJson", () => {
  test("parses bytes and strings alike", () => {
    expect(parseJson('{"a":1}')).toEqual({ a: 1 });
    expect(parseJson(new TextEncoder().encode('[1,"é"]'))).toEqual([1, "é"]);
  });

  test("anything that is not JSON is undefined, never a throw; JSON null stays null", () => {
    for (const bad of ["", "{", "not json", "{'a':1}", new Uint8Array([0xff, 0xfe])]) expect(parseJson(bad)).toBeUndefined();
    expect(parseJson("null")).toBeNull();
  });
});
