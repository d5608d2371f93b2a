import type { Topology } from "@riskinmind/contracts";
import type { Logger, Sql } from "@riskinmind/runtime";
import type { NatsConnection } from "nats";
import type { KeysConfig } from "../env";
import { WebhookDispatcher } from "./dispatcher";
import { secretBoxFor } from "./secret-box";
import { DeliveryWorker } from "./worker";

/**
 * Webhooks in a keys replica: the dispatcher (key-events stream → delivery
 * rows) and the delivery loop (rows → HTTP). Every replica runs both; they
 * share the durable consumer and the rows (skip locked).
 */
export function createWebhooks(d: { sql: Sql; nc: NatsConnection; log: Logger; config: KeysConfig; topo: Topology }) {
  const box = secretBoxFor(d.config);
  if (box === undefined) {
    return {
      worker: undefined,
      async start(): Promise<void> {
        d.log.info("webhooks off: set WEBHOOK_SECRETS_KEY (or JWT_SECRET) to encrypt their signing secrets");
      },
      async stop(): Promise<void> {},
    };
  }
  const worker = new DeliveryWorker(
    { sql: d.sql, log: d.log, box },
    {
      scheduleMs: d.config.WEBHOOK_RETRY_SCHEDULE_MS,
      timeoutMs: d.config.WEBHOOK_TIMEOUT_MS,
      concurrency: d.config.WEBHOOK_CONCURRENCY,
      pollMs: d.config.WEBHOOK_POLL_MS,
      allowPrivate: d.config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    },
  );
  const dispatcher = new WebhookDispatcher({ nc: d.nc, sql: d.sql, log: d.log, topo: d.topo, worker, maxAgeHours: d.config.KEY_EVENTS_MAX_AGE_HOURS, replicas: d.config.NATS_STREAM_REPLICAS });
  return {
    worker,
    async start(): Promise<void> {
      await dispatcher.start();
      worker.start();
    },
    async stop(): Promise<void> {
      await dispatcher.stop();
      await worker.stop();
    },
  };
}
