/**
 * Processes under test: any command (spawnChild) or one of our services
 * (startService, healthy before it returns), always reaped when the test
 * process exits, with their output kept for assertions. Built on
 * scripts/lib/children.ts, the launcher `bun run dev`/`start` use.
 */
import { readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { keyStreamOf, type Topology } from "@riskinmind/contracts";
import { spawnManaged, waitHealthy } from "../../../scripts/lib/children";
import { EXAMPLE, KEYS, NATS_IDENTITY, ROOT, USAGE } from "../../../scripts/lib/services";
import { JWT_SECRET } from "./auth";
import type { TestDb } from "./db";
import { natsUrl, type NatsUser } from "./nats";

/** Our services' entry points, by name. */
export const ENTRY = { keys: KEYS.entry, usage: USAGE.entry, example: EXAMPLE.entry } as const;

/** The NATS identity each service connects as (the example is a guarded service). */
export const IDENTITY = NATS_IDENTITY;

/** The NATS identity each entry point connects as (the benchmark's guarded fixture included). */
export const ENTRY_IDENTITY: Record<string, NatsUser> = {
  [KEYS.entry]: NATS_IDENTITY.keys,
  [USAGE.entry]: NATS_IDENTITY.usage,
  [EXAMPLE.entry]: NATS_IDENTITY.example,
  "bench/fixtures/guarded.ts": "guard",
};

/**
 * Environment for a service process under test. NATS_URL carries `identity`'s
 * credentials on this run's server; startService() gives each entry point its
 * own identity's instead.
 */
export function serviceEnv(db: Pick<TestDb, "url">, topo: Topology, extra: Record<string, string> = {}, identity: NatsUser = "keys"): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/root",
    DATABASE_URL: db.url,
    NATS_URL: natsUrl(identity),
    NATS_SUBJECT_PREFIX: topo.prefix,
    USAGE_STREAM: topo.stream,
    KEY_EVENTS_STREAM: keyStreamOf(topo),
    JWT_SECRET,
    LOG_LEVEL: "warn",
    ...extra,
  };
}

/**
 * Environment for `bun run start`, which runs keys, usage and the example
 * side by side: NATS_URL is keys' and each other process gets its own
 * identity (usage with keys' user could not create its stream).
 */
export function startEnv(db: Pick<TestDb, "url">, topo: Topology, extra: Record<string, string> = {}): Record<string, string> {
  return { ...serviceEnv(db, topo), USAGE_NATS_URL: natsUrl("usage"), EXAMPLE_NATS_URL: natsUrl("guard"), ...extra };
}

const children = new Set<Subprocess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

export interface Child {
  proc: Subprocess;
  /** Resolves with the exit code once the process is gone and its output read. */
  exited: Promise<number>;
  /** Everything the process wrote, stdout and stderr, line by line. */
  output(): string;
  kill(signal?: NodeJS.Signals | number): Promise<number | null>;
}

/** Spawns a process (cwd: the repository root) that is killed at exit whatever happens; output is kept for assertions. */
export function spawnChild(cmd: string[], env: Record<string, string>, cwd = ROOT): Child {
  const lines: string[] = [];
  const managed = spawnManaged({ name: cmd.join(" "), cmd, env, cwd, output: "silent", onLine: (l) => void lines.push(l) });
  const proc = managed.proc;
  children.add(proc);
  void managed.exited.then(() => children.delete(proc));
  return {
    proc,
    exited: managed.exited,
    output: () => lines.join("\n"),
    async kill(signal = "SIGTERM") {
      proc.kill(signal);
      return managed.exited;
    },
  };
}

/**
 * An env whose NATS_URL points at this run's server, switched to `entry`'s
 * own identity (a service never runs with another's rights); a NATS_URL
 * elsewhere (a server of the test's own, a deliberately wrong one) is kept.
 */
function withOwnIdentity(entry: string, env: Record<string, string>): Record<string, string> {
  const who = ENTRY_IDENTITY[entry];
  const server = process.env.RIM_TEST_NATS_SERVER;
  if (!who || !server || !env.NATS_URL || !URL.canParse(env.NATS_URL)) return env;
  if (new URL(env.NATS_URL).host !== new URL(server).host) return env;
  return { ...env, NATS_URL: natsUrl(who) };
}

/** Spawns a service (connecting as its own NATS identity) and waits until its `GET /health` answers 200. */
export async function startService(entry: string, env: Record<string, string>, port: number, timeoutMs = 15_000): Promise<Child> {
  const child = spawnChild(["bun", entry], { ...withOwnIdentity(entry, env), PORT: String(port) });
  try {
    await waitHealthy(`http://127.0.0.1:${port}/health`, { name: entry, proc: child.proc, exited: child.exited, stop: async () => child.exited }, timeoutMs);
  } catch (e) {
    await child.kill("SIGKILL");
    throw new Error(`${entry} did not become healthy: ${(e as Error).message}\n${child.output()}`);
  }
  return child;
}

/** Resident memory of a process in kB, from /proc/<pid>/status. */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}
