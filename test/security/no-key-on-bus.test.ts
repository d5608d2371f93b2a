/**
 * The plaintext key never leaves the process that received it: a spy
 * subscribed (on its own connection, as an impostor would be) to the test
 * topology's keys.verify subject, and to every other subject of the topology,
 * while a real guard verifies a real key, meters the call, and the key is
 * revoked, sees the key's SHA-256 and nothing of the key itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Msg, type NatsConnection } from "nats";
import { hashKey, KEY_PREFIX, subjects } from "@riskinmind/contracts";
import { goodLoan, issueKey, natsOptions, newOwner, req, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

interface Captured {
  subject: string;
  /** The payload and every header, as text. */
  text: string;
}

let stack: TrioStack;
let spy: NatsConnection;
const onVerify: Captured[] = [];
const onTopology: Captured[] = [];

const capture = (into: Captured[]) => (err: unknown, m: Msg) => {
  if (err) return;
  const headers = m.headers
    ? m.headers
        .keys()
        .map((k) => `${k}: ${m.headers!.values(k).join(",")}`)
        .join("\n")
    : "";
  into.push({ subject: m.subject, text: `${headers}\n${new TextDecoder().decode(m.data)}` });
};

beforeAll(async () => {
  stack = await trioStack({ usageStream: true });
  spy = await connect(natsOptions("admin", { name: "test-bus-spy" }));
  // Plain subscriptions, no queue group: the spy gets a copy of every message without answering any.
  spy.subscribe(subjects(stack.topo).verify, { callback: capture(onVerify) });
  spy.subscribe(`${stack.topo.prefix}>`, { callback: capture(onTopology) });
  await spy.flush();
});

afterAll(async () => {
  await spy?.close();
  await stack?.close();
});

describe("no plaintext key on NATS", () => {
  test("a guard verifying, metering and losing (revocation) a real key puts only its SHA-256 on the bus: keys.verify carries {keyHash}, no message carries the key or its random body", async () => {
    const owner = await newOwner();
    const key = await issueKey(stack.keys, owner);
    const hex = hashKey(key.apiKey).toString("hex");
    const body = key.apiKey.slice(KEY_PREFIX.length, -6); // the 43 random characters (the last 6 are the checksum)
    const predict = () => req(`${stack.loansUrl}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": key.apiKey }, json: goodLoan });

    // A cache miss in the guard: one keys.verify request, then the metered call on usage.events.
    expect((await predict()).status).toBe(200);
    await waitFor(() => onVerify.some((c) => c.text.includes(hex)), 5_000, "the verify request seen by the spy");
    await waitFor(() => onTopology.some((c) => c.subject === subjects(stack.topo).usageEvents && c.text.includes(key.keyId)), 5_000, "the usage event seen by the spy");
    // Revocation: the broadcast reaches the guard, which asks again on the next call and is refused.
    expect((await req(`${stack.keysUrl}/api/v1/keys/revoke`, { method: "POST", headers: owner.headers })).status).toBe(200);
    await waitFor(async () => (await predict()).status === 401, 5_000, "the revoked key refused by the guard");
    await waitFor(() => onTopology.some((c) => c.subject === subjects(stack.topo).keyRevoked && c.text.includes(hex)), 5_000, "the revocation seen by the spy");
    await spy.flush();

    // The request is exactly the contract's shape: the hash, and nothing else.
    expect(onVerify.length).toBeGreaterThan(0);
    for (const c of onVerify) expect(c.text.trim()).toBe(JSON.stringify({ keyHash: hex }));
    const leaks = [...onVerify, ...onTopology].filter((c) => c.text.includes(key.apiKey) || c.text.includes(body)).map((c) => c.subject);
    expect(leaks).toEqual([]);
    // The spy did see the traffic it vouches for: verify, usage and revocation.
    const seen = [...new Set(onTopology.map((c) => c.subject))];
    expect(seen).toEqual(expect.arrayContaining([subjects(stack.topo).verify, subjects(stack.topo).usageEvents, subjects(stack.topo).keyRevoked]));
  });
});
