/** The example loans API in-process behind a real guard, and requests to its predict route. */
import type { NatsConnection } from "nats";
import { subjects, type Topology } from "@riskinmind/contracts";
import { createMetrics } from "@riskinmind/runtime";
import { createGuard, type GuardOptions } from "@riskinmind/guard";
import { createLoansApp } from "@riskinmind/example-loans-api/src/app";
import { client, req, type Client, type Reply } from "../client";
import { goodLoan } from "../fixtures";
import { silentLog } from "../logs";
import { connectTestNats, testTopology } from "../nats";

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

/** The example behind a guard with no keys service at all: what the guard decides alone, or with deliberately broken responders. */
export interface LoansStack {
  /** The guard's connection (its own identity). */
  guardNc: NatsConnection;
  /** The test side's (admin): spies and deliberately broken responders. */
  nc: NatsConnection;
  topo: Topology;
  loans: LoansApp;
  /** The example answered in-process (app.handle). */
  example: Client;
  /** Requests seen on keys.verify so far, by a listener (not a responder). */
  verifyRequestsSeen(): number;
  close(): Promise<void>;
}

export async function loansStack(options: Partial<GuardOptions> = {}): Promise<LoansStack> {
  const guardNc = await connectTestNats("guard");
  const nc = await connectTestNats();
  const topo = testTopology();
  const loans = loansApp(guardNc, topo, options);
  let seen = 0;
  const spy = nc.subscribe(subjects(topo).verify, { callback: () => seen++ });
  await nc.flush();
  return {
    guardNc,
    nc,
    topo,
    loans,
    example: client(loans.app),
    verifyRequestsSeen: () => seen,
    async close() {
      spy.unsubscribe();
      await loans.guard.close();
      await guardNc.close();
      await nc.close();
    },
  };
}

/** POST /api/v1/loans/predict on `example` with any headers and body (a loan by default): the raw form for guard tests. */
export function predictWith(example: Pick<Client, "call">, headers: Record<string, string>, body: unknown = goodLoan): Promise<Reply> {
  return example.call("POST", PREDICT_PATH, { headers, json: body });
}
