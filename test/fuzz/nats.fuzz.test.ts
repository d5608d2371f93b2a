/**
 * Seeded, bounded NATS fuzz against the real keys and usage processes:
 * keys.verify: every malformed request (anything but {"keyHash": <64
 * lowercase hex>}) gets {valid:false, code:"MALFORMED"}, never silence.
 * (usage.events is fuzzed in usage.fuzz.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { subjects } from "@riskinmind/contracts";
import { deploy, type Deployment, pool, type Prng, prng } from "@riskinmind/testkit";

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const enc = new TextEncoder();
let d: Deployment;

beforeAll(async () => {
  d = await deploy({ services: ["keys"] });
});
afterAll(async () => {
  await d?.close();
});

const JUNK = ["\u0000", "\u0001", "\u202e", "\ud83d\udca9", "\ufffd", "'", '"', "\\", "\n", "%00", "<x>"];
const junk = (r: Prng, max = 30) => Array.from({ length: r.int(0, max) }, () => (r.chance(0.3) ? r.pick(JUNK) : String.fromCharCode(r.int(32, 126)))).join("");
const nearKey = (r: Prng) => "sk_live_" + Array.from({ length: r.int(40, 55) }, () => r.pick([..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"])).join("");

const HEX = "0123456789abcdef";
const hexOf = (r: Prng, n: number) => Array.from({ length: n }, () => HEX[r.int(0, 15)]).join("");
/** Characters that must never pass for hex: letters past f, capitals, space, and the JUNK above (NUL, lone surrogates, ...). */
const NOT_HEX = ["g", "z", "G", "F", "A", "x", " ", "-", "\ud800", "\udfff", ...JUNK];

/** 64 hex characters with `n` (1+) of them replaced by something that is not lowercase hex. */
function spoiledHex(r: Prng, n: number): string {
  const chars = [...hexOf(r, 64)];
  for (let i = 0; i < n; i++) chars[r.int(0, 63)] = r.pick(NOT_HEX);
  return chars.join("");
}

/**
 * A keys.verify payload that is not a valid request: the contract is exactly
 * `{"keyHash": <64 lowercase hex>}`, so wrong, missing, uppercase, short and
 * long hashes, other types, extra fields or trailing junk, not JSON, lone
 * surrogates and NUL all get MALFORMED.
 */
function badVerify(r: Prng): Uint8Array {
  const hex = hexOf(r, 64);
  switch (r.int(0, 12)) {
    case 0:
      return new Uint8Array(Array.from({ length: r.int(0, 100) }, () => r.int(0, 255)));
    case 1:
      return enc.encode(r.pick(["", "{", "}", "null", "[]", "{}", "42", `"${hex}"`, "true", `{keyHash: "${hex}"}`, '{"keyHash":}', `{'keyHash':'${hex}'}`, `{"keyHash":"${hex}"`]));
    case 2:
      return enc.encode(JSON.stringify({ keyHash: r.pick([42, null, true, false, [], {}, [hex], { $ne: "" }, 1e308, -0, { keyHash: hex }]) }));
    case 3: // the field under another name, or the old plaintext shape
      return enc.encode(JSON.stringify({ [r.pick(["keyhash", "KeyHash", "key_hash", "hash", "apiKey", "", "keyHash "])]: r.chance(0.5) ? hex : nearKey(r) }));
    case 4: // uppercase: at least one capital A-F, the rest in any case
      return enc.encode(JSON.stringify({ keyHash: "A" + [...hex.slice(1)].map((c) => (r.chance(0.5) ? c.toUpperCase() : c)).join("") }));
    case 5: // short
      return enc.encode(JSON.stringify({ keyHash: hexOf(r, r.int(0, 63)) }));
    case 6: // long
      return enc.encode(JSON.stringify({ keyHash: hexOf(r, r.int(65, 5000)) }));
    case 7: // right length, something that is not lowercase hex inside (lone surrogates and NUL included)
      return enc.encode(JSON.stringify({ keyHash: spoiledHex(r, r.int(1, 3)) }));
    case 8: // a valid hash with an extra field next to it
      return enc.encode(JSON.stringify({ keyHash: hex, [r.pick(["apiKey", "x", "keyHash2", "__proto__x", "ownerId"])]: r.pick([nearKey(r), 1, null, "", junk(r)]) }));
    case 9: // a valid request with junk before or after it
      return enc.encode(
        r.chance(0.5) ? JSON.stringify({ keyHash: hex }) + r.pick(["x", "}", ",", "{}", "\u0000", "[]", junk(r, 10) + "x"]) : r.pick(["x", "[", ",", "\u0000"]) + JSON.stringify({ keyHash: hex }),
      );
    case 10: // wrapped
      return enc.encode(JSON.stringify(r.pick([[{ keyHash: hex }], { request: { keyHash: hex } }, [hex]])));
    case 11: // padded or prefixed
      return enc.encode(JSON.stringify({ keyHash: r.pick([` ${hex}`, `${hex} `, `${hex}\n`, `0x${hex.slice(2)}`, `${hex.slice(0, 32)} ${hex.slice(33)}`, `\u0000${hex.slice(1)}`]) }));
    default: // a NUL byte or a lone surrogate as raw bytes inside an otherwise valid request
      return new Uint8Array([...enc.encode(`{"keyHash":"${hex.slice(0, 63)}`), r.pick([0x00, 0xed, 0xff]), ...enc.encode('"}')]);
  }
}

describe("NATS fuzz", () => {
  test(`5,000 malformed keys.verify requests (seed ${SEED}) each get {valid:false, code:"MALFORMED"}`, async () => {
    const r = prng(SEED);
    const payloads = Array.from({ length: 5_000 }, () => badVerify(r));
    const subject = subjects(d.topo).verify;
    const wrong: string[] = [];
    await pool(payloads, 64, async (p) => {
      let reply: string;
      try {
        reply = new TextDecoder().decode((await d.nc.request(subject, p, { timeout: 5_000 })).data);
      } catch (e) {
        reply = `no reply: ${(e as Error).message}`;
      }
      if (reply !== '{"valid":false,"code":"MALFORMED"}' && wrong.length < 10) wrong.push(`${new TextDecoder().decode(p).slice(0, 80)} → ${reply}`);
    });
    expect(wrong).toEqual([]);
    // Control: a well-formed request for a hash nobody holds is answered, and not as MALFORMED.
    const control = new TextDecoder().decode((await d.nc.request(subject, enc.encode(JSON.stringify({ keyHash: hexOf(r, 64) })), { timeout: 5_000 })).data);
    expect(control).toBe('{"valid":false,"code":"KEY_NOT_FOUND"}');
  }, 60_000);
});
