/**
 * Seeded, bounded NATS fuzz against the real keys and usage processes:
 * keys.verify: every malformed request gets {valid:false, code:"MALFORMED"},
 * never silence. (usage.events is fuzzed in usage.fuzz.test.ts.)
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

/** A keys.verify payload that is not a valid request (or asks about a string that cannot be a key). */
function badVerify(r: Prng): Uint8Array {
  switch (r.int(0, 9)) {
    case 0:
      return new Uint8Array(Array.from({ length: r.int(0, 64) }, () => r.int(0, 255)));
    case 1:
      return enc.encode(r.pick(["", "{", "null", "[]", "42", '"sk_live_x"', "true", "{apiKey: 1}", '{"apiKey":}']));
    case 2:
      return enc.encode(JSON.stringify({ apiKey: r.pick([42, null, true, [], {}, ["sk_live_x"], { $ne: "" }, 1e308]) }));
    case 3:
      return enc.encode(JSON.stringify({ apikey: nearKey(r) }));
    case 4:
      return enc.encode(JSON.stringify({ apiKey: "sk_live_" + "A".repeat(r.int(257, 5000)) }));
    case 5:
      return enc.encode(JSON.stringify({ apiKey: nearKey(r) })); // checksum cannot match
    case 6:
      return enc.encode(JSON.stringify({ apiKey: junk(r, 80) }));
    case 7:
      return enc.encode(JSON.stringify({ apiKey: "sk_live_" + junk(r, 49) }));
    case 8:
      return enc.encode(JSON.stringify([{ apiKey: nearKey(r) }]));
    default:
      return enc.encode(JSON.stringify({ apiKey: "" }));
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
  }, 60_000);
});
