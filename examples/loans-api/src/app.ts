import { Elysia } from "elysia";
import { errorResponse, httpBasics, type Logger, type Metrics } from "@riskinmind/runtime";
import type { Guard } from "@riskinmind/guard";
import { predict, PredictBody } from "./model";

export interface LoansAppDeps {
  log: Logger;
  metrics: Metrics;
  guard: Guard;
  /** Whether the NATS connection the guard uses is up (for /ready); assumed up when absent. */
  natsUp?: () => boolean;
  /** BODY_TIMEOUT_MS: how long a request body may take to arrive (408 after). */
  bodyTimeoutMs?: number;
}

/**
 * EXAMPLE protected service, not part of the product: shows how any
 * RiskInMind API mounts the guard. Routes before `.use(guard.plugin)` are
 * public; routes after it need an API key and are metered.
 */
export function createLoansApp({ log, metrics, guard, natsUp = () => true, bodyTimeoutMs }: LoansAppDeps) {
  return (
    new Elysia({ normalize: false })
      // Every route with a body is guarded: the key is checked before the body is read.
      .use(httpBasics({ log, metrics, bodyTimeoutMs, beforeBody: guard.beforeBody }))
      .get("/health", () => ({ status: "ok" }))
      .get("/ready", ({ requestId }) => (natsUp() ? { status: "ready" } : errorResponse("VERIFY_UNAVAILABLE", "NATS is unreachable: API keys cannot be verified.", requestId)))
      .get("/metrics", async () => new Response(await metrics.registry.metrics(), { headers: { "content-type": metrics.registry.contentType } }))
      .use(guard.plugin)
      .post("/api/v1/loans/predict", ({ body, apiKey }) => ({ success: true as const, data: { ...predict(body), keyId: apiKey.keyId } }), { body: PredictBody })
  );
}
export type LoansApp = ReturnType<typeof createLoansApp>;
