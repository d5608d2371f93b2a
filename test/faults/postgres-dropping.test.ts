/**
 * Postgres behind something that accepts TCP and drops it (a TCP load
 * balancer or pooler whose Postgres is down): the management endpoints must
 * still answer 503 DATABASE_UNAVAILABLE rather than hang.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deploy, type Deployment, isEnvelope, issueKey, newOwner, type PgRelay, req, startPgRelay, viaPort, waitFor } from "@riskinmind/testkit";

let relay: PgRelay;
let d: Deployment;

beforeAll(async () => {
  const real = new URL(process.env.DATABASE_URL!);
  relay = startPgRelay({ host: real.hostname, port: Number(real.port || 5432) });
  d = await deploy({ databaseUrl: (db) => viaPort(db.url, relay.port), services: ["keys"] });
});
afterAll(async () => {
  await d?.close();
  relay?.close();
});

describe("Postgres reachable only through a relay that drops every connection", () => {
  test("GET /api/v1/keys/ answers 503 DATABASE_UNAVAILABLE (an answer, not a hang) and recovers", async () => {
    const owner = await newOwner("pgdrop");
    await issueKey(d.keys!, owner);
    relay.cut("dropping");
    // The first request may meet the connection killed under it; the second must connect anew.
    await req(`${d.keys!.url}/api/v1/keys/`, { headers: owner.headers, timeoutMs: 6_000 }).catch(() => {});
    let answer: { status: number; body: any } | string;
    try {
      answer = await req(`${d.keys!.url}/api/v1/keys/`, { headers: owner.headers, timeoutMs: 6_000 });
    } catch (e) {
      answer = `no answer: ${(e as Error).name}`;
    }
    expect(typeof answer === "string" ? answer : { status: answer.status, envelope: isEnvelope(answer.body), code: answer.body?.error?.code }).toEqual({
      status: 503,
      envelope: true,
      code: "DATABASE_UNAVAILABLE",
    });
    relay.restore();
    await waitFor(async () => (await req(`${d.keys!.url}/api/v1/keys/`, { headers: owner.headers })).status === 200, 15_000, "management back");
  }, 40_000);
});
