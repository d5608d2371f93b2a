/**
 * The "Scaling" chapter, run: a 3-node NATS cluster of this file's own
 * (nats/cluster.conf: the repository's users and permissions, authenticated
 * routes), the usage and key-events streams at 3 replicas
 * (NATS_STREAM_REPLICAS=3), and two processes each of keys, usage and the
 * guarded example, every one given all three nodes' URLs in NATS_URL.
 *
 * The usage stream's leader is SIGKILLed halfway through 50,000 usage events
 * published as a guard does (JetStream, a message id per batch, a failed
 * publish retried with the same id): exactly 50,000 rows arrive. Meanwhile
 * protected calls through both examples keep being answered (errors counted,
 * bounded, and only of the documented kinds), and a key revoked during the
 * outage is refused by both examples within a second. The node then restarts
 * as itself, its replica catches up, and ingestion goes on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "nats";
import { keyStreamOf, subjects, USAGE_CONSUMER } from "@riskinmind/contracts";
import {
  deploy,
  type Deployment,
  event,
  issueKey,
  type NatsCluster,
  type NatsNode,
  newOwner,
  type Owner,
  predict,
  req,
  startNatsCluster,
  type Svc,
  usageDuplicates,
  waitFor,
} from "@riskinmind/testkit";

const MESSAGES = 50;
const PER_MESSAGE = 1000;
const TOTAL = MESSAGES * PER_MESSAGE;

let cluster: NatsCluster;
let d: Deployment;
let keys: Svc[] = [];
let examples: Svc[] = [];
/** The test publishing as a guard does: the guard identity, every node's URL. */
let guardNc: NatsConnection;
/** Owners whose keys the 50,000 events are recorded for. */
let publishers: { owner: Owner; keyId: string }[] = [];
let killed: NatsNode | undefined;
const runId = crypto.randomUUID().slice(0, 8);

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  d = await deploy({ nats: cluster, extra: { NATS_STREAM_REPLICAS: "3" } });
  // Usage first (it creates the usage stream), then the rest side by side.
  const firstUsage = await d.spawn("usage");
  const [, k1, k2, e1, e2] = await Promise.all([d.spawn("usage"), d.spawn("keys"), d.spawn("keys"), d.spawn("example"), d.spawn("example")]);
  keys = [k1, k2];
  examples = [e1, e2];
  d.usage = firstUsage;
  guardNc = await connect(cluster.options("guard", { maxReconnectAttempts: -1, reconnectTimeWait: 250, name: "test-as-guard" }));
  publishers = await Promise.all(
    Array.from({ length: 5 }, async (_, i) => {
      const owner = await newOwner(`cluster${i}`);
      const { keyId } = await issueKey(keys[i % 2]!, owner);
      return { owner, keyId };
    }),
  );
}, 60_000);

afterAll(async () => {
  await guardNc?.close().catch(() => {});
  await d?.close();
  await cluster?.stop();
});

/** Rows stored for the publishing owners. */
async function storedRows(): Promise<number> {
  const owners = publishers.map((p) => p.owner.sub);
  const [r] = await d.sql`select count(*)::int as n from usage.events where owner_id in ${d.sql(owners)}`;
  return r!.n as number;
}

/** Message `i`'s 1,000 events: ids fixed by (run, i, j), so a retried message carries the same events. */
function message(i: number): string {
  const p = publishers[i % publishers.length]!;
  return JSON.stringify(Array.from({ length: PER_MESSAGE }, (_, j) => event({ id: `${runId}-${i}-${j}`, ownerId: p.owner.sub, keyId: p.keyId })));
}

/**
 * Publishes message `i` as a guard does, until JetStream acknowledges it:
 * a failure (no stream leader yet, a timeout, the connection moving to
 * another node) is retried with the same message id, after a short pause
 * that grows (a poll with a deadline, not a fixed wait). Returns the failures seen.
 */
async function publishUntilAcked(i: number, failures: string[]): Promise<void> {
  const js = guardNc.jetstream();
  const subject = subjects(d.topo).usageEvents;
  const deadline = Date.now() + 30_000;
  let pause = 50;
  for (;;) {
    try {
      await js.publish(subject, message(i), { msgID: `${runId}-m${i}`, timeout: 2_000 });
      return;
    } catch (e) {
      const err = e as { code?: string; message?: string };
      failures.push(String(err.code ?? err.message));
      if (Date.now() > deadline) throw new Error(`message ${i} not acknowledged within 30 s: ${failures.at(-1)}`);
      await Bun.sleep(pause);
      pause = Math.min(pause * 2, 500);
    }
  }
}

interface Outcome {
  example: number;
  phase: "before" | "outage";
  status: number;
  code?: string;
}

