/**
 * The API key format: `sk_live_` (or `sk_test_` for a test key) + 43 base62
 * chars of 32 CSPRNG bytes + a 6-char base62 CRC32 of those 43 chars (minting
 * is the keys service's). The checksum lets anyone (guard, keys service, leak
 * scanner) refuse a mistyped key without a database query; it is no secret
 * and adds no security, the 256 random bits do that.
 */
export const KEY_PREFIX = "sk_live_";
/**
 * A key's mode: `live` keys are billed and do the real work; `test` keys
 * (`sk_test_`) are a separate key per owner for integration work, answered
 * with sandbox results and logged apart. The prefix says which, so a leaked
 * test key is recognisable as harmless at a glance.
 */
export type KeyMode = "live" | "test";
export const KEY_MODES: readonly KeyMode[] = ["live", "test"];
export const KEY_PREFIXES: Record<KeyMode, string> = { live: "sk_live_", test: "sk_test_" };
const RANDOM_CHARS = 43; // ceil(256 / log2(62))
const CHECKSUM_CHARS = 6; // ceil(32 / log2(62))
export const KEY_LENGTH = KEY_PREFIX.length + RANDOM_CHARS + CHECKSUM_CHARS;
/** The pattern a leak scanner can match. */
export const KEY_PATTERN = /^sk_(live|test)_[0-9A-Za-z]{49}$/;

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * The 6-char base62 CRC32 that ends a key whose random part is `body`.
 * Exported for the keys service's minting; checking goes through isWellFormedKey.
 * Number arithmetic, not BigInt: this runs on every verification.
 */
export function keyChecksum(body: string): string {
  let n = Bun.hash.crc32(body);
  let out = "";
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** True when the string has the key's shape and its checksum matches. */
export function isWellFormedKey(key: string): boolean {
  if (key.length !== KEY_LENGTH || !KEY_PATTERN.test(key)) return false;
  const body = key.slice(KEY_PREFIX.length, KEY_PREFIX.length + RANDOM_CHARS);
  return key.endsWith(keyChecksum(body));
}

/** The mode a key's prefix names (the caller checks the key is well-formed first). */
export function keyModeOf(key: string): KeyMode {
  return key.startsWith(KEY_PREFIXES.test) ? "test" : "live";
}

/** What `GET /api/v1/keys/` shows of a key: its mode's prefix and the last 4 chars. */
export function keySnippet(key: string): string {
  return snippetOf(keyModeOf(key), key.slice(-4));
}

/** The snippet from what is stored of a key: its mode and last 4 characters. */
export function snippetOf(mode: KeyMode, last4: string): string {
  return `${KEY_PREFIXES[mode]}...${last4}`;
}

/** SHA-256 of the key: the only form in which a key is stored or cached. */
export function hashKey(key: string): Buffer {
  return new Bun.CryptoHasher("sha256").update(key).digest() as Buffer;
}
