/**
 * Deterministic bench keys. `newApiKey()` costs about 8 µs (BigInt base62);
 * a million of them would take most of the setup budget. These keys have the
 * real format (prefix, 43 base62 chars, CRC32 base62 checksum, so
 * isWellFormedKey accepts them) but their body is a per-run random tag plus
 * the key's index, so any key can be rebuilt from its index instead of kept.
 * Bench-only: such keys are guessable by design.
 */
import { KEY_PREFIX, keyChecksum } from "@riskinmind/contracts";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function base62(n: number, width: number): string {
  let out = "";
  while (n > 0) {
    out = ALPHABET[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out.padStart(width, "0");
}

/** 11 random base62 chars naming one bench run. */
export function runTag(): string {
  let t = "";
  const bytes = crypto.getRandomValues(new Uint8Array(11));
  for (const b of bytes) t += ALPHABET[b % 62];
  return t;
}

/** Key number `i` of the run tagged `tag`. */
export function benchKey(tag: string, i: number): string {
  const body = tag + base62(i, 32);
  return KEY_PREFIX + body + keyChecksum(body);
}

/** Owner of key `i` (one active key per owner, as the schema requires). */
export function keyOwner(i: number): string {
  // Zero-padded so owners sort in load order: the owner index grows at its right edge.
  return `bo_${String(i).padStart(8, "0")}`;
}

/** Id of key `i`: `key_` + 22 chars, like newId's. */
export function keyId(tag: string, i: number): string {
  return `key_${tag}${base62(i, 11)}`;
}

/** Hex SHA-256 of a key (hashKey's digest, hex-encoded for COPY). */
export function keyHashHex(key: string): string {
  return Bun.CryptoHasher.hash("sha256", key, "hex") as unknown as string;
}
