/**
 * The per-owner limits, on an injected clock: the token bucket's window edges
 * and Retry-After, and the cap on concurrent requests (settled by hand, no timers).
 */
import { describe, expect, test } from "bun:test";
import { AppError } from "@riskinmind/contracts";
import { createInFlightLimit, createRateLimiter } from "./ratelimit";

/** The AppError `fn` throws, or undefined when it passes. */
const refusal = (fn: () => void): AppError | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
};

describe("rate limiter (token bucket)", () => {
  test("a new owner has the whole minute's allowance at once; one more is a 429 RATE_LIMITED with Retry-After", () => {
    const limit = createRateLimiter(60, () => 0);
    for (let i = 0; i < 60; i++) expect(refusal(() => limit.take("o"))).toBeUndefined();
    const e = refusal(() => limit.take("o"));
    expect(e?.code).toBe("RATE_LIMITED");
    expect(e?.status).toBe(429);
    // 60 a minute is one a second: the next token is a full second away.
    expect(e?.headers).toEqual({ "retry-after": "1" });
    expect(e?.message).toBe("Too many key changes; retry in 1 s.");
  });

  test("window edge: the next token arrives exactly one refill period later, not a millisecond sooner", () => {
    let now = 0;
    const limit = createRateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) limit.take("o");
    now = 999;
    expect(refusal(() => limit.take("o"))?.code).toBe("RATE_LIMITED");
    now = 1_000;
    expect(refusal(() => limit.take("o"))).toBeUndefined();
    expect(refusal(() => limit.take("o"))?.code).toBe("RATE_LIMITED");
  });

  test("refusals take no token: refused attempts do not push the next token further away", () => {
    let now = 0;
    const limit = createRateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) limit.take("o");
    for (now = 0; now < 1_000; now += 100) expect(refusal(() => limit.take("o"))).toBeDefined();
    // Ten refusals each added a tenth of a token in floating point, which may
    // fall a rounding error short at 1000 ms exactly; a limiter that charged
    // refusals would still owe ten seconds here.
    now = 1_001;
    expect(refusal(() => limit.take("o"))).toBeUndefined();
  });

  test("refill is continuous and capped at one minute's allowance", () => {
    let now = 0;
    const limit = createRateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) limit.take("o");
    now = 30_000; // half a minute: half the allowance back
    for (let i = 0; i < 30; i++) expect(refusal(() => limit.take("o"))).toBeUndefined();
    expect(refusal(() => limit.take("o"))).toBeDefined();
    now = 10 * 60_000; // ten idle minutes still give one minute's worth, not ten
    for (let i = 0; i < 60; i++) expect(refusal(() => limit.take("o"))).toBeUndefined();
    expect(refusal(() => limit.take("o"))).toBeDefined();
  });

  test("owners are limited independently", () => {
    const limit = createRateLimiter(2, () => 0);
    limit.take("a");
    limit.take("a");
    expect(refusal(() => limit.take("a"))).toBeDefined();
    expect(refusal(() => limit.take("b"))).toBeUndefined();
  });

  test("Retry-After is the whole seconds until the next token, at least 1, and the message names what is limited", () => {
    const slow = createRateLimiter(1, () => 0, "reads");
    slow.take("o");
    const e = refusal(() => slow.take("o"));
    expect(e?.headers).toEqual({ "retry-after": "60" });
    expect(e?.message).toBe("Too many reads; retry in 60 s.");
    const fast = createRateLimiter(6_000, () => 0);
    for (let i = 0; i < 6_000; i++) fast.take("o");
    expect(refusal(() => fast.take("o"))?.headers).toEqual({ "retry-after": "1" });
  });

  test("Retry-After counts from the part of a token already refilled", () => {
    let now = 0;
    const limit = createRateLimiter(1, () => now);
    limit.take("o");
    now = 45_000; // three quarters of the token are back
    expect(refusal(() => limit.take("o"))?.headers).toEqual({ "retry-after": "15" });
  });
});

describe("in-flight limit", () => {
  /** A promise settled from the outside, so the test decides when a request ends. */
  const deferred = <T>() => {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };

  test("at most `max` requests of one owner at once; one more is a 429 with Retry-After: 1 and never runs", async () => {
    const limit = createInFlightLimit(2);
    const a = deferred<string>();
    const b = deferred<string>();
    const pa = limit.run("o", () => a.promise);
    const pb = limit.run("o", () => b.promise);
    let ran = false;
    const third = await limit
      .run("o", async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(third).toBeInstanceOf(AppError);
    expect((third as AppError).code).toBe("RATE_LIMITED");
    expect((third as AppError).headers).toEqual({ "retry-after": "1" });
    a.resolve("A");
    b.resolve("B");
    expect(await pa).toBe("A");
    expect(await pb).toBe("B");
  });

  test("a finished request frees its slot, whether it succeeded or failed", async () => {
    const limit = createInFlightLimit(1);
    const first = deferred<void>();
    const p1 = limit.run("o", () => first.promise);
    expect(await limit.run("o", async () => "x").catch((e: unknown) => (e as AppError).code)).toBe("RATE_LIMITED");
    first.reject(new Error("usage down"));
    expect(await p1.catch((e: unknown) => (e as Error).message)).toBe("usage down");
    expect(await limit.run("o", async () => "after failure")).toBe("after failure");
    expect(await limit.run("o", async () => "after success")).toBe("after success");
  });

  test("owners have their own slots", async () => {
    const limit = createInFlightLimit(1);
    const hold = deferred<void>();
    const p = limit.run("a", () => hold.promise);
    expect(await limit.run("b", async () => "b runs")).toBe("b runs");
    hold.resolve();
    await p;
  });
});
