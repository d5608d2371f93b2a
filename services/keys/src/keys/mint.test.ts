import { describe, expect, test } from "bun:test";
import { isWellFormedKey, KEY_ID_PATTERN, KEY_LENGTH } from "@riskinmind/contracts";
import { newApiKey, newId } from "./mint";

describe("minting (keys service) agrees with the format check (contracts)", () => {
  test("every minted key passes isWellFormedKey, and none repeats", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const k = newApiKey();
      expect(k.length).toBe(KEY_LENGTH);
      expect(isWellFormedKey(k)).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBe(2_000);
  });

  test("one changed character in the random part fails the checksum", () => {
    const k = newApiKey();
    const i = 20;
    const typo = k.slice(0, i) + (k[i] === "a" ? "b" : "a") + k.slice(i + 1);
    expect(isWellFormedKey(typo)).toBe(false);
  });

  test("key ids have the contract's shape", () => {
    expect(newId("key")).toMatch(new RegExp(KEY_ID_PATTERN));
    expect(newId("key")).not.toBe(newId("key"));
  });
});
