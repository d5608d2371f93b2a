/**
 * withTimeout: the one timeout helper. A settled promise passes through
 * unchanged (value or error); one that never settles becomes a TimeoutError
 * that names the operation.
 */
import { describe, expect, test } from "bun:test";
import { TimeoutError, withTimeout } from "./timeout";

describe("withTimeout", () => {
  test("a promise that settles in time gives its own value", async () => {
    expect(await withTimeout(Promise.resolve(42), 60_000, "answer")).toBe(42);
  });

  test("a promise that fails in time gives its own error, not a timeout", async () => {
    const err = await withTimeout(Promise.reject(new Error("refused")), 60_000, "answer").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe("refused");
  });

  test("a promise that never settles becomes a TimeoutError naming the operation and the limit", async () => {
    const err = await withTimeout(new Promise<never>(() => {}), 5, "nats flush").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).what).toBe("nats flush");
    expect((err as TimeoutError).message).toBe("nats flush timed out after 5 ms");
  });
});
