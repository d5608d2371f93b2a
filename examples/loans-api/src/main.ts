/**
 * Composition root of the EXAMPLE loans API, run the one way every service
 * runs (runService): no database; NATS as the "guard" user, as every service
 * mounting the guard connects. On SIGTERM/SIGINT the HTTP side stops first,
 * then stop() publishes the usage events still queued, then NATS drains.
 */
import { runService } from "@riskinmind/runtime";
import { createGuard } from "@riskinmind/guard";
import { createLoansApp, LOANS_SERVICE } from "./app";
import { loadEnv } from "./env";

const env = loadEnv();
await runService({
  name: LOANS_SERVICE,
  config: env,
  // NATS_URL carries the guard user's password.
  nats: { settings: env, identity: "guard" },
  build: ({ nc, log, metrics }) => {
    const guard = createGuard({ nc, topology: { prefix: env.NATS_SUBJECT_PREFIX, stream: env.USAGE_STREAM }, log });
    return {
      app: createLoansApp({ log, metrics, guard, nc, bodyTimeoutMs: env.BODY_TIMEOUT_MS }),
      async start() {},
      async stop() {
        // The last requests' after-response hooks queue their events on the next turn: let them, then publish everything queued.
        await new Promise((resolve) => setImmediate(resolve));
        await guard.close();
      },
    };
  },
});
