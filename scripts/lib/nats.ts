/**
 * nats-server with JetStream as a child process, for `bun run dev` and for
 * test runs without NATS_URL. No npm package ships the binary, so we look for
 * the system's and explain how to install it when there is none.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { spawnManaged, type ManagedChild } from "./children";
import { canConnect } from "./ports";

const SEARCH_DIRS = ["/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin", "/usr/bin"];

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
  url: string;
  port: number;
  child: ManagedChild;
  /** Milliseconds from spawn to accepting connections. */
  startMs: number;
  stop(): Promise<void>;
}

export interface NatsOptions {
  /** JetStream store directory (created when missing). */
  storeDir: string;
  port: number;
  /** Prefix its log lines with [nats] on our stdout (dev); otherwise its output is dropped. */
  showLogs?: boolean;
  binary?: string;
}

/** Spawns nats-server -js on 127.0.0.1:`port` and waits until it accepts connections. */
export async function startNatsServer(opts: NatsOptions): Promise<RunningNats> {
  const bin = opts.binary ?? findNatsServer();
  if (!bin) throw new Error(NATS_INSTALL_HELP);
  const storeDir = resolve(opts.storeDir);
  await mkdir(storeDir, { recursive: true });
  const t = performance.now();
  const child = spawnManaged({
    name: "nats",
    cmd: [bin, "-a", "127.0.0.1", "-p", String(opts.port), "-js", "-sd", storeDir],
    env: { PATH: process.env.PATH },
    output: opts.showLogs ? "prefixed" : "silent",
  });
  const deadline = Date.now() + 10_000;
  let dead = false;
  void child.exited.then(() => (dead = true));
  while (!(await canConnect(opts.port))) {
    if (dead) throw new Error(`nats-server exited at start (port ${opts.port} in use?)`);
    if (Date.now() > deadline) {
      await child.stop(1000);
      throw new Error(`nats-server did not accept connections on port ${opts.port} within 10 s`);
    }
    await Bun.sleep(20);
  }
  return {
    url: `nats://127.0.0.1:${opts.port}`,
    port: opts.port,
    child,
    startMs: Math.round(performance.now() - t),
    async stop() {
      await child.stop(5_000);
    },
  };
}
