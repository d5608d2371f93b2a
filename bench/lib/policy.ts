/** A bench key with every policy on, set through the real PATCH route (the limits high enough never to refuse). */
import { token } from "@riskinmind/testkit";
import { keyOwner } from "./keys";

export const BENCH_SCOPE = "bench:hello";

/** Every policy the guard enforces, none of which refuses the bench's calls from 127.0.0.1. */
export function allPolicies(scopes: string[] = [BENCH_SCOPE]) {
  return {
    expiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    scopes,
    ipAllowlist: ["127.0.0.1", "::1"],
    rateLimit: { limit: 1_000_000, windowSeconds: 1 },
    quota: { limit: 1_000_000_000, period: "month" },
  };
}

/** PATCH /api/v1/keys/ for bench key `i`'s owner; throws unless 200. */
export async function patchBenchKey(keysUrl: string, i: number, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${keysUrl}/api/v1/keys/`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${await token(keyOwner(i))}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`PATCH answered ${res.status}: ${await res.text()}`);
}
