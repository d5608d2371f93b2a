/**
 * `bun run dev`: the whole product on one machine with nothing to configure.
 * Without DATABASE_URL / NATS_URL it runs an embedded Postgres and a
 * nats-server child with their data under DATA_DIR (default ./.data; as root
 * in a private directory the Postgres data goes elsewhere, see
 * lib/dev-pg-dir.ts), then the
 * keys service, the usage service and the example protected API, and prints
 * the URLs, a development token and the curl walkthrough. SIGINT/SIGTERM stop
 * every child (services first, then NATS and Postgres) and exit 0.
 */
import { join, relative, resolve } from "node:path";
import { mkdir } from "node:fs/promises";
import { writeSync } from "node:fs";
import { parseDevEnv } from "./lib/dev-env";
import { chooseJwtSecret, DEV_SECRET_WARNING } from "./lib/dev-secret";
import { signToken } from "./lib/jwt";
import { startEmbeddedPostgres, type RunningPostgres } from "./lib/postgres";
import { devPostgresDir } from "./lib/dev-pg-dir";
import { findNatsServer, NATS_INSTALL_HELP, startNatsServer, type RunningNats } from "./lib/nats";
import { isPortFree, preferredOrFreePort } from "./lib/ports";
import { spawnManaged, waitHealthy, type ManagedChild } from "./lib/children";
import { EXAMPLE, KEYS, NATS_IDENTITY, ROOT, USAGE, type ServiceDef } from "./lib/services";
import { readyBanner } from "./lib/banner";

/** Synchronous, so the last lines before process.exit are not lost on a TTY; a closed stdout is ignored. */
const say = (msg: string) => {
  try {
    writeSync(1, `[dev] ${msg}\n`);
  } catch {
    // stdout is gone (terminal closed); keep stopping anyway
  }
};
const fail = (msg: string): never => {
  process.stderr.write(`[dev] ${msg}\n`);
  process.exit(1);
};

// Everything that can refuse to start is checked before anything is started.
const env = parseDevEnv();
const secret = chooseJwtSecret(process.env);
if (!secret.ok) fail(secret.message);
const jwtSecret = (secret as { secret: string }).secret;
if (env.NATS_URL === undefined && !findNatsServer()) fail(NATS_INSTALL_HELP);
const services: Array<[ServiceDef, number]> = [
  [KEYS, env.KEYS_PORT],
  [USAGE, env.USAGE_PORT],
  [EXAMPLE, env.EXAMPLE_PORT],
];
for (const [svc, port] of services) {
  if (!(await isPortFree(port))) fail(`port ${port} (${svc.name}) is in use; stop what holds it or set ${svc.name.toUpperCase()}_PORT`);
}
if (secret.ok && secret.isDev) process.stderr.write(`[dev] ${DEV_SECRET_WARNING}\n`);

let pg: RunningPostgres | undefined;
let nats: RunningNats | undefined;
const children: ManagedChild[] = [];
let stopping: Promise<never> | undefined;

/** Stops the services (they drain into NATS and Postgres), then NATS, then Postgres; exits with `code`. */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    say("stopping...");
    await Promise.all(children.map((c) => c.stop(10_000)));
    await nats?.stop().catch((e) => say(`nats-server: ${(e as Error).message}`));
    await pg?.stop().catch((e) => say(`postgres: ${(e as Error).message}`));
    say("stopped");
    process.exit(code);
  })();
  return stopping;
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => void shutdown(0));
// A closed terminal or pipe (`bun run dev | tee`, Ctrl-C kills tee too) must not abort the orderly stop.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

/** Runs a start-up step; a failure (or a signal meanwhile) stops what is already running. */
async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    const value = await run();
    if (stopping) await stopping;
    return value;
  } catch (e) {
    if (stopping) await stopping;
    say(`${what} failed: ${(e as Error).message}`);
    return shutdown(1);
  }
}

