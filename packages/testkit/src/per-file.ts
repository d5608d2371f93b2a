/** A stack that lives as long as one test file: built in beforeAll, closed in afterAll, one call instead of the hook pair. */
import { afterAll, beforeAll } from "bun:test";

/**
 * Registers the hooks and returns the stack's object, which is empty until
 * beforeAll has run (use it inside hooks and tests only). `then` adds what
 * the file needs on top (a first instance, a spy), before any test runs.
 */
export function forFile<T extends object, X extends object = object>(build: () => Promise<T>, close: (t: T) => Promise<unknown>, then?: (t: T) => Promise<X>): T & X {
  const file = {} as T & X;
  let built: T | undefined;
  beforeAll(async () => {
    built = await build();
    Object.assign(file, built);
    if (then) Object.assign(file, await then(built));
  });
  afterAll(async () => {
    if (built) await close(built);
  });
  return file;
}
