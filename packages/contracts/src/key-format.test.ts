/**
 * The key format every party checks locally (the guard before any NATS
 * request, leak scanners by pattern). The checksum's algorithm and encoding
 * are pinned to fixed values: keys already issued must stay well-formed forever.
 */
import { describe, expect, test } from "bun:test";
import { hashKey, isWellFormedKey, KEY_LENGTH, KEY_PATTERN, KEY_PREFIX, keyChecksum, keyModeOf, keySnippet, snippetOf } from "./key-format";

/** 43 base62 characters, as a minted key's random part. */
const BODY = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg";
const KEY = KEY_PREFIX + BODY + keyChecksum(BODY);

/** `s` with the character at `i` replaced by `c`. */
const at = (s: string, i: number, c: string) => s.slice(0, i) + c + s.slice(i + 1);

describe("keyChecksum", () => {
  test("is the CRC-32 in 6 base62 digits: the standard check value 0xCBF43926 of '123456789' is 3jZRME", () => {
    expect(keyChecksum("123456789")).toBe("3jZRME");
  });

  test("pads with leading zeros (CRC-32 of '' is 0), so it is always 6 characters", () => {
    expect(keyChecksum("")).toBe("000000");
    for (const body of [BODY, "a", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"]) expect(keyChecksum(body)).toMatch(/^[0-9A-Za-z]{6}$/);
  });
});

describe("isWellFormedKey", () => {
  test("a key built as minting builds it is well-formed, 57 characters, and matches the leak scanners' pattern", () => {
    expect(KEY.length).toBe(57);
    expect(KEY_LENGTH).toBe(57);
    expect(KEY).toMatch(KEY_PATTERN);
    expect(isWellFormedKey(KEY)).toBe(true);
  });

  test("wrong length: one character short or one too many", () => {
    expect(isWellFormedKey(KEY.slice(0, -1))).toBe(false);
    expect(isWellFormedKey(`${KEY}0`)).toBe(false);
    expect(isWellFormedKey("")).toBe(false);
  });

  test("wrong prefix, even with a correct body and checksum", () => {
    const rest = BODY + keyChecksum(BODY);
    for (const prefix of ["sk_tst_x", "SK_LIVE_", "SK_TEST_", "pk_live_", "sk-live-", "sk_prod_"]) expect(isWellFormedKey(prefix + rest)).toBe(false);
  });

  test("a test key (sk_test_) has the same format and checksum; its mode and snippet follow the prefix", () => {
    const test_ = `sk_test_${BODY}${keyChecksum(BODY)}`;
    expect(isWellFormedKey(test_)).toBe(true);
    expect(test_).toMatch(KEY_PATTERN);
    expect(keyModeOf(test_)).toBe("test");
    expect(keyModeOf(KEY)).toBe("live");
    expect(keySnippet(test_)).toBe(`sk_test_...${test_.slice(-4)}`);
    expect(snippetOf("test", "abcd")).toBe("sk_test_...abcd");
  });

  test("bad checksum: any changed character in the body or the checksum is refused", () => {
    for (const i of [KEY_PREFIX.length, KEY_PREFIX.length + 20, KEY_LENGTH - 7, KEY_LENGTH - 1]) {
      const typo = at(KEY, i, KEY[i] === "a" ? "b" : "a");
      expect({ i, ok: isWellFormedKey(typo) }).toEqual({ i, ok: false });
    }
  });

  test("two swapped body characters (a common typo) are refused", () => {
    const i = KEY_PREFIX.length + 5;
    const swapped = KEY.slice(0, i) + KEY[i + 1] + KEY[i] + KEY.slice(i + 2);
    expect(swapped).not.toBe(KEY);
    expect(isWellFormedKey(swapped)).toBe(false);
  });

  test("non-ASCII look-alikes and non-base62 characters of the same length are refused", () => {
    const i = KEY_PREFIX.length + 3;
    for (const c of ["é", "а" /* Cyrillic a */, "０" /* full-width 0 */, "_", "-", " ", "\u0000"]) {
      expect({ c, ok: isWellFormedKey(at(KEY, i, c)) }).toEqual({ c, ok: false });
    }
  });

  test("a checksum that is right for another body is refused", () => {
    const other = at(BODY, 0, "Z");
    expect(isWellFormedKey(KEY_PREFIX + BODY + keyChecksum(other))).toBe(false);
  });
});

describe("keySnippet and hashKey", () => {
  test("the snippet shows the prefix and the last 4 characters only", () => {
    expect(keySnippet(KEY)).toBe(`sk_live_...${KEY.slice(-4)}`);
    expect(keySnippet(KEY)).not.toContain(BODY.slice(0, 8));
  });

  test("hashKey is SHA-256 (the FIPS 180-2 value of 'abc'), 32 bytes", () => {
    const h = hashKey("abc");
    expect(h.length).toBe(32);
    expect(h.toString("hex")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
