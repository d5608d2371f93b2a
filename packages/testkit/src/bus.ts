/** Requests a test sends on the bus itself, as a service would. */
import type { NatsConnection } from "nats";
import { hashKey, subjects, type Topology, type VerifyReply } from "@riskinmind/contracts";

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