// Relative to the repository, so `bun scripts/dev.ts` from another directory finds the same data.
const dataDir = resolve(ROOT, env.DATA_DIR);
await mkdir(dataDir, { recursive: true, mode: 0o755 });
const shown = (p: string) => (relative(process.cwd(), p).startsWith("..") ? p : relative(process.cwd(), p) || ".");

let databaseUrl = env.DATABASE_URL;
if (databaseUrl === undefined) {
  const port = await preferredOrFreePort(env.PG_PORT);
  pg = await step("embedded Postgres", async () => {
    const where = await devPostgresDir(dataDir);
    if (where.note) say(where.note);
    return startEmbeddedPostgres({
      dir: where.dir,
      port,
      onLog: (line) => {
        // Only real trouble, and not the connection ends of our own shutdown (a terminal Ctrl-C reaches Postgres too).
        const trouble = /\b(FATAL|PANIC)\b/.test(line) && !stopping;
        if (env.LOG_LEVEL === "debug" || env.LOG_LEVEL === "trace" || trouble) process.stdout.write(`[postgres] ${line}\n`);
      },
    });
  });
  databaseUrl = pg.url;
  const how = pg.initialised ? `initialised in ${pg.timings.initdbMs} ms and started` : "started on existing data";
  say(`embedded Postgres ${how} in ${pg.timings.startMs} ms on port ${port} (data in ${shown(pg.dir)})`);
}

// Our nats-server runs nats/nats-server.conf with passwords made for this run
// (never printed): each service connects as its own identity, so the dev stack
// has the production permissions. A NATS_URL of the user's own serves every service as given.
let natsUrlFor: (svc: ServiceDef) => string | undefined = () => env.NATS_URL;
if (env.NATS_URL === undefined) {
  const port = await preferredOrFreePort(env.NATS_PORT);
  const running = await step("nats-server", () => startNatsServer({ storeDir: join(dataDir, "nats"), port, showLogs: env.LOG_LEVEL === "debug" || env.LOG_LEVEL === "trace" }));
  nats = running;
  natsUrlFor = (svc) => running.urlFor(NATS_IDENTITY[svc.name]);
  say(`nats-server with JetStream started in ${running.startMs} ms on port ${port} (data in ${shown(join(dataDir, "nats"))})`);
}

const childEnv = (svc: ServiceDef, port: number): Record<string, string | undefined> => ({
  ...process.env,
  DATABASE_URL: databaseUrl,
  NATS_URL: natsUrlFor(svc),
  JWT_SECRET: jwtSecret,
  PORT: String(port),
  LOG_LEVEL: env.LOG_LEVEL,
  HOST: env.HOST,
  // Development: a webhook receiver on this machine (http://127.0.0.1:…) is the usual first test; production refuses it.
  WEBHOOK_ALLOW_PRIVATE_TARGETS: process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS ?? "true",
});

for (const [svc, port] of services) {
  const child = spawnManaged({ name: svc.name, cmd: [process.execPath, svc.entry], env: childEnv(svc, port), cwd: ROOT, output: "prefixed" });
  children.push(child);
  void child.exited.then((code) => {
    if (stopping) return;
    say(`${svc.name} exited with code ${code}; stopping the dev stack`);
    void shutdown(1);
  });
}
const url = (port: number) => `http://127.0.0.1:${port}`;
await step("waiting for /health", () => Promise.all(services.map(([svc, port], i) => waitHealthy(`${url(port)}/health`, children[i], 60_000).then(() => say(`${svc.name} is healthy`)))));

const tokenSub = "dev-owner";
const token = await signToken(jwtSecret, tokenSub, 24 * 3600);
process.stdout.write(
  readyBanner({
    keysUrl: url(env.KEYS_PORT),
    usageUrl: url(env.USAGE_PORT),
    exampleUrl: url(env.EXAMPLE_PORT),
    postgres: pg ? `embedded, ${pg.url.replace(/:[^:@/]+@/, ":***@")}` : "from DATABASE_URL",
    nats: nats ? `nats-server child, ${nats.url} (nats/nats-server.conf: keys, usage and the example each as its own user)` : "from NATS_URL",
    token,
    tokenSub,
  }),
);
