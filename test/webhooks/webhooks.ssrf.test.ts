/**
 * The SSRF policy with WEBHOOK_ALLOW_PRIVATE_TARGETS off (production's
 * default): https only, no literal private/loopback/link-local/unique-local/
 * unspecified address nor localhost at registration, and at delivery no host
 * that resolves to one (the row is then failed after one logged attempt,
 * and the target hears nothing).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { newOwner, useKeysStack, waitFor } from "@riskinmind/testkit";
import { deliveries, keyEvent, publishEvent, receiver, register } from "./helpers";

const env = useKeysStack({ WEBHOOK_RETRY_SCHEDULE_MS: "50,100,200", WEBHOOK_POLL_MS: "50" });
const target = receiver();
afterAll(() => target.stop());

describe("registration", () => {
  const refused = [
    "http://example.com/hook",
    "https://localhost/hook",
    "https://LOCALHOST./hook",
    "https://api.localhost/hook",
    "https://127.0.0.1/hook",
    "https://127.1.2.3:8443/hook",
    "https://127.0.0.1./hook",
    "https://2130706433/hook",
    "https://0x7f000001/hook",
    "https://0.0.0.0/hook",
    "https://10.1.2.3/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://[::]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://[fe80::1]/hook",
    "https://[fc00::1]/hook",
    "https://[fd12:3456::1]/hook",
    "https://224.0.0.1/hook",
  ];
  for (const url of refused) {
    test(`refuses ${url}`, async () => {
      const o = await newOwner();
      const r = await register(env.a, o, { url, events: ["*"] });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ success: false, error: { code: "VALIDATION_ERROR" } });
      expect((await env.a.call("GET", "/api/v1/keys/webhooks", { headers: o.headers })).body.data).toEqual([]);
    });
  }

  test("accepts public https targets (names are checked when delivering)", async () => {
    const o = await newOwner();
    for (const url of ["https://hooks.example.com/riskinmind", "https://93.184.215.14:8443/x", "https://[2606:4700::1111]/x"]) {
      expect((await register(env.a, o, { url, events: ["*"] })).status).toBe(201);
    }
  });
});

describe("delivery", () => {
  test("a target that turns out private (here: the row points at loopback, as after a DNS change) is not called; one attempt logged, failed", async () => {
    const o = await newOwner();
    const m = (await register(env.a, o, { url: "https://hooks.example.com/x", events: ["*"] })).body.data;
    // What a rebinding name would do: the stored target now leads to a loopback receiver.
    await env.sql`update keys.webhook_endpoints set url = ${target.url} where id = ${m.id}`;
    await publishEvent(env.nc, env.topo, keyEvent(o.sub));
    await waitFor(async () => (await deliveries(env.a, o, m.id)).body.data?.[0]?.status === "failed", 10_000, "the refused delivery");
    const [d] = (await deliveries(env.a, o, m.id)).body.data;
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({ statusCode: null });
    expect(d.attempts[0].error).toMatch(/private|loopback/);
    expect(d.nextAttemptAt).toBeNull();
    expect(target.received).toHaveLength(0);
  });
});
