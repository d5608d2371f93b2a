/** Shared setup for the guard tests: a real NATS connection and the example app wired to a guard. */
import { connect, nanos, StorageType, type NatsConnection, type JetStreamManager } from "nats";
import type { Topology } from "@riskinmind/contracts";
import { createLogger, createMetrics } from "@riskinmind/runtime";
import { createGuard, type GuardOptions } from "@riskinmind/guard";
import { createLoansApp } from "../../examples/loans-api/src/app";
import { natsOptions, type NatsUser } from "../support/harness";

export const silentLog = createLogger("test-guard", "silent");

/** A connection to this run's NATS: "guard" for the guard under test, "admin" (default) for the test's own checks. */
export async function connectTestNats(user: NatsUser = "admin"): Promise<NatsConnection> {
  return connect(natsOptions(user, { name: `test-${user}` }));
}

/** The example app with a fresh guard on `topology`. */
export function buildLoans(nc: NatsConnection, topology: Topology, options: Partial<GuardOptions> = {}) {
  const guard = createGuard({ nc, topology, log: silentLog, options });
  const app = createLoansApp({ log: silentLog, metrics: createMetrics("test-loans"), guard });
  return { guard, app };
}

export const PREDICT = "http://loans.test/api/v1/loans/predict";
export const goodLoan = { amount: 20_000, termMonths: 36, annualIncome: 85_000, creditScore: 720 };

export function predictRequest(headers: Record<string, string>, body: unknown = goodLoan): Request {
  return new Request(PREDICT, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** Creates the usage stream the way the usage service does (file storage, a duplicate window). */
export async function createUsageStream(jsm: JetStreamManager, topology: Topology, subject: string): Promise<void> {
  await jsm.streams.add({ name: topology.stream, subjects: [subject], storage: StorageType.File, duplicate_window: nanos(120_000), max_age: nanos(3600_000) });
}

/** Every event in the stream, in order, with the message id that carried it. */
export async function readUsageEvents(nc: NatsConnection, stream: string): Promise<{ events: Record<string, unknown>[]; messages: { msgId: string | undefined; count: number }[] }> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const events: Record<string, unknown>[] = [];
  const messages: { msgId: string | undefined; count: number }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    const body = m.json<unknown>();
    const arr = Array.isArray(body) ? body : [body];
    events.push(...(arr as Record<string, unknown>[]));
    messages.push({ msgId: m.header?.get("Nats-Msg-Id") || undefined, count: arr.length });
  }
  return { events, messages };
}
