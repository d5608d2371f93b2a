/** The bus from the test side: requests a test sends as a service would, and stand-in responders. */
import type { NatsConnection } from "nats";
import { hashKey, QUEUE, subjects, type LogsQueryReply, type LogsQueryRequest, type Topology, type VerifyReply } from "@riskinmind/contracts";

/**
 * keys.verify about `apiKey`, parsed. The key is sent as its SHA-256, the
 * way the guard sends it (the key itself never goes on the bus); `raw`
 * sends a payload as is instead.
 */
export async function verifyKey(nc: NatsConnection, topo: Topology, apiKey: string | undefined, raw?: Uint8Array | string): Promise<VerifyReply & Record<string, any>> {
  if (raw === undefined && apiKey === undefined) throw new Error("verifyKey: a key or a raw payload");
  const payload = raw ?? JSON.stringify({ keyHash: hashKey(apiKey!).toString("hex") });
  const msg = await nc.request(subjects(topo).verify, typeof payload === "string" ? new TextEncoder().encode(payload) : payload, { timeout: 5_000 });
  return JSON.parse(new TextDecoder().decode(msg.data));
}

/** A stand-in usage responder on usage.logs.query: what the keys edge asked, and how to take it away. */
export interface LogsResponder {
  /** Every request it received, parsed. */
  seen: LogsQueryRequest[];
  stop(): void;
}

/**
 * Answers usage.logs.query (queue group of the usage service) with `reply`
 * for each request, so the edge's mapping can be checked without a usage
 * service; a string reply is sent as is (a broken responder). Ready on return.
 */
export async function fakeLogsResponder(nc: NatsConnection, topo: Topology, reply: (req: LogsQueryRequest) => LogsQueryReply | string): Promise<LogsResponder> {
  const seen: LogsQueryRequest[] = [];
  const sub = nc.subscribe(subjects(topo).logsQuery, {
    queue: QUEUE.usage,
    callback: (_e, m) => {
      const req = JSON.parse(new TextDecoder().decode(m.data)) as LogsQueryRequest;
      seen.push(req);
      const r = reply(req);
      m.respond(new TextEncoder().encode(typeof r === "string" ? r : JSON.stringify(r)));
    },
  });
  // The subscription must reach the server before the edge asks.
  await nc.flush();
  return { seen, stop: () => sub.unsubscribe() };
}
