/**
 * The whole loop, in-process on one test database and topology, with the real
 * keys service, the real usage service and the example API behind the guard:
 * generate a key over HTTP, call the example with it, and read that call back
 * from GET /api/v1/keys/logs with the right fields. Another owner sees none
 * of it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { goodLoan, issueKey, newOwner, req, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

let stack: TrioStack;

beforeAll(async () => {
  stack = await trioStack({ withUsage: true });
});

afterAll(async () => {
  await stack.close();
});

const predict = (apiKey: string, json: unknown = goodLoan) => req(`${stack.loansUrl}/api/v1/loans/predict`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, json });
const logs = (headers: Record<string, string>, query = "") => req(`${stack.keysUrl}/api/v1/keys/logs${query}`, { headers });

test("a call to the example with a fresh key shows up in the owner's logs with endpoint, method, status and timestamp; other owners see none of it", async () => {
  const alice = await newOwner();
  const bob = await newOwner();
  const aliceKey = await issueKey(stack.keys, alice);
  const bobKey = await issueKey(stack.keys, bob);

  const t0 = Date.now();
  expect((await predict(aliceKey.apiKey)).status).toBe(200);
  expect((await predict(aliceKey.apiKey, { ...goodLoan, termMonths: 0 })).status).toBe(400);
  const t1 = Date.now();

  let page: { status: number; body: any } = { status: 0, body: null };
  await waitFor(
    async () => {
      page = await logs(alice.headers);
      return page.status === 200 && page.body.meta.total === 2;
    },
    15_000,
    "alice's two calls in /logs",
  );

  expect(page.body.success).toBe(true);
  expect(page.body.meta).toEqual({ total: 2, page: 1, limit: 10, nextCursor: null });
  const rows = page.body.data as { endpoint: string; method: string; statusCode: number; timestamp: string; keyId: string }[];
  expect(rows.map((r) => r.statusCode).sort()).toEqual([200, 400]);
  for (const r of rows) {
    expect(r.endpoint).toBe("/api/v1/loans/predict");
    expect(r.method).toBe("POST");
    expect(r.keyId).toBe(aliceKey.keyId);
    const ts = Date.parse(r.timestamp);
    expect(ts).toBeGreaterThanOrEqual(t0 - 1);
    expect(ts).toBeLessThanOrEqual(t1 + 1);
  }

  // Bob has made no call: nothing of Alice's reaches him.
  const bobEmpty = await logs(bob.headers);
  expect(bobEmpty.status).toBe(200);
  expect(bobEmpty.body.data).toEqual([]);
  expect(bobEmpty.body.meta.total).toBe(0);

  // Bob's own call is his alone, and Alice's count does not move.
  expect((await predict(bobKey.apiKey)).status).toBe(200);
  await waitFor(async () => (await logs(bob.headers)).body.meta.total === 1, 15_000, "bob's call in /logs");
  const bobPage = await logs(bob.headers);
  expect(bobPage.body.data.map((r: { keyId: string }) => r.keyId)).toEqual([bobKey.keyId]);
  expect((await logs(alice.headers)).body.meta.total).toBe(2);
});
