/**
 * Seeded, bounded NATS fuzz against the real keys and usage processes:
 * - keys.verify: every malformed request (anything but {"keyHash": <64
 *   lowercase hex>}) gets {valid:false, code:"MALFORMED"}, never silence;
 * - usage.events: not JSON, wrong shapes, huge strings, wrong types, future
 *   and ancient timestamps, with valid events mixed in (alone and inside the
 *   same arrays): every valid event is stored once, no invalid one ever.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { USAGE_CONSUMER, subjects } from "@riskinmind/contracts";
import { waitFor } from "../support/harness";
import { deploy, pool, prng, type Deployment, type Prng } from "../faults/support";

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const enc = new TextEncoder();
let d: Deployment;

beforeAll(async () => {
  d = await deploy({ services: ["usage", "keys"] });
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
      return enc.encode(r.chance(0.5) ? JSON.stringify({ keyHash: hex }) + r.pick(["x", "}", ",", "{}", "\u0000", "[]", junk(r, 10) + "x"]) : r.pick(["x", "[", ",", "\u0000"]) + JSON.stringify({ keyHash: hex }));
    case 10: // wrapped
      return enc.encode(JSON.stringify(r.pick([[{ keyHash: hex }], { request: { keyHash: hex } }, [hex]])));
    case 11: // padded or prefixed
      return enc.encode(JSON.stringify({ keyHash: r.pick([` ${hex}`, `${hex} `, `${hex}\n`, `0x${hex.slice(2)}`, `${hex.slice(0, 32)} ${hex.slice(33)}`, `\u0000${hex.slice(1)}`]) }));
    default: // a NUL byte or a lone surrogate as raw bytes inside an otherwise valid request
      return new Uint8Array([...enc.encode(`{"keyHash":"${hex.slice(0, 63)}`), r.pick([0x00, 0xed, 0xff]), ...enc.encode('"}')]);
  }
}

const OWNER = "fuzz_owner";
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
function validEvent(id: string): Record<string, unknown> {
  return { id, keyId: "key_fuzz", ownerId: OWNER, endpoint: "/api/v1/loans/predict", method: "POST", statusCode: 200, timestamp: iso(-1000), durationMs: 3.5 };
}

/** An event the contract refuses: one field broken at a time. Its id (when any) starts with bad_. */
function badEvent(r: Prng, n: number): Record<string, unknown> {
  const e: Record<string, unknown> = { ...validEvent(`bad_${n}`) };
  if (r.chance(0.2)) delete e.id;
  switch (r.int(0, 17)) {
    case 0: e.timestamp = iso(r.int(6, 60 * 24) * 60_000); break; // future beyond skew
    case 1: e.timestamp = iso(-r.int(9, 3650) * 86_400_000); break; // ancient
    case 2: e.timestamp = r.pick(["yesterday", "2026-13-45T99:99:99Z", "", 1700000000000, "2026-11-26", "2026-11-26T10:00:00"]); break;
    case 3: e.statusCode = r.pick([99, 600, 200.5, "200", null, -1]); break;
    case 4: e.method = r.pick(["FOO", "get", "", 1, "TRACE", "CONNECT"]); break;
    case 5: e.endpoint = r.pick(["no-slash", "", "/" + "x".repeat(2048), "/has space", "/\u00e9", 7]); break;
    case 6: e.ownerId = r.pick(["", "o".repeat(256), 5, null, "a\u0000b"]); break;
    case 7: e.keyId = r.pick(["", "k".repeat(65), "has space", 1, "k\u00e9y"]); break;
    case 8: e.durationMs = r.pick([-1, 86_400_001, "3", null]); break;
    case 9: e.id = r.pick(["", "i".repeat(129), "has space", 42]); if (typeof e.id !== "string" || e.id === "") e.ownerId = 12; break;
    case 10: delete e.ownerId; break;
    case 11: delete e.timestamp; break;
    case 12: delete e.method; break;
    case 13: e.ownerId = "x".repeat(r.int(300, 200_000)); break; // huge string
    case 14: e.endpoint = "/" + "e".repeat(r.int(3000, 100_000)); break;
    case 15: e.statusCode = 1e308; break;
    case 16: e.timestamp = "2026-11-26T12:00:00.0000000000Z"; break; // too many fraction digits
    default: e.keyId = { $ne: null }; break;
  }
  return e;
}

/** A whole message that carries no event at all. */
function badMessage(r: Prng): Uint8Array {
  switch (r.int(0, 6)) {
    case 0: return new Uint8Array(Array.from({ length: r.int(1, 200) }, () => r.int(0, 255)));
    case 1: return enc.encode(r.pick(["", "null", "42", '"event"', "true", "{", "[", "[[]]"]));
    case 2: return enc.encode("[]");
    case 3: return enc.encode(JSON.stringify(Array.from({ length: 1001 }, (_, i) => validEvent(`toomany_${i}`)))); // > 1,000 per message
    case 4: return enc.encode(JSON.stringify("x".repeat(r.int(1000, 300_000))));
    case 5: return enc.encode(JSON.stringify([1, "two", null, [3]]));
    default: return enc.encode(junk(r, 300));
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

  test(`5,000+ malformed usage messages and events (seed ${SEED}) with valid ones mixed in: every valid event stored once, no invalid one`, async () => {
    const r = prng(SEED + 1);
    const js = d.nc.jetstream();
    const subject = subjects(d.topo).usageEvents;
    const validIds: string[] = [];
    const messages: Uint8Array[] = [];
    let bad = 0;
    for (let i = 0; i < 5_200; i++) {
      const kind = r.int(0, 3);
      if (kind === 0) {
        messages.push(badMessage(r));
        bad++;
      } else if (kind === 1) {
        messages.push(enc.encode(JSON.stringify(badEvent(r, i))));
        bad++;
      } else {
        // An array mixing broken and valid events: each is judged on its own.
        const arr: Record<string, unknown>[] = [];
        for (let j = 0; j < r.int(1, 8); j++) {
          if (r.chance(0.5)) {
            const id = `ok_${i}_${j}`;
            validIds.push(id);
            arr.push(validEvent(id));
          } else {
            arr.push(badEvent(r, i * 100 + j));
            bad++;
          }
        }
        messages.push(enc.encode(JSON.stringify(arr)));
      }
    }
    // A valid event published twice (same id) is still one row.
    messages.push(enc.encode(JSON.stringify(validEvent(validIds[0]!))));
    await pool(messages, 128, async (m) => {
      await js.publish(subject, m);
    });

    const jsm = await d.nc.jetstreamManager();
    await waitFor(async () => {
      const info = await jsm.consumers.info(d.topo.stream, USAGE_CONSUMER);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, 40_000, "every message consumed");
    const [total] = await d.sql`select count(*)::int as n from usage.events`;
    const [ok] = await d.sql`select count(*)::int as n from usage.events where event_key like 'i:ok\\_%'`;
    const stored = new Set((await d.sql`select event_key from usage.events`).map((x) => String(x.event_key).slice(2)));
    const missing = validIds.filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    expect(ok!.n).toBe(validIds.length);
    expect(total!.n).toBe(validIds.length); // nothing invalid (bad_*, id-less or not) was stored
    const [counter] = await d.sql`select total::int as n from usage.owner_counters where owner_id = ${OWNER}`;
    expect(counter!.n).toBe(validIds.length);
    expect(d.usage!.alive()).toBe(true);
    console.log(`[nats-fuzz] ${messages.length} messages: ${validIds.length} valid events stored, ${bad} invalid messages/events refused`);
  }, 90_000);
});
