/**
 * Test keys end to end, in-process with the real keys, usage and example
 * services: an owner mints a live key and a test key over HTTP, calls the
 * example with each, and reads each key's calls back from /logs in its own
 * mode (no ?mode= is live). Another owner sees neither.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { goodLoan, issueKey, newOwner, req, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

let stack: TrioStack;

beforeAll(async () => {
  stack = await trioStack({ withUsage: true });
});

afterAll(async () => {
  await stack?.close();
});

const predict = (apiKey: string) => req(`${stack.loansUrl}/api/v1/loans/predict`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, json: goodLoan });
const logs = (headers: Record<string, string>, query = "") => req(`${stack.keysUrl}/api/v1/keys/logs${query}`, { headers });

test("a live key's and a test key's calls are read back from /logs in their own mode, live by default", async () => {
  const alice = await newOwner();
  const bob = await newOwner();
  const live = await issueKey(stack.keys, alice);
  const minted = await stack.keys.call("POST", "/api/v1/keys/generate?mode=test", { headers: alice.headers });
  expect(minted.status).toBe(201);
  const testKey = { apiKey: minted.body.data.apiKey as string, keyId: minted.body.data.keyId as string };
  expect(testKey.apiKey.startsWith("sk_test_")).toBe(true);

  expect((await predict(live.apiKey)).status).toBe(200);
  expect((await predict(testKey.apiKey)).status).toBe(200);
  expect((await predict(live.apiKey)).status).toBe(200);

  await waitFor(
    async () => {
      const [l, t] = await Promise.all([logs(alice.headers), logs(alice.headers, "?mode=test")]);
      return l.body?.meta?.total === 2 && t.body?.meta?.total === 1;
    },
    15_000,
    "alice's calls in both logs",
  );
  const byDefault = await logs(alice.headers);
  expect(byDefault.status).toBe(200);
  expect(byDefault.body.meta).toEqual({ total: 2, page: 1, limit: 10, nextCursor: null });
  expect(byDefault.body.data.map((r: { keyId: string }) => r.keyId)).toEqual([live.keyId, live.keyId]);
  expect((await logs(alice.headers, "?mode=live")).body).toEqual(byDefault.body);
  const test_ = await logs(alice.headers, "?mode=test");
  expect(test_.status).toBe(200);
  expect(test_.body.meta).toEqual({ total: 1, page: 1, limit: 10, nextCursor: null });
  expect(test_.body.data).toMatchObject([{ keyId: testKey.keyId, endpoint: "/api/v1/loans/predict", method: "POST", statusCode: 200 }]);

  for (const q of ["", "?mode=test"]) {
    const b = await logs(bob.headers, q);
    expect(b.status).toBe(200);
    expect(b.body).toEqual({ success: true, data: [], meta: { total: 0, page: 1, limit: 10, nextCursor: null } });
  }
});
