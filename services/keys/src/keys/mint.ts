/**
 * Minting: only the keys service creates keys and ids, so the randomness and
 * the encoder live here; `@riskinmind/contracts` keeps what every party needs
 * to check a key (KEY_PATTERN, `isWellFormedKey`) and to store it (`hashKey`).
 */
import { KEY_PREFIXES, keyChecksum, type KeyMode } from "@riskinmind/contracts";

const RANDOM_BYTES = 32;
const RANDOM_CHARS = 43; // ceil(256 / log2(62)); contracts' KEY_LENGTH counts on it
const ID_BYTES = 16;
const ID_CHARS = 22; // ceil(128 / log2(62))
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function base62(value: bigint, width: number): string {
  let out = "";
  while (value > 0n) {
    out = ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out.padStart(width, "0");
}

function randomBase62(bytes: number, width: number): string {
  const random = crypto.getRandomValues(new Uint8Array(bytes));
  return base62(BigInt("0x" + Buffer.from(random).toString("hex")), width);
}

/** A fresh API key from the OS CSPRNG: `sk_live_` (or `sk_test_`) + 43 base62 of 32 bytes + checksum. */
export function newApiKey(mode: KeyMode = "live"): string {
  const body = randomBase62(RANDOM_BYTES, RANDOM_CHARS);
  return KEY_PREFIXES[mode] + body + keyChecksum(body);
}

/** A random id with a type prefix, e.g. `key_3hK...` (128 random bits). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(ID_BYTES, ID_CHARS)}`;
}
