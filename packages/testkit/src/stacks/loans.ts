/** The example loans API in-process behind a real guard, and requests to its predict route. */
import type { NatsConnection } from "nats";
import type { Topology } from "@riskinmind/contracts";
import { createMetrics } from "@riskinmind/runtime";
import { createGuard, type GuardOptions } from "@riskinmind/guard";
import { createLoansApp } from "@riskinmind/example-loans-api/src/app";
import { req, type Client, type Reply } from "../client";
import { goodLoan } from "../fixtures";
import { silentLog } from "../logs";

/** The example app with a fresh guard on `topology`, connected through `nc` (identity "guard"). */
export function loansApp(nc: NatsConnection, topology: Topology, options: Partial<GuardOptions> = {}) {
  const guard = createGuard({ nc, topology, log: silentLog, options });
  const app = createLoansApp({ log: silentLog, metrics: createMetrics("test-loans"), guard });
  return { guard, app };
}
export type LoansApp = ReturnType<typeof loansApp>;

export const PREDICT_PATH = "/api/v1/loans/predict";
export const PREDICT = `http://loans.test${PREDICT_PATH}`;

/** A predict Request for `app.handle` (no socket), with `headers` and a JSON body. */
export function predictRequest(headers: Record<string, string>, body: unknown = goodLoan): Request {
  return new Request(PREDICT, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** POST /api/v1/loans/predict on a running example with an API key in `x-api-key`. */
export function predict(example: Pick<Client, "url">, apiKey: string, timeoutMs = 5_000): Promise<Reply> {
  return req(`${example.url}${PREDICT_PATH}`, { method: "POST", headers: { "x-api-key": apiKey }, json: goodLoan, timeoutMs });
}
