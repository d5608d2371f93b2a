/**
 * The processes under test. Services run as child processes, as in
 * production: the requester/load generator's CPU stays separate and
 * measurable, and the echo/hello baselines are one process each too
 * (same number of processes on both sides of every ratio).
 */
import type { Topology } from "@riskinmind/contracts";
import { type Child, ENTRY, freePort, serviceEnv as kitServiceEnv, spawnChild, startService, waitFor } from "@riskinmind/testkit";

export interface Proc {
  child: Child;
  port: number;
  url: string;
}

/** The services' environment: the tests' own (@riskinmind/testkit serviceEnv), on the bench's database. */
export function serviceEnv(dbUrl: string, topo: Topology, extra: Record<string, string> = {}): Record<string, string> {
  natsUrl();
  return kitServiceEnv({ url: dbUrl }, topo, extra);
}

/** The bench runs without the test preload, so it defaults to the machine's NATS. */
export function natsUrl(): string {
  return (process.env.NATS_URL ??= "nats://127.0.0.1:4222");
}

async function start(entry: string, env: Record<string, string>): Promise<Proc> {
  const port = freePort();
  const child = await startService(entry, env, port, 30_000);
  return { child, port, url: `http://127.0.0.1:${port}` };
}

export const startKeys = (env: Record<string, string>) => start(ENTRY.keys, env);
export const startUsage = (env: Record<string, string>) => start(ENTRY.usage, env);
export const startHello = (env: Record<string, string>) => start("bench/fixtures/hello.ts", env);
export const startGuarded = (env: Record<string, string>) => start("bench/fixtures/guarded.ts", env);

/** The echo responder on `subject`; ready once it prints so. */
export async function startEcho(env: Record<string, string>, subject: string): Promise<Child> {
  const child = spawnChild(["bun", "bench/fixtures/echo.ts"], { ...env, ECHO_SUBJECT: subject });
  await waitFor(() => child.output().includes("ready"), 15_000, "echo responder");
  return child;
}
