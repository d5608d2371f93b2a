/**
 * Storable text: what Postgres keeps as itself. A lone surrogate would become
 * U+FFFD (two owners merged into one), NUL cannot be stored at all.
 */
import { describe, expect, test } from "bun:test";
import { FormatRegistry } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { isStorableText, Text } from "./text";

describe("isStorableText", () => {
  test("plain, accented, CJK and astral text (a surrogate pair) is storable, and so is the empty string", () => {
    for (const s of ["owner-1", "Zoë", "東京", "😀", "a😀b", ""]) expect({ s, ok: isStorableText(s) }).toEqual({ s, ok: true });
  });

  test("a lone surrogate anywhere is refused: high, low, reversed pair, cut pair", () => {
    for (const s of ["\ud800", "\udc00", "victim\ud800", "\udc00\ud800", "😀".slice(0, 1), "a\udfffb"]) {
      expect({ s: JSON.stringify(s), ok: isStorableText(s) }).toEqual({ s: JSON.stringify(s), ok: false });
    }
  });

  test("NUL anywhere is refused; other control characters are not this check's business", () => {
    for (const s of ["\u0000", "a\u0000", "\u0000a", "a\u0000b"]) expect(isStorableText(s)).toBe(false);
    expect(isStorableText("a\u0001b\tc")).toBe(true);
  });
});

describe("Text() schema", () => {
  const check = TypeCompiler.Compile(Text({ minLength: 1, maxLength: 5 }));

  test("registers the 'text' format once for every validator", () => {
    expect(FormatRegistry.Has("text")).toBe(true);
    expect(Text()).toMatchObject({ type: "string", format: "text" });
  });

  test("keeps the given bounds and adds the storable-text rule", () => {
    expect(check.Check("abc")).toBe(true);
    expect(check.Check("")).toBe(false);
    expect(check.Check("abcdef")).toBe(false);
    expect(check.Check("a\ud800")).toBe(false);
    expect(check.Check("a\u0000")).toBe(false);
    expect(check.Check(42)).toBe(false);
  });
});
