import { createHmac } from "node:crypto";

/**
 * Standard Webhooks signature headers of one delivery: the HMAC-SHA256, keyed
 * with the secret's bytes, of `${id}.${timestamp}.${body}`, as `v1,<base64>`.
 * The timestamp (unix seconds) is signed too, so a receiver can refuse a
 * replay of an old delivery.
 */
export function signatureHeaders(secret: Uint8Array, id: string, timestampS: number, body: string): Record<string, string> {
  const mac = createHmac("sha256", secret).update(`${id}.${timestampS}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": String(timestampS), "webhook-signature": `v1,${mac}` };
}
