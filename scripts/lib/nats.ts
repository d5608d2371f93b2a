/**
 * nats-server with JetStream as a child process, for `bun run dev`, the test
 * runs and the tests that need a server of their own. It always runs the
 * repository's nats/nats-server.conf: one user per service identity, each
 * limited to its own subjects, no anonymous access. No npm package ships the
 * binary, so we look for the system's and explain how to install it when there is none.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { NatsIdentity } from "@riskinmind/contracts";
import { spawnManaged, type ManagedChild } from "./children";
import { canConnect } from "./ports";
import { ROOT } from "./services";

const SEARCH_DIRS = ["/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin", "/usr/bin"];

/** The checked-in server configuration (users, permissions, JetStream). */
export const NATS_CONFIG = join(ROOT, "nats", "nats-server.conf");
/** One node of a cluster: NATS_CONFIG included, plus routes from the environment (see the file). */
export const NATS_CLUSTER_CONFIG = join(ROOT, "nats", "cluster.conf");

/** A user of nats/nats-server.conf: a service identity, or `admin` (operators and tests). */
export type NatsUser = NatsIdentity | "admin";
export const NATS_USERS: readonly NatsUser[] = ["keys", "usage", "guard", "admin"];

/** One password per user of the configuration. */
export type NatsPasswords = Record<NatsUser, string>;

/** The environment variable nats/nats-server.conf reads each user's password from. */
export const PASSWORD_VAR: Record<NatsUser, string> = {
  keys: "NATS_KEYS_PASSWORD",
  usage: "NATS_USAGE_PASSWORD",
  guard: "NATS_GUARD_PASSWORD",
  admin: "NATS_ADMIN_PASSWORD",
};

/**
 * What a password may look like. nats-server parses the variable's value as a
 * config value, not as opaque text: one starting with a digit can be read as a
 * number or a date (and refused), a `#` starts a comment. A letter, then
 * letters and digits, is always read as the exact string, and is URL-safe.
 */
export const PASSWORD_PATTERN = /^[A-Za-z][A-Za-z0-9]{15,}$/;

/** Fresh random passwords (32 CSPRNG bytes each, as `p` + hex: see PASSWORD_PATTERN), for one run of a stack. */
export function randomPasswords(): NatsPasswords {
  const one = () => `p${randomBytes(32).toString("hex")}`;
  return { keys: one(), usage: one(), guard: one(), admin: one() };
}

/** `nats://user:pass@host:port` for `user` on the server at `url` (a URL without credentials). */
export function credentialUrl(url: string, user: NatsUser, passwords: NatsPasswords): string {
  const u = new URL(url);
  u.username = user;
  u.password = encodeURIComponent(passwords[user]);
  return u.toString().replace(/\/$/, "");
}

/** The one message shown when no nats-server is installed. */
export const NATS_INSTALL_HELP = [
  "nats-server was not found on PATH or in " + SEARCH_DIRS.join(", ") + ". Install it with one of:",
  "  Debian/Ubuntu: sudo apt-get install nats-server",
  "  macOS:         brew install nats-server",
  "  Docker:        docker run -p 4222:4222 nats:2 -js   (then set NATS_URL=nats://127.0.0.1:4222)",
].join("\n");

/** Path of the nats-server binary, or undefined when none is installed. */
export function findNatsServer(path = process.env.PATH ?? "", dirs: readonly string[] = SEARCH_DIRS): string | undefined {
  const onPath = Bun.which("nats-server", { PATH: path });
  if (onPath) return onPath;
  return dirs.map((d) => `${d}/nats-server`).find((p) => existsSync(p));
}

export interface RunningNats {
  /** The server's URL without credentials: a client using it is refused. */
  url: string;
  port: number;
  /** The passwords the server was started with (never print them). */
  passwords: NatsPasswords;
  /** `nats://user:pass@127.0.0.1:port` for one identity, what that service's NATS_URL should be. */
  urlFor(user: NatsUser): string;
  child: ManagedChild;
  /** Milliseconds from spawn to accepting connections. */
  startMs: number;
  stop(): Promise<void>;
}

