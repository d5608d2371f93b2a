import { FormatRegistry, Type, type StringOptions } from "@sinclair/typebox";

/**
 * Text that can be stored and compared as itself: well-formed UTF-16 (no lone
 * surrogate, which Postgres would turn into U+FFFD and so merge two distinct
 * values into one) and no U+0000 (which Postgres text cannot hold at all).
 * Every free-text field of every contract, and the JWT `sub`, is checked with it.
 */
export function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes("\u0000");
}

// TypeBox ships no formats; "text" is ours, registered once for every validator (Elysia's too: one TypeBox copy).
if (!FormatRegistry.Has("text")) FormatRegistry.Set("text", isStorableText);

/** A string schema whose value must be storable text (see isStorableText). */
export function Text(options: StringOptions = {}) {
  return Type.String({ ...options, format: "text" });
}
