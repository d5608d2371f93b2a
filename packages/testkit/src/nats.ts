/**
 * NATS for tests: this run's nats-server (started by test/preload.ts from the
 * repository's nats/nats-server.conf), how each identity reaches it, NATS
 * names of a test's own, and — the one way to start another nats-server —
 * a private server a test may kill and restart (scripts/lib/nats.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, nanos, StorageType, type ConnectionOptions, type JetStreamManager, type NatsConnection } from "nats";
import { INBOX_PREFIX, type Topology } from "@riskinmind/contracts";
import { credentialUrl, randomPasswords, startNatsServer, type NatsPasswords, type NatsUser, type RunningNats } from "../../../scripts/lib/nats";
import { uniqueSuffix } from "./db";
import { freePort } from "./ports";
import { waitFor } from "./wait";

export type { NatsUser } from "../../../scripts/lib/nats";

/**
 * How each user of nats/nats-server.conf reaches one server: the URL a
 * service takes as NATS_URL, and the options a test-side `connect()` takes
 * (nats.js reads no credentials from a URL).
 */
export interface NatsAccess {
  /** `nats://user:pass@host:port`, what a service of that identity gets as NATS_URL. */
  url(user?: NatsUser): string;
  /** nats.js connect options for `user` (credentials; a service identity's inbox prefix), merged with `extra`. */
  options(user?: NatsUser, extra?: ConnectionOptions): ConnectionOptions;
}

/**
 * Access to a server started from nats/nats-server.conf with `passwords`;
 * without them, an open server (the benchmark's). A cluster is a list of
 * servers: the URL is then NATS_URL's comma-separated list, one per node.
 */
export function natsAccess(server: string | string[], passwords?: NatsPasswords): NatsAccess {
  const list = Array.isArray(server) ? server : [server];
  return {
    url: (user = "admin") => list.map((s) => (passwords ? credentialUrl(s, user, passwords) : s)).join(","),
    options: (user = "admin", extra = {}) => ({
      servers: server,
      ...(passwords ? { user, pass: passwords[user] } : {}),
      // The same inbox the service of that identity uses: its replies are allowed there and only there.
      ...(user === "admin" ? {} : { inboxPrefix: INBOX_PREFIX[user] }),
      ...extra,
    }),
  };
}

/**
 * This run's NATS: the nats-server test/preload.ts started from the repository
 * config. Run without the preload (the benchmark), the open server in NATS_URL.
 */
export function testNats(): NatsAccess {
  const server = process.env.RIM_TEST_NATS_SERVER;
  if (server) return natsAccess(server, JSON.parse(process.env.RIM_TEST_NATS_PASSWORDS ?? "null") as NatsPasswords);
  const open = process.env.NATS_URL;
  if (!open) throw new Error("no NATS: test/preload.ts sets RIM_TEST_NATS_SERVER (or give NATS_URL outside bun test)");
  return natsAccess(open);
}

/** This run's NATS URL for `user` (admin: everything, for test-side checks). */
export function natsUrl(user: NatsUser = "admin"): string {
  return testNats().url(user);
}

/** Connect options for this run's NATS as `user`: `connect(natsOptions())` is the test side's admin connection. */
export function natsOptions(user: NatsUser = "admin", extra: ConnectionOptions = {}): ConnectionOptions {
  return testNats().options(user, extra);
}

/** A connection to this run's NATS: "guard" for a guard under test, "admin" (default) for the test's own checks. */
export async function connectTestNats(user: NatsUser = "admin"): Promise<NatsConnection> {
  return connect(natsOptions(user, { name: `test-${user}` }));
}

/** NATS subjects and stream names nobody else uses. */
export function testTopology(): Topology {
  const s = uniqueSuffix();
  return { prefix: `t${s}.`, stream: `USAGE_t${s}`, keyStream: `KEY_EVENTS_t${s}` };
}

/** Creates the usage stream the way the usage service does (file storage, a duplicate window), for stacks without it. */
export async function createUsageStream(jsm: JetStreamManager, topology: Topology, subject: string): Promise<void> {
  await jsm.streams.add({ name: topology.stream, subjects: [subject], storage: StorageType.File, duplicate_window: nanos(120_000), max_age: nanos(3600_000) });
}

/** Every event in the stream, in order, with the message id that carried it. */
export async function readUsageEvents(nc: NatsConnection, stream: string): Promise<{ events: Record<string, unknown>[]; messages: { msgId: string | undefined; count: number }[] }> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const events: Record<string, unknown>[] = [];
  const messages: { msgId: string | undefined; count: number }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    const body = m.json<unknown>();
    const arr = Array.isArray(body) ? body : [body];
    events.push(...(arr as Record<string, unknown>[]));
    messages.push({ msgId: m.header?.get("Nats-Msg-Id") || undefined, count: arr.length });
  }
  return { events, messages };
}

export interface OwnNats extends NatsAccess {
  /** The server's URL without credentials (a client using it is refused). */
  server: string;
  port: number;
  /** Kills the server, SIGKILL unless told (its store dir, port and passwords are kept for restart). */
  kill(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts it again on the same port, store dir and passwords. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

// nats-server runs in its own process group (scripts/lib/children.ts): kill it if the test process dies first.
const ownServers = new Set<RunningNats>();
process.on("exit", () => {
  for (const s of ownServers) s.child.proc.kill("SIGKILL");
});

/**
 * A nats-server with JetStream that only this test uses, so it can be
 * killed and restarted: the repository's nats/nats-server.conf, passwords of its own.
 */
export async function startOwnNats(): Promise<OwnNats> {
  const port = freePort();
  const dir = mkdtempSync(join(tmpdir(), "rim-own-nats-"));
  const passwords = randomPasswords();
  const server = `nats://127.0.0.1:${port}`;
  const access = natsAccess(server, passwords);
  let running: RunningNats | undefined;
  const up = async () => {
    running = await startNatsServer({ storeDir: dir, port, passwords });
    ownServers.add(running);
    // Accepting connections is not enough after a restart: wait until JetStream has recovered its store.
    await waitFor(
      async () => {
        const nc = await connect(access.options("admin", { reconnect: false, timeout: 500 }));
        try {
          await (await nc.jetstreamManager()).getAccountInfo();
        } finally {
          await nc.close();
        }
        return true;
      },
      15_000,
      "own nats-server with JetStream",
    );
  };
  const down = async (signal: "SIGKILL" | "SIGTERM") => {
    if (!running) return;
    const s = running;
    running = undefined;
    s.child.proc.kill(signal);
    await s.child.exited;
    ownServers.delete(s);
  };
  await up();
  return {
    ...access,
    server,
    port,
    kill: (signal = "SIGKILL") => down(signal),
    start: up,
    async stop() {
      await down("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
