/**
 * Composition root of the usage service: config, logger, Postgres, NATS,
 * then the service; SIGTERM/SIGINT stop it without losing the batch in hand.
 */
import { connectNats, createLogger, createMetrics, createSql, migrate, serve, errFields } from "@riskinmind/runtime";
import { createUsageService } from "./app";
import { loadUsageConfig } from "./env";

const config = loadUsageConfig();
const log = createLogger("usage", config.LOG_LEVEL);
const sql = createSql(config.DATABASE_URL, { max: config.DB_POOL_MAX });
await migrate(sql, "usage", `${import.meta.dir}/../migrations`);
const nc = await connectNats(config, "usage", "usage", log);
const metrics = createMetrics("usage");
const service = createUsageService({ sql, nc, log, metrics, config });
await service.start();
const server = serve(service.app, { port: config.PORT, hostname: config.HOST });
log.info({ port: config.PORT }, "usage service listening");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping");
  const hardStop = setTimeout(() => {
    log.error("shutdown took too long; exiting");
    process.exit(1);
  }, 20_000);
  try {
    // Stop pulling, commit and ack the batch in hand, stop answering queries.
    await service.stop();
    await nc.drain();
    await server.stop();
    await sql.end({ timeout: 5 });
  } catch (err) {
    log.error({ ...errFields(err) }, "error during shutdown");
  }
  clearTimeout(hardStop);
  log.flush();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
