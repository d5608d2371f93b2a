/** Where the guard finds a presented API key: `Authorization: Bearer sk_…` first, else `x-api-key`. */
import { describe, expect, test } from "bun:test";
import { presentedKey } from "./index";

const KEY = "sk_live_abc";
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
const h = (init: Record<string, string>) => new Headers(init);

describe("presentedKey", () => {
  test("a Bearer API key, the scheme in any case, surrounding spaces trimmed", () => {
    expect(presentedKey(h({ authorization: `Bearer ${KEY}` }))).toBe(KEY);
    expect(presentedKey(h({ authorization: `bearer ${KEY}` }))).toBe(KEY);
    expect(presentedKey(h({ authorization: `BEARER   ${KEY}  ` }))).toBe(KEY);
  });

  test("x-api-key when Authorization holds no API key (a JWT, another scheme, a bare 'Bearer')", () => {
    for (const authorization of [`Bearer ${JWT}`, `Basic ${KEY}`, "Bearer", "Bearer "]) {
      expect({ authorization, key: presentedKey(h({ authorization, "x-api-key": ` ${KEY} ` })) }).toEqual({ authorization, key: KEY });
    }
  });

  test("Authorization wins over x-api-key", () => {
    expect(presentedKey(h({ authorization: `Bearer ${KEY}`, "x-api-key": "sk_live_other" }))).toBe(KEY);
  });

  test("no key anywhere is the empty string (the guard answers 'missing')", () => {
    expect(presentedKey(h({}))).toBe("");
    expect(presentedKey(h({ authorization: `Bearer ${JWT}` }))).toBe("");
  });
});
