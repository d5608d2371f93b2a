/** Test data: usage events and the key ids they carry, the example's loan body, seeded randomness. */
import { createHash } from "node:crypto";
import type { UsageEvent } from "@riskinmind/contracts";

/** A valid body for the example's POST /api/v1/loans/predict. */
export const goodLoan = { amount: 20_000, termMonths: 36, annualIncome: 85_000, creditScore: 720 };

/** A key id (issued format) derived from the owner: the key a test owner's events carry by default. */
export function keyIdFor(ownerId: string): string {
  const b = createHash("sha256").update(ownerId).digest();
  const abc = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let id = "key_";
  for (let i = 0; i < 22; i++) id += abc[b[i]! % 62];
  return id;
}

/** A valid usage event (its key is the owner's, see keyIdFor; a fresh id); override any field. */
export function event(over: Partial<UsageEvent> & Record<string, unknown> = {}): UsageEvent {
  const ownerId = (over.ownerId as string | undefined) ?? "owner_a";
  return {
    id: crypto.randomUUID(),
    keyId: keyIdFor(ownerId),
    ownerId,
    endpoint: "/api/v1/loans/predict",
    method: "POST",
    statusCode: 200,
    timestamp: new Date().toISOString(),
    durationMs: 12.5,
    ...over,
  } as UsageEvent;
}

/** mulberry32: a tiny seeded PRNG, so fuzz runs repeat exactly. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
export type Prng = ReturnType<typeof prng>;

/** Runs `fn` over `items` with at most `limit` at once. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
