/**
 * Usage rows are attributed by the system, not the publisher: each event's
 * keyId is checked against its real owner (keys.lookup, answered by a real
 * keys service). A forged or unknown-key event is refused and counted; while
 * the keys service cannot answer, events wait instead of being refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { subjects, USAGE_CONSUMER, type LogsQueryReply } from "@riskinmind/contracts";
import { captureLogger, event, keyIdFor, metricValue, type UsageInstance, usageStack, type UsageStack, waitFor } from "@riskinmind/testkit";

let f: UsageStack;
let svc: UsageInstance;
let lines: string[];
beforeAll(async () => {
  f = await usageStack();
  const cap = captureLogger();
  lines = cap.lines;
  svc = await f.startService({ log: cap.log, lookupTimeoutMs: 500 });
});
afterAll(async () => {
  await f?.cleanup();
});

async function logsOf(ownerId: string) {
  const msg = await f.nc.request(subjects(f.topo).logsQuery, new TextEncoder().encode(JSON.stringify({ ownerId, page: 1, limit: 100 })), { timeout: 5000 });
  const reply = JSON.parse(new TextDecoder().decode(msg.data)) as LogsQueryReply;
  if (!reply.ok) throw new Error(`logs query failed: ${reply.code}`);
  return reply;
}

async function drained(): Promise<boolean> {
  const info = await (await f.nc.jetstreamManager()).consumers.info(f.topo.stream, USAGE_CONSUMER);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}

describe("usage attribution", () => {
  test("a forged event (A's key, B's name) and an unknown key never show in anyone's logs, and are counted; genuine ones are stored", async () => {
    const A = "attr_a";
    const B = "attr_b";
    await f.issueKeys([
      [keyIdFor(A), A],
      [keyIdFor(B), B],
    ]);
    const forged = () => event({ ownerId: B, keyId: keyIdFor(A), endpoint: "/forged" });
    const unknown = () => event({ ownerId: A, keyId: "key_neverIssued0000000000", endpoint: "/unknown" });
    // Mixed in one message with genuine events, and alone in messages of their own.
    await f.publish([event({ ownerId: A, endpoint: "/genuine" }), forged(), unknown(), event({ ownerId: B, endpoint: "/genuine" })], { issue: false });
    await f.publish(forged(), { issue: false });
    await f.publish([unknown(), unknown()], { issue: false });
    await f.publish(event({ ownerId: A, endpoint: "/genuine" }), { issue: false });
    await waitFor(async () => (await f.count("endpoint = '/genuine'")) === 3, 10_000, "the genuine events");
    await waitFor(drained, 10_000, "every message settled (forged-only ones terminated)");
    await waitFor(async () => (await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "owner_mismatch" })) === 2, 5000, "forgeries counted");
    expect(await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "unknown_key" })).toBe(3);

    const a = await logsOf(A);
    const b = await logsOf(B);
    expect(a.total).toBe(2);
    expect(b.total).toBe(1);
    for (const page of [a, b]) for (const e of page.data) expect(e.endpoint).toBe("/genuine");
    expect(b.data.every((e) => e.keyId === keyIdFor(B))).toBe(true);
    expect(await f.count("endpoint in ('/forged', '/unknown')")).toBe(0);
    // One line per refusing batch, counts only: neither owner id is logged.
    const refusals = lines.filter((l) => l.includes("not attributable"));
    expect(refusals.length).toBeGreaterThan(0);
    for (const l of refusals) {
      expect(l).not.toContain(A);
      expect(l).not.toContain(B);
    }
  }, 30_000);

  test("with the keys service stopped, events wait (nak'ed, not refused) and are stored once it is back", async () => {
    const C = "attr_c";
    await f.issueKeys([[keyIdFor(C), C]]);
    const refusedBefore = await metricValue(svc.metrics, "usage_events_invalid_total");
    await f.keys.stop();
    try {
      await f.publish([event({ ownerId: C }), event({ ownerId: C })], { issue: false });
      // The batch came back at least once: it was nak'ed for a retry, not acked or terminated.
      await waitFor(
        async () => {
          const info = await (await f.nc.jetstreamManager()).consumers.info(f.topo.stream, USAGE_CONSUMER);
          return info.num_redelivered > 0;
        },
        15_000,
        "a redelivery while keys is away",
      );
      expect(await f.count(`owner_id = '${C}'`)).toBe(0);
    } finally {
      await f.keys.start();
    }
    await waitFor(async () => (await f.count(`owner_id = '${C}'`)) === 2, 20_000, "stored once keys is back");
    await waitFor(drained, 10_000, "consumer drained");
    expect(await metricValue(svc.metrics, "usage_events_invalid_total")).toBe(refusedBefore);
    expect(lines.some((l) => l.includes("key owners unknown"))).toBe(true);
  }, 60_000);
});
