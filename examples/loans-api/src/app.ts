import { Elysia } from "elysia";
import type { NatsConnection } from "nats";
import { httpBasics, opsRoutes, type Logger, type Metrics } from "@riskinmind/runtime";
import type { Guard } from "@riskinmind/guard";
import { predict, PredictBody, sandboxPredict } from "./model";

/** The scope a key needs to call predict (a key with "*", the default, has it). */
export const PREDICT_SCOPE = "loans:predict";

/** The example's name in its logs, metrics and /health. */
export const LOANS_SERVICE = "example-loans-api";

export interface LoansAppDeps {
  log: Logger;
  metrics: Metrics;
  guard: Guard;
  /** The NATS connection the guard uses, checked by /ready (nothing is checked when absent). */
  nc?: NatsConnection;
  /** BODY_TIMEOUT_MS: how long a request body may take to arrive (408 after). */
  bodyTimeoutMs?: number;
}

/**
 * EXAMPLE protected service, not part of the product: shows how any
 * RiskInMind API mounts the guard. Routes before `.use(guard.plugin)` are
 * public; routes after it need an API key and are metered. A route names
 * the scope it needs (`apiKey: { scope }`, optionally a `cost` in units).
 */
export function createLoansApp({ log, metrics, guard, nc, bodyTimeoutMs }: LoansAppDeps) {
  return (
    new Elysia({ normalize: false })
      // Every route with a body is guarded: the key is checked before the body is read.
      .use(httpBasics({ log, metrics, bodyTimeoutMs, beforeBody: guard.beforeBody }))
      .use(opsRoutes({ service: LOANS_SERVICE, metrics, nc }))
      .use(guard.plugin)
      // Test keys get the deterministic sandbox answer: integrations can be built without a live key.
      .post("/api/v1/loans/predict", ({ body, apiKey }) => ({ success: true as const, data: { ...(apiKey.mode === "test" ? sandboxPredict(body) : predict(body)), keyId: apiKey.keyId } }), {
        body: PredictBody,
        apiKey: { scope: PREDICT_SCOPE },
      })
  );
}
export type LoansApp = ReturnType<typeof createLoansApp>;
