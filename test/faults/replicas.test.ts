/**
 * Two keys-service replicas and a guard (the example service), each its own
 * process: a key revoked through one replica is refused by the other replica
 * and by the guard within one second, though both had it cached as valid.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deploy, type Deployment, issueKey, newOwner, predict, req, type Svc, waitFor } from "@riskinmind/testkit";

let d: Deployment;
let a: Svc;
let b: Svc;

beforeAll(async () => {
  d = await deploy({ services: ["usage"] });
  a = await d.spawn("keys");
  b = await d.spawn("keys");
  d.example = await d.spawn("example");
});
afterAll(async () => {
  await d?.close();
});

/** keys_verify_total{result} of one replica, from its /metrics. */
async function verified(s: Svc, result: string): Promise<number> {
  const text = (await req(`${s.url}/metrics`)).text;
  const m = new RegExp(`^keys_verify_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

describe("revocation across replicas", () => {
  test("a key revoked through replica A is refused by replica B and by the guard within one second", async () => {
    const owner = await newOwner("replica");
    const { apiKey } = await issueKey(a, owner);
    // Both replicas (queue group) and the guard have the key cached as valid.
    await waitFor(
      async () => {
        await d.verify(apiKey);
        return (await verified(a, "valid")) > 0 && (await verified(b, "valid")) > 0;
      },
      10_000,
      "both replicas answered valid",
    );
    expect((await predict(d.example!, apiKey)).status).toBe(200);
    const bValidBefore = await verified(b, "valid");

    expect((await req(`${a.url}/api/v1/keys/revoke`, { method: "POST", headers: owner.headers })).status).toBe(200);
    await waitFor(
      async () => {
        const replies = await Promise.all(Array.from({ length: 8 }, () => d.verify(apiKey)));
        return replies.every((r) => r.valid === false && r.code === "KEY_REVOKED") && (await predict(d.example!, apiKey)).status === 401;
      },
      1_000,
      "revocation seen everywhere within 1 s",
    );
    expect((await req(`${b.url}/api/v1/keys/`, { headers: owner.headers })).status).toBe(404);
    // B answered for the key after the revoke, and never said "valid" again.
    await waitFor(
      async () => {
        await d.verify(apiKey);
        return (await verified(b, "KEY_REVOKED")) > 0;
      },
      5_000,
      "replica B refused the key",
    );
    expect(await verified(b, "valid")).toBe(bValidBefore);
  }, 60_000);

  test("after regenerate through replica B, the old key is refused by A and the guard, the new one works", async () => {
    const owner = await newOwner("replica2");
    const old = await issueKey(b, owner);
    expect((await predict(d.example!, old.apiKey)).status).toBe(200);
    const r = await req(`${b.url}/api/v1/keys/regenerate`, { method: "POST", headers: owner.headers });
    expect(r.status).toBe(200);
    await waitFor(async () => (await predict(d.example!, old.apiKey)).status === 401 && (await d.verify(old.apiKey)).code === "KEY_REVOKED", 1_000, "old key refused within 1 s");
    expect((await req(`${a.url}/api/v1/keys/`, { headers: owner.headers })).body.data.keyId).toBe(r.body.data.keyId);
    expect((await predict(d.example!, r.body.data.apiKey)).status).toBe(200);
  }, 30_000);
});
