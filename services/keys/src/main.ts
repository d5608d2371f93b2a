import { join } from "node:path";
import { connectNats, createLogger, createMetrics, createSql, migrate, serve } from "@riskinmind/runtime";
import { createKeysService } from "./app";
import { loadConfig } from "./env";

/** Composition root: config, connections, migrations, the service, the socket, shutdown. */
const config = loadConfig();
const log = createLogger("keys", config.LOG_LEVEL);
const sql = createSql(config.DATABASE_URL, { max: config.DB_POOL_MAX });
await migrate(sql, "keys", join(import.meta.dir, "..", "migrations"));
const nc = await connectNats(config, "keys", "keys", log);
const service = createKeysService({ sql, nc, log, metrics: createMetrics("keys"), config });
await service.start();
const server = serve(service.app, { port: config.PORT, hostname: config.HOST });
log.info({ port: server.port, host: config.HOST }, "keys service listening");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  // Stop accepting, let in-flight requests finish, then close the back ends.
  await server.stop(false);
  await service.stop();
  await nc.drain().catch(() => {});
  await sql.end({ timeout: 5 });
  log.flush();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