/** What makes a server one node of a cluster (nats/cluster.conf). */
export interface ClusterNodeOptions {
  /** server_name: unique and stable per node (JetStream places replicas by it). */
  name: string;
  /** The port it listens on for routes from the other nodes (on 127.0.0.1). */
  routePort: number;
  /** Every node's route port, itself included. */
  routePorts: number[];
  /** The password of the `route` user every node accepts routes from and dials with. */
  routePassword: string;
}

export interface NatsOptions {
  /** JetStream store directory (created when missing). */
  storeDir: string;
  port: number;
  /** The users' passwords; fresh random ones when absent. Pass the same ones to restart a server its clients know. */
  passwords?: NatsPasswords;
  /** Prefix its log lines with [nats] on our stdout (dev); otherwise its output is dropped. */
  showLogs?: boolean;
  binary?: string;
  /** Run as one node of a loopback cluster (nats/cluster.conf) instead of a lone server. */
  cluster?: ClusterNodeOptions;
  /** Serve nats-server's monitoring endpoints (/connz, /jsz...) on 127.0.0.1:`monitorPort` (tests read who is connected where). */
  monitorPort?: number;
}

/** Spawns nats-server -c nats/nats-server.conf on 127.0.0.1:`port` and waits until it accepts connections. */
export async function startNatsServer(opts: NatsOptions): Promise<RunningNats> {
  const bin = opts.binary ?? findNatsServer();
  if (!bin) throw new Error(NATS_INSTALL_HELP);
  const storeDir = resolve(opts.storeDir);
  await mkdir(storeDir, { recursive: true });
  const passwords = opts.passwords ?? randomPasswords();
  for (const user of NATS_USERS) {
    if (!PASSWORD_PATTERN.test(passwords[user])) throw new Error(`${PASSWORD_VAR[user]} must be a letter then at least 15 letters or digits (nats-server reads it as a config value)`);
  }
  const env: Record<string, string | undefined> = { PATH: process.env.PATH };
  // The passwords reach the server through its environment only: never on its command line (visible in ps).
  for (const user of NATS_USERS) env[PASSWORD_VAR[user]] = passwords[user];
  const c = opts.cluster;
  if (c) {
    if (!PASSWORD_PATTERN.test(c.routePassword)) throw new Error("the route password must be a letter then at least 15 letters or digits (nats-server reads it as a config value)");
    env.NATS_CLUSTER_LISTEN = `127.0.0.1:${c.routePort}`;
    env.NATS_ROUTE_PASSWORD = c.routePassword;
    env.NATS_ROUTES = `[${c.routePorts.map((p) => `nats://route:${c.routePassword}@127.0.0.1:${p}`).join(", ")}]`;
  }
  const t = performance.now();
  // The last lines it wrote, to say why when it dies at start (it never logs a password).
  const lastLines: string[] = [];
  const child = spawnManaged({
    name: c ? `nats-${c.name}` : "nats",
    cmd: [
      bin,
      "-c",
      c ? NATS_CLUSTER_CONFIG : NATS_CONFIG,
      ...(c ? ["-n", c.name] : []),
      "-a",
      "127.0.0.1",
      "-p",
      String(opts.port),
      "-sd",
      storeDir,
      ...(opts.monitorPort ? ["-m", String(opts.monitorPort)] : []),
    ],
    env,
    output: opts.showLogs ? "prefixed" : "silent",
    onLine: (line) => void (lastLines.push(line) > 5 && lastLines.shift()),
  });
  const deadline = Date.now() + 10_000;
  let dead = false;
  void child.exited.then(() => (dead = true));
  while (!(await canConnect(opts.port))) {
    if (dead) throw new Error(`nats-server exited at start on port ${opts.port}:\n${lastLines.join("\n")}`);
    if (Date.now() > deadline) {
      await child.stop(1000);
      throw new Error(`nats-server did not accept connections on port ${opts.port} within 10 s`);
    }
    await Bun.sleep(20);
  }
  const url = `nats://127.0.0.1:${opts.port}`;
  return {
    url,
    port: opts.port,
    passwords,
    urlFor: (user) => credentialUrl(url, user, passwords),
    child,
    startMs: Math.round(performance.now() - t),
    async stop() {
      await child.stop(5_000);
    },
  };
}
