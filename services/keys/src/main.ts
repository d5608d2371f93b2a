import { join } from "node:path";
import { runService } from "@riskinmind/runtime";
import { createKeysService } from "./app";
import { loadConfig } from "./env";

/** Composition root: the keys service's config, run the one way every service runs (runService). */
const config = loadConfig();
await runService({
  name: "keys",
  config,
  postgres: { url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX, migrations: { schema: "keys", dir: join(import.meta.dir, "..", "migrations") } },
  nats: { settings: config, identity: "keys" },
  build: ({ sql, nc, log, metrics }) => createKeysService({ sql, nc, log, metrics, config }),
});
