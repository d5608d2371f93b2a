/** What the guard's policy tests share: issuing a key with a policy, and reading a refusal. */
import { expect } from "bun:test";
import type { GenerateBody, KeyMode } from "@riskinmind/contracts";
import { type Client, isEnvelope, newOwner, type Reply } from "@riskinmind/testkit";

export type Owner = Awaited<ReturnType<typeof newOwner>>;

/** A fresh owner's key of `mode` with `policy`, minted at runtime through the keys edge. */
export async function keyWith(keys: Client, policy: GenerateBody = {}, mode: KeyMode = "live", owner?: Owner): Promise<{ apiKey: string; keyId: string; owner: Owner }> {
  const o = owner ?? (await newOwner());
  const r = await keys.call("POST", `/api/v1/keys/generate${mode === "test" ? "?mode=test" : ""}`, { headers: o.headers, json: policy });
  if (r.status !== 201) throw new Error(`generate failed: ${r.status} ${r.text}`);
  return { apiKey: r.body.data.apiKey, keyId: r.body.data.keyId, owner: o };
}

/** PATCH the owner's current key. */
export async function patchKey(keys: Client, owner: Owner, body: Record<string, unknown>, mode: KeyMode = "live"): Promise<Reply> {
  const r = await keys.call("PATCH", `/api/v1/keys/${mode === "test" ? "?mode=test" : ""}`, { headers: owner.headers, json: body });
  expect(r.status).toBe(200);
  return r;
}

/** The answer is the error envelope with `code` and `status`, and the key appears nowhere in it. */
export function expectRefusal(r: Reply, status: number, code: string, apiKey?: string): void {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(isEnvelope(r.body)).toBe(true);
  if (apiKey !== undefined) expect(r.text).not.toContain(apiKey);
}

export const RATE_HEADERS = ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] as const;

/** The RateLimit-* headers of an answer, as numbers (undefined when absent). */
export function rateHeadersOf(r: Reply): Record<(typeof RATE_HEADERS)[number], number | undefined> {
  const get = (h: string) => {
    const v = r.headers.get(h);
    return v === null ? undefined : Number(v);
  };
  return { "ratelimit-limit": get("ratelimit-limit"), "ratelimit-remaining": get("ratelimit-remaining"), "ratelimit-reset": get("ratelimit-reset") };
}

export function expectNoRateHeaders(r: Reply): void {
  for (const h of RATE_HEADERS) expect({ h, v: r.headers.get(h) }).toEqual({ h, v: null });
}
