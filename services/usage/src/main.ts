import { join } from "node:path";
import { runService } from "@riskinmind/runtime";
import { createUsageService } from "./app";
import { loadUsageConfig } from "./env";

/**
 * Composition root of the usage service: its config, run the one way every
 * service runs (runService). On SIGTERM/SIGINT the service's stop() stops
 * pulling and commits and acks the batch in hand before NATS is drained.
 */
const config = loadUsageConfig();
await runService({
  name: "usage",
  config,
  postgres: { url: config.DATABASE_URL, readUrl: config.DATABASE_READ_URL, poolMax: config.DB_POOL_MAX, migrations: { schema: "usage", dir: join(import.meta.dir, "..", "migrations") } },
  nats: { settings: config, identity: "usage" },
  build: ({ sql, readSql, nc, log, metrics }) => createUsageService({ sql, readSql, nc, log, metrics, config }),
});
