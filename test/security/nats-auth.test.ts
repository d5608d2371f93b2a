/**
 * NATS authentication with the repository's nats/nats-server.conf on a server
 * of this test's own: the services connect with the credentials of their own
 * identity carried in NATS_URL, work end to end, and never print a password;
 * with a wrong password a service does not become ready.
 */
import { describe, expect, test } from "bun:test";
import { connect } from "nats";
import { freePort, issueKey, newOwner, predict, req, spawnChild, usageRows, useOwnNatsDeployment, waitFor } from "@riskinmind/testkit";

const s = useOwnNatsDeployment(["usage", "keys", "example"]);

describe("NATS with a user and password per service", () => {
  test("the services authenticate with their own credentials from NATS_URL and work end to end, no password ever printed", async () => {
    const owner = await newOwner("natsauth");
    const { apiKey } = await issueKey(s.d.keys!, owner);
    expect((await predict(s.d.example!, apiKey)).status).toBe(200);
    await waitFor(async () => (await usageRows(s.d.sql, owner.sub)) === 1, 10_000, "usage row");
    expect((await req(`${s.d.keys!.url}/api/v1/keys/logs`, { headers: owner.headers })).body.meta.total).toBe(1);
    const passwords = (["keys", "usage", "guard", "admin"] as const).map((u) => decodeURIComponent(new URL(s.nats.url(u)).password));
    for (const svc of [s.d.keys!, s.d.usage!, s.d.example!]) for (const p of passwords) expect(svc.child.output()).not.toContain(p);
  });

  test("the server refuses anonymous clients, and a service with a wrong password never becomes ready", async () => {
    await expect(connect({ servers: s.nats.server, reconnect: false, timeout: 1000 })).rejects.toThrow();
    const port = freePort();
    const wrong = new URL(s.nats.url("keys"));
    wrong.password = "wrong-password";
    const bad = spawnChild(["bun", "services/keys/src/main.ts"], { ...s.d.env({ NATS_URL: wrong.toString() }), PORT: String(port) });
    // It either exits or keeps retrying; it must not serve as if connected.
    await waitFor(async () => bad.proc.exitCode !== null || bad.output().length > 0, 5_000, "the service to react").catch(() => {});
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (r) => r.status,
      () => "no listener",
    );
    expect(ready === "no listener" || ready === 503).toBe(true);
    expect(bad.output()).not.toContain("wrong-password");
    if (bad.proc.exitCode === null) await bad.kill("SIGKILL");
  }, 20_000);
});
