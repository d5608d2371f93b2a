/**
 * Seeded, bounded fuzz of usage.events against the real keys and usage
 * processes: not JSON, wrong shapes, huge strings, wrong types, future and
 * ancient timestamps, lone surrogates and NUL in every text field, events
 * without an id, forged owners and unknown keys, with valid events mixed in
 * (alone and inside the same arrays): every valid event is stored once, no
 * invalid one ever.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { USAGE_CONSUMER, subjects } from "@riskinmind/contracts";
import { client, deploy, type Deployment, issueKey, newOwner, pool, prng, type Prng, waitFor } from "@riskinmind/testkit";

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const enc = new TextEncoder();
let d: Deployment;
/** The fuzz owner's real key, issued through the keys edge; another owner's key for forgeries. */
let KEY_ID = "";
let OTHER_KEY_ID = "";

beforeAll(async () => {
  d = await deploy({ services: ["usage", "keys"] });
  const keysUrl = d.keys!.url;
  const owner = await newOwner("fuzz");
  OWNER = owner.sub;
  KEY_ID = (await issueKey(client(keysUrl), owner)).keyId;
  OTHER_KEY_ID = (await issueKey(client(keysUrl), await newOwner("other"))).keyId;
});
afterAll(async () => {
  await d?.close();
});

const JUNK = ["\u0000", "\u0001", "\u202e", "\ud83d\udca9", "\ufffd", "'", '"', "\\", "\n", "%00", "<x>"];
const junk = (r: Prng, max = 30) => Array.from({ length: r.int(0, max) }, () => (r.chance(0.3) ? r.pick(JUNK) : String.fromCharCode(r.int(32, 126)))).join("");
/** Strings a well-formed-Unicode, NUL-free text field must refuse. */
const UNSTORABLE = ["x\ud800", "\udc00x", "a\u0000b", "\u0000", "\ud83d", "ok\udfff\ud800"];

let OWNER = "";
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
function validEvent(id: string): Record<string, unknown> {
  return { id, keyId: KEY_ID, ownerId: OWNER, endpoint: "/api/v1/loans/predict", method: "POST", statusCode: 200, timestamp: iso(-1000), durationMs: 3.5 };
}

/** An event the contract refuses: one field broken at a time. Its id (when any) starts with bad_. */
function badEvent(r: Prng, n: number): Record<string, unknown> {
  const e: Record<string, unknown> = { ...validEvent(`bad_${n}`) };
  if (r.chance(0.2)) {
    delete e.id; // an event without id is refused whatever else it holds
    return e;
  }
  switch (r.int(0, 21)) {
    case 0:
      e.timestamp = iso(r.int(6, 60 * 24) * 60_000);
      break; // future beyond skew
    case 1:
      e.timestamp = iso(-r.int(9, 3650) * 86_400_000);
      break; // ancient
    case 2:
      e.timestamp = r.pick(["yesterday", "2026-13-45T99:99:99Z", "", 1700000000000, "2026-11-26", "2026-11-26T10:00:00"]);
      break;
    case 3:
      e.statusCode = r.pick([99, 600, 200.5, "200", null, -1]);
      break;
    case 4:
      e.method = r.pick(["FOO", "get", "", 1, "TRACE", "CONNECT"]);
      break;
    case 5:
      e.endpoint = r.pick(["no-slash", "", "/" + "x".repeat(2048), "/has space", "/\u00e9", 7]);
      break;
    case 6:
      e.ownerId = r.pick(["", "o".repeat(256), 5, null, "a\u0000b"]);
      break;
    case 7:
      e.keyId = r.pick(["", "k".repeat(65), "has space", 1, "k\u00e9y"]);
      break;
    case 8:
      e.durationMs = r.pick([-1, 86_400_001, "3", null]);
      break;
    case 9:
      e.id = r.pick(["", "i".repeat(129), "has space", 42]);
      if (typeof e.id !== "string" || e.id === "") e.ownerId = 12;
      break;
    case 10:
      delete e.ownerId;
      break;
    case 11:
      delete e.timestamp;
      break;
    case 12:
      delete e.method;
      break;
    case 13:
      e.ownerId = "x".repeat(r.int(300, 200_000));
      break; // huge string
    case 14:
      e.endpoint = "/" + "e".repeat(r.int(3000, 100_000));
      break;
    case 15:
      e.statusCode = 1e308;
      break;
    case 16:
      e.timestamp = "2026-11-26T12:00:00.0000000000Z";
      break; // too many fraction digits
    case 17:
      e[r.pick(["ownerId", "endpoint", "keyId", "id", "method", "timestamp"])] = (r.chance(0.5) ? "/" : "") + r.pick(UNSTORABLE);
      break;
    case 18:
      e.ownerId = OWNER + r.pick(UNSTORABLE);
      break; // looks like the owner, is not storable text
    case 19:
      e.keyId = OTHER_KEY_ID;
      break; // forged: another owner's key under this owner's name
    case 20:
      e.keyId = `key_${"Z".repeat(22)}`;
      break; // never issued
    default:
      e.keyId = { $ne: null };
      break;
  }
  return e;
}

/** A whole message that carries no event at all. */
function badMessage(r: Prng): Uint8Array {
  switch (r.int(0, 6)) {
    case 0:
      return new Uint8Array(Array.from({ length: r.int(1, 200) }, () => r.int(0, 255)));
    case 1:
      return enc.encode(r.pick(["", "null", "42", '"event"', "true", "{", "[", "[[]]"]));
    case 2:
      return enc.encode("[]");
    case 3:
      return enc.encode(JSON.stringify(Array.from({ length: 1001 }, (_, i) => validEvent(`toomany_${i}`)))); // > 1,000 per message
    case 4:
      return enc.encode(JSON.stringify("x".repeat(r.int(1000, 300_000))));
    case 5:
      return enc.encode(JSON.stringify([1, "two", null, [3]]));
    default:
      return enc.encode(junk(r, 300));
  }
}

describe("usage.events fuzz", () => {
  test(`5,000+ malformed, unstorable, id-less, forged and unknown-key usage messages and events (seed ${SEED}) with valid ones mixed in: every valid event stored once, no invalid one`, async () => {
    const r = prng(SEED + 1);
    const js = d.nc.jetstream();
    const subject = subjects(d.topo).usageEvents;
    const validIds: string[] = [];
    const messages: Uint8Array[] = [];
    let bad = 0;
    let firstValid: Record<string, unknown> | undefined;
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
            const ev = validEvent(id);
            firstValid ??= ev;
            arr.push(ev);
          } else {
            arr.push(badEvent(r, i * 100 + j));
            bad++;
          }
        }
        messages.push(enc.encode(JSON.stringify(arr)));
      }
    }
    // A valid event published twice is still one row. The very same event
    // (id and timestamp): since 005_partitions.sql an id re-sent with another
    // timestamp is another row.
    messages.push(enc.encode(JSON.stringify(firstValid)));
    await pool(messages, 128, async (m) => {
      await js.publish(subject, m);
    });

    const jsm = await d.nc.jetstreamManager();
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(d.topo.stream, USAGE_CONSUMER);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      40_000,
      "every message consumed",
    );
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
    console.log(`[usage-fuzz] ${messages.length} messages: ${validIds.length} valid events stored, ${bad} invalid messages/events refused`);
  }, 90_000);
});
