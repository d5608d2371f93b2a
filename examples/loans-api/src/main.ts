/**
 * Composition root of the EXAMPLE loans API: builds the logger, NATS
 * connection and guard, serves HTTP, and on SIGTERM/SIGINT stops taking
 * requests, flushes the usage events still queued, then drains NATS.
 */
import { connectNats, createLogger, createMetrics, serve, watchNatsStatus } from "@riskinmind/runtime";
import { createGuard } from "@riskinmind/guard";
import { createLoansApp } from "./app";
import { loadEnv } from "./env";

const env = loadEnv();
const log = createLogger("example-loans-api", env.LOG_LEVEL);
const metrics = createMetrics("example-loans-api");
// Every service mounting the guard connects as the "guard" identity: NATS_URL carries that user's password.
const nc = await connectNats(env, "guard", "example-loans-api", log);
const topology = { prefix: env.NATS_SUBJECT_PREFIX, stream: env.USAGE_STREAM };
const guard = createGuard({ nc, topology, log });
const natsStatus = watchNatsStatus(nc);
const app = createLoansApp({ log, metrics, guard, natsUp: natsStatus.up, bodyTimeoutMs: env.BODY_TIMEOUT_MS });
const server = serve(app, { port: env.PORT, hostname: env.HOST });
log.info({ port: server.port, host: env.HOST }, "example loans api listening");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  // In-flight requests finish; their usage events are queued before the flush below.
  await server.stop(false);
  await new Promise((r) => setImmediate(r)); // let the last after-response hooks queue their events
  natsStatus.stop();
  await guard.close();
  await nc.drain().catch(() => {});
  log.flush?.();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
