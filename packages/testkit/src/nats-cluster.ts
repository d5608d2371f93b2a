/**
 * A NATS cluster of the test's own on loopback: n nats-server processes
 * running nats/cluster.conf (the repository's users and permissions plus
 * authenticated routes), JetStream clustered. Each node can be SIGKILLed and
 * started again on the same ports, name and store directory, as a node of a
 * real deployment comes back after a crash.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection, type StreamInfo } from "nats";
import { randomPasswords, startNatsServer, type RunningNats } from "../../../scripts/lib/nats";
import { natsAccess, type NatsAccess } from "./nats";
import { freePort } from "./ports";
import { waitFor } from "./wait";

export interface NatsNode {
  /** server_name, as stream info reports leaders and replicas. */
  name: string;
  /** Its client URL without credentials. */
  server: string;
  port: number;
  routePort: number;
  /** Its monitoring port (nats-server -m, on 127.0.0.1). */
  monitorPort: number;
  running(): boolean;
  /** The names of the client connections it holds now (from /connz): which services a kill of this node cuts off. */
  clients(): Promise<string[]>;
  /** Kills the node (SIGKILL unless told); ports, name and store stay for start(). */
  kill(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts it again as the same node; resolves once it accepts clients. */
  start(): Promise<void>;
}

export interface NatsCluster extends NatsAccess {
  nodes: NatsNode[];
  /** Every node's client URL (no credentials). */
  servers: string[];
  node(name: string): NatsNode;
  /** The test side's admin connection, given every node and reconnecting forever. */
  admin(): Promise<NatsConnection>;
  /** Waits until JetStream answers through each running node (a meta leader is elected and the node has joined). */
  waitJetStream(timeoutMs?: number): Promise<void>;
  /** The node leading `stream`'s replica group (waits while there is none). */
  streamLeader(stream: string, timeoutMs?: number): Promise<NatsNode>;
  /**
   * Waits until `stream` has a leader and `replicas` members in all, every
   * follower current and online (after a restart: the node caught up). Returns the info.
   */
  waitStreamCurrent(stream: string, replicas: number, timeoutMs?: number): Promise<StreamInfo>;
  stop(): Promise<void>;
}

// Each node runs in its own process group (scripts/lib/children.ts): kill them if the test process dies first.
const live = new Set<RunningNats>();
process.on("exit", () => {
  for (const s of live) s.child.proc.kill("SIGKILL");
});

/** Starts an n-node cluster (3 by default) and waits until JetStream answers through every node. */
export async function startNatsCluster(n = 3): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "rim-nats-cluster-"));
  const passwords = randomPasswords();
  // The route user's password: made like the others, and like them it lives only in the nodes' environment.
  const routePassword = randomPasswords().admin;
  const ports = Array.from({ length: n }, () => freePort());
  const routePorts = Array.from({ length: n }, () => freePort());
  const monitorPorts = Array.from({ length: n }, () => freePort());
  const servers = ports.map((p) => `nats://127.0.0.1:${p}`);
  const access = natsAccess(servers, passwords);

  const nodes: NatsNode[] = ports.map((port, i) => {
    const name = `n${i + 1}`;
    let proc: RunningNats | undefined;
    return {
      name,
      server: servers[i]!,
      port,
      routePort: routePorts[i]!,
      monitorPort: monitorPorts[i]!,
      running: () => proc !== undefined,
      async clients() {
        const res = await fetch(`http://127.0.0.1:${monitorPorts[i]}/connz?limit=1024`, { signal: AbortSignal.timeout(2000) });
        const body = (await res.json()) as { connections?: { name?: string }[] };
        return (body.connections ?? []).map((c) => c.name ?? "");
      },
      async kill(signal = "SIGKILL") {
        if (!proc) return;
        const p = proc;
        proc = undefined;
        p.child.proc.kill(signal);
        await p.child.exited;
        live.delete(p);
      },
      async start() {
        if (proc) return;
        proc = await startNatsServer({ storeDir: join(dir, name), port, passwords, monitorPort: monitorPorts[i]!, cluster: { name, routePort: routePorts[i]!, routePorts, routePassword } });
        live.add(proc);
      },
    };
  });

  let adminNc: NatsConnection | undefined;
  const cluster: NatsCluster = {
    ...access,
    nodes,
    servers,
    node(name) {
      const found = nodes.find((x) => x.name === name);
      if (!found) throw new Error(`no node named ${name}`);
      return found;
    },
    async admin() {
      adminNc ??= await connect(access.options("admin", { maxReconnectAttempts: -1, reconnectTimeWait: 250, name: "test-cluster-admin" }));
      return adminNc;
    },
    async waitJetStream(timeoutMs = 20_000) {
      for (const node of nodes.filter((x) => x.running())) {
        await waitFor(
          async () => {
            // One node only, no reconnect: the answer is that node's.
            const nc = await connect({ ...access.options("admin", { reconnect: false, timeout: 1000 }), servers: node.server });
            try {
              await (await nc.jetstreamManager({ timeout: 1000 })).getAccountInfo();
            } finally {
              await nc.close();
            }
            return true;
          },
          timeoutMs,
          `JetStream through node ${node.name}`,
        );
      }
    },
    async streamLeader(stream, timeoutMs = 10_000) {
      const jsm = await (await cluster.admin()).jetstreamManager();
      let leader: string | undefined;
      // Asked again on a timeout or while an election runs: the answer is the leader at that moment.
      await waitFor(async () => !!(leader = (await jsm.streams.info(stream)).cluster?.leader), timeoutMs, `a leader of stream ${stream}`);
      return cluster.node(leader!);
    },
    async waitStreamCurrent(stream, replicas, timeoutMs = 30_000) {
      const jsm = await (await cluster.admin()).jetstreamManager();
      let last: StreamInfo | undefined;
      await waitFor(
        async () => {
          last = await jsm.streams.info(stream);
          const followers = last.cluster?.replicas ?? [];
          return !!last.cluster?.leader && followers.length === replicas - 1 && followers.every((r) => r.current && !r.offline);
        },
        timeoutMs,
        `stream ${stream}: a leader and ${replicas - 1} current followers`,
      );
      return last!;
    },
    async stop() {
      await adminNc?.close().catch(() => {});
      await Promise.all(nodes.map((x) => x.kill("SIGTERM")));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((x) => x.start()));
    await cluster.waitJetStream();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