describe("a 3-node NATS cluster with replicated streams and two replicas of every service", () => {
  test("every stream is at 3 replicas on the cluster, every replica reachable through its own identity", async () => {
    const jsm = await (await cluster.admin()).jetstreamManager();
    const usage = await cluster.waitStreamCurrent(d.topo.stream, 3);
    expect(usage.config.num_replicas).toBe(3);
    // The keys replicas' outbox publisher creates the key-events stream when it starts.
    await waitFor(async () => !!(await jsm.streams.info(keyStreamOf(d.topo))), 10_000, "key-events stream");
    const keyEvents = await cluster.waitStreamCurrent(keyStreamOf(d.topo), 3);
    expect(keyEvents.config.num_replicas).toBe(3);
    // The three nodes each hold a replica of each.
    for (const info of [usage, keyEvents]) expect([info.cluster!.leader, ...info.cluster!.replicas!.map((r) => r.name)].sort()).toEqual(["n1", "n2", "n3"]);
    for (const s of [...keys, ...examples]) expect((await req(`${s.url}/health`)).status).toBe(200);
  }, 30_000);

  test("SIGKILL of the usage stream's leader halfway through 50,000 events: exactly 50,000 rows, protected calls answered, a revocation refused by both guards within 1 s", async () => {
    // The protected-call traffic: one loop per example process, with a key both have cached.
    const caller = await newOwner("clustercall");
    const { apiKey } = await issueKey(keys[0]!, caller);
    const expected = (await predict(examples[0]!, apiKey)).body;
    expect(expected.success).toBe(true);
    expect((await predict(examples[1]!, apiKey)).body).toEqual(expected);
    // The key to revoke during the outage, cached as valid by both examples.
    const victim = await newOwner("clusterrevoke");
    const revoked = await issueKey(keys[1]!, victim);
    for (const ex of examples) expect((await predict(ex, revoked.apiKey)).status).toBe(200);

    const outcomes: Outcome[] = [];
    let phase: Outcome["phase"] = "before";
    let calling = true;
    const wrong: unknown[] = [];
    const loop = async (n: number) => {
      while (calling) {
        const at = phase;
        try {
          const r = await predict(examples[n]!, apiKey, 5_000);
          outcomes.push({ example: n, phase: at, status: r.status, code: r.body?.error?.code });
          if (r.status === 200 && !Bun.deepEquals(r.body, expected)) wrong.push(r.body);
        } catch (e) {
          // No answer within 5 s (or the connection dropped): counted as a timeout.
          outcomes.push({ example: n, phase: at, status: 0, code: (e as Error).name });
        }
        // A steady rate, not a flood: each call also records a usage event, and the
        // two shared cores run the ingestion the test is measuring.
        await Bun.sleep(10);
      }
    };
    const loops = [loop(0), loop(1)];
    await waitFor(() => outcomes.filter((o) => o.example === 0).length >= 20 && outcomes.filter((o) => o.example === 1).length >= 20, 10_000, "traffic before the outage");

    // 50,000 events in 50 messages, four in flight; the stream's leader dies when half are acknowledged.
    const failures: string[] = [];
    let acked = 0;
    let next = 0;
    let halfway!: () => void;
    const half = new Promise<void>((r) => (halfway = r));
    const worker = async () => {
      while (next < MESSAGES) {
        const i = next++;
        await publishUntilAcked(i, failures);
        if (++acked === MESSAGES / 2) halfway();
      }
    };
    const t0 = performance.now();
    const publishing = Promise.all([worker(), worker(), worker(), worker()]);
    await half;
    killed = await cluster.streamLeader(d.topo.stream);
    // Which processes lose their NATS server with it (each reconnects to another node from its list).
    const cutOff = (await killed.clients()).filter((c) => !c.startsWith("test-")).sort();
    const failuresBeforeKill = failures.length;
    phase = "outage";
    await killed.kill("SIGKILL");
    const killedAt = performance.now();

    // A revocation through a keys replica while the node is down reaches both example processes within 1 s.
    const revokeStart = performance.now();
    const r = await keys[0]!.revoke(victim);
    expect(r.status).toBe(200);
    const committed = performance.now();
    const refusedAfter = await Promise.all(
      examples.map(async (ex) => {
        await waitFor(async () => (await predict(ex, revoked.apiKey, 1_000)).status === 401, 5_000, "revoked key refused");
        return Math.round(performance.now() - committed);
      }),
    );
    for (const ms of refusedAfter) expect(ms).toBeLessThanOrEqual(1_000);

    // A key issued during the outage, cached by no guard: its first call is verified over the cluster.
    // The first answer is 200, or 503 VERIFY_UNAVAILABLE if that guard is still moving to another node; then 200.
    const fresh = await issueKey(keys[1]!, await newOwner("clusterfresh"));
    const freshFirst: string[] = [];
    for (const ex of examples) {
      const first = await predict(ex, fresh.apiKey);
      freshFirst.push(`${first.status}${first.body?.error?.code ? `:${first.body.error.code}` : ""}`);
      expect(first.status === 200 || (first.status === 503 && first.body?.error?.code === "VERIFY_UNAVAILABLE")).toBe(true);
      await waitFor(async () => (await predict(ex, fresh.apiKey)).status === 200, 5_000, "a key issued during the outage served");
    }

    await publishing;
    const publishedMs = Math.round(performance.now() - t0);
    await waitFor(async () => (await storedRows()) >= TOTAL, 45_000, `${TOTAL} rows`);
    const storedMs = Math.round(performance.now() - t0);

    // Protected calls through the outage: a little more traffic with the node still down, then the tally.
    const outageAt = outcomes.length;
    await waitFor(() => outcomes.length >= outageAt + 40, 10_000, "traffic while the node is down");
    calling = false;
    await Promise.all(loops);

    // The guards' own usage events went through the same failover: one row per call an example
    // served (a timed-out call may or may not have been served), the two warm-up calls included.
    const served = outcomes.filter((o) => o.status === 200).length + 2;
    const timedOut = outcomes.filter((o) => o.status === 0).length;
    const callerRows = async () => (await d.sql`select count(*)::int as n from usage.events where owner_id = ${caller.sub}`)[0]!.n as number;
    await waitFor(async () => (await callerRows()) >= served, 30_000, `${served} usage rows of the protected calls`);
    expect(await callerRows()).toBeLessThanOrEqual(served + timedOut);
    // Exactly once: every one of the 50,000 events stored, none twice. The events carry their ids and
    // a row's id is unique, so a late redelivery cannot add a row: the count is final.
    const jsm = await (await cluster.admin()).jetstreamManager();
    const c = await jsm.consumers.info(d.topo.stream, USAGE_CONSUMER);
    const consumerState = `pending ${c.num_pending}, ack pending ${c.num_ack_pending}, redelivered ${c.num_redelivered}`;
    expect(await storedRows()).toBe(TOTAL);
    expect(await usageDuplicates(d.sql)).toBe(0);
    expect(wrong).toEqual([]);
    const during = outcomes.filter((o) => o.phase === "outage");
    const errors = during.filter((o) => o.status !== 200);
    const tally = outcomes.reduce((m: Record<string, number>, o) => {
      const k = `${o.phase}:ex${o.example}:${o.status}${o.code ? `:${o.code}` : ""}`;
      m[k] = (m[k] ?? 0) + 1;
      return m;
    }, {});
    // Before the kill, everything is served.
    expect(outcomes.filter((o) => o.phase === "before" && o.status !== 200)).toEqual([]);
    // During the outage: both examples keep serving; an error is a 503 VERIFY_UNAVAILABLE or a
    // timeout (a verify request in flight on the dead node's connection), never a 401 or a 5xx of another kind.
    for (const ex of [0, 1]) expect(during.filter((o) => o.example === ex && o.status === 200).length).toBeGreaterThan(0);
    for (const e of errors) expect(e.status === 0 || (e.status === 503 && e.code === "VERIFY_UNAVAILABLE")).toBe(true);
    expect(errors.length).toBeLessThanOrEqual(Math.ceil(during.length * 0.05));

    console.log(
      `[nats-cluster] killed ${killed.name} (usage stream leader; clients on it: ${cutOff.join(", ") || "none of the services"}) after ${MESSAGES / 2} of ${MESSAGES} messages; ` +
        `publish failures retried: ${failures.length - failuresBeforeKill} after the kill (${[...new Set(failures)].join(", ")}); ` +
        `all acknowledged ${publishedMs} ms, all ${TOTAL} stored ${storedMs} ms after the first publish (kill at ${Math.round(killedAt - t0)} ms); ` +
        `usage consumer then: ${consumerState}; ` +
        `revoke answered in ${Math.round(committed - revokeStart)} ms, refused by the examples ${refusedAfter.join(" / ")} ms after; a key issued during the outage first answered ${freshFirst.join(" / ")}; ` +
        `protected calls during the outage: ${during.length}, errors ${errors.length}; ${JSON.stringify(tally)}`,
    );
  }, 90_000);

  test("the killed node restarts as itself, rejoins, its replicas catch up, and ingestion goes on", async () => {
    expect(killed).toBeDefined();
    const node = killed!;
    const t = performance.now();
    await node.start();
    await cluster.waitJetStream();
    const usage = await cluster.waitStreamCurrent(d.topo.stream, 3);
    const keyEvents = await cluster.waitStreamCurrent(keyStreamOf(d.topo), 3);
    const rejoinMs = Math.round(performance.now() - t);
    // It is a member of both streams' groups again, and current (waitStreamCurrent: every follower current, none offline).
    for (const info of [usage, keyEvents]) expect([info.cluster!.leader, ...info.cluster!.replicas!.map((r) => r.name)]).toContain(node.name);

    // Ingestion goes on: one more message, and a protected call through each example.
    const failures: string[] = [];
    await publishUntilAcked(MESSAGES, failures);
    await waitFor(async () => (await storedRows()) === TOTAL + PER_MESSAGE, 20_000, `${TOTAL + PER_MESSAGE} rows`);
    const after = await newOwner("clusterafter");
    const { apiKey } = await issueKey(keys[1]!, after);
    for (const ex of examples) expect((await predict(ex, apiKey)).status).toBe(200);
    console.log(`[nats-cluster] ${node.name} rejoined with current replicas ${rejoinMs} ms after its restart`);
  }, 60_000);
});
