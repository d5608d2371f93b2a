/**
 * Webhook test pieces: a real HTTP receiver (Bun.serve on 127.0.0.1) that
 * records what arrives, key events published onto the stream exactly as the
 * outbox publishes them, an independent Standard Webhooks verifier, and the
 * settings that make retries short.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { NatsConnection } from "nats";
import { eventSubjectToken, keyEventSubject, type KeyEvent, type KeyEventType, type KeyMode, type Topology } from "@riskinmind/contracts";
import type { Client } from "@riskinmind/testkit";

/** Private targets allowed (the receivers are on loopback), retries after 50, 100, 200 ms, a poll of 50 ms. */
export const FAST_WEBHOOKS = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
  WEBHOOK_RETRY_SCHEDULE_MS: "50,100,200",
  WEBHOOK_POLL_MS: "50",
  WEBHOOK_TIMEOUT_MS: "5000",
};

export interface Received {
  headers: Record<string, string>;
  body: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  stop(): void;
}

/** A receiver answering with `answer(n)` for its n-th request (0-based); 200 by default. */
export function receiver(answer: (n: number, r: Received) => Response | Promise<Response> = () => new Response("ok")): Receiver {
  const received: Received[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const r = { headers: Object.fromEntries(req.headers), body: await req.text() };
      const n = received.push(r) - 1;
      return answer(n, r);
    },
  });
  return { url: `http://127.0.0.1:${server.port}/hook`, received, stop: () => void server.stop(true) };
}

/** A key event as recordChange builds it. */
export function keyEvent(ownerId: string, type: KeyEventType = "key.created", mode: KeyMode = "live"): KeyEvent {
  return {
    id: `evt_${randomUUID().replaceAll("-", "")}`,
    type,
    timestamp: new Date().toISOString(),
    data: { ownerId, keyId: `key_${randomUUID().slice(0, 8)}`, mode, action: "key.generated", actor: { type: "owner", id: ownerId }, changes: {} },
  };
}

/** Publishes onto the key-events stream as the outbox does: subject per type, message id = event id. */
export async function publishEvent(nc: NatsConnection, topo: Topology, ev: KeyEvent): Promise<void> {
  await nc.jetstream().publish(keyEventSubject(topo, eventSubjectToken(ev.type)), JSON.stringify(ev), { msgID: ev.id });
}

/** The Standard Webhooks check, written here from the spec, not from the service's code. */
export function verifySignature(secret: string, h: Record<string, string>, body: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${h["webhook-id"]}.${h["webhook-timestamp"]}.${body}`).digest("base64");
  return (h["webhook-signature"] ?? "").split(" ").some((s) => s === `v1,${expected}`);
}

export async function register(keys: Client, owner: { headers: Record<string, string> }, body: Record<string, unknown>) {
  return keys.call("POST", "/api/v1/keys/webhooks", { headers: owner.headers, json: body });
}

export async function deliveries(keys: Client, owner: { headers: Record<string, string> }, id: string, query = "") {
  return keys.call("GET", `/api/v1/keys/webhooks/${id}/deliveries${query}`, { headers: owner.headers });
}
