/** The load generators against tiny real servers: counts, errors and CPU share are real. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "nats";
import { natsLoad } from "../lib/nats-load";
import { httpLoad } from "../lib/http-load";
import { natsOptions, testTopology } from "@riskinmind/testkit";

let nc: NatsConnection;
const subject = `${testTopology().prefix}echo`;
let seen = 0;

beforeAll(async () => {
  nc = await connect(natsOptions());
  nc.subscribe(subject, { callback: (_e, m) => (seen++, m.respond(m.data)) });
  await nc.flush();
});

afterAll(async () => {
  await nc?.close();
});

describe("natsLoad", () => {
  test("once mode sends each payload exactly once and times every reply", async () => {
    seen = 0;
    const payloads = Array.from({ length: 500 }, (_, i) => new TextEncoder().encode(`p${i}`));
    const r = await natsLoad(nc, { subject, payloads, inFlight: 8, once: true });
    expect(seen).toBe(500);
    expect(r.n).toBe(500);
    expect(r.errors).toBe(0);
    expect(r.p99).toBeGreaterThanOrEqual(r.p50);
    expect(r.cpuShare).toBeGreaterThan(0);
  });

  test("replies the check rejects and requests nobody answers count as errors", async () => {
    const payloads = [new TextEncoder().encode("x")];
    const bad = await natsLoad(nc, { subject, payloads, inFlight: 2, durationMs: 200, check: () => false });
    expect(bad.errors).toBeGreaterThan(0);
    const none = await natsLoad(nc, { subject: `${subject}.nobody`, payloads, inFlight: 1, once: true, timeoutMs: 200 });
    expect(none.errors).toBe(1);
  });
});

describe("httpLoad", () => {
  test("reports throughput and counts non-2xx answers as errors", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r) => new Response("{}", { status: new URL(r.url).pathname === "/bad" ? 401 : 200 }) });
    try {
      const ok = await httpLoad({ url: `http://127.0.0.1:${server.port}/ok`, durationS: 1, connections: 4 });
      expect(ok.rps).toBeGreaterThan(0);
      expect(ok.errors).toBe(0);
      expect(ok.cpuShare).toBeGreaterThan(0);
      const bad = await httpLoad({ url: `http://127.0.0.1:${server.port}/bad`, durationS: 1, connections: 4 });
      expect(bad.errors).toBe(bad.requests);
      expect(bad.errors).toBeGreaterThan(0);
    } finally {
      server.stop(true);
    }
  });
});
