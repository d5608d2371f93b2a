/**
 * NATS authentication: with a nats-server that requires a user and password,
 * the services connect with the credentials carried in NATS_URL, work end to
 * end, and never print the password; with wrong credentials they do not
 * become ready.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "nats";
import { freePort, spawnChild, waitFor } from "../support/harness";
import { deploy, generate, newOwner, predict, req, startOwnNats, usageRows, type Deployment, type OwnNats } from "../faults/support";

const USER = "rim_svc";
const PASS = "s3cret-nats-pass-0123456789";
let nats: OwnNats;
let d: Deployment;
let url: string;

beforeAll(async () => {
  const probe = `nats://${USER}:${PASS}@127.0.0.1:0`;
  nats = await startOwnNats({ args: ["--user", USER, "--pass", PASS], probeUrl: probe });
  url = `nats://${USER}:${encodeURIComponent(PASS)}@127.0.0.1:${nats.port}`;
  d = await deploy({ natsServers: url, services: ["usage", "keys", "example"] });
});
afterAll(async () => {
  await d?.close();
  await nats?.stop();
});

describe("NATS with user/password authentication", () => {
  test("the services authenticate with credentials from NATS_URL and work end to end, the password never printed", async () => {
    const owner = await newOwner("natsauth");
    const { apiKey } = await generate(d.keys!.url, owner);
    expect((await predict(d.example!.url, apiKey)).status).toBe(200);
    await waitFor(async () => (await usageRows(d.sql, owner.sub)) === 1, 10_000, "usage row");
    expect((await req(`${d.keys!.url}/api/v1/keys/logs`, { headers: owner.headers })).body.meta.total).toBe(1);
    for (const s of [d.keys!, d.usage!, d.example!]) expect(s.child.output()).not.toContain(PASS);
  });

  test("the server really refuses anonymous clients, and a service with a wrong password never becomes ready", async () => {
    await expect(connect({ servers: `nats://127.0.0.1:${nats.port}`, reconnect: false, timeout: 1000 })).rejects.toThrow();
    const port = freePort();
    const bad = spawnChild(["bun", "services/keys/src/main.ts"], { ...d.env({ NATS_URL: `nats://${USER}:wrong-password@127.0.0.1:${nats.port}` }), PORT: String(port) });
    // It either exits or keeps retrying; it must not serve as if connected.
    await waitFor(async () => bad.proc.exitCode !== null || bad.output().length > 0, 5_000, "the service to react").catch(() => {});
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status, () => "no listener");
    expect(ready === "no listener" || ready === 503).toBe(true);
    expect(bad.output()).not.toContain("wrong-password");
    if (bad.proc.exitCode === null) await bad.kill("SIGKILL");
  }, 20_000);
});
