/** The guard's defaults are what the README promises a service that mounts it without options. */
import { expect, test } from "bun:test";
import { MAX_EVENTS_PER_MESSAGE } from "@riskinmind/contracts";
import { DEFAULT_GUARD_OPTIONS } from "./types";

test("defaults: 30 s cache of valid answers, usage published every 5 ms or 200 events, 100,000 events buffered while NATS is away, no proxy trusted", () => {
  expect(DEFAULT_GUARD_OPTIONS).toEqual({ cacheTtlMs: 30_000, cacheMax: 10_000, verifyTimeoutMs: 1_000, flushIntervalMs: 5, flushMaxEvents: 200, bufferMax: 100_000, trustedProxies: [] });
  // A batch must fit one usage.events message, or the usage service refuses it whole.
  expect(DEFAULT_GUARD_OPTIONS.flushMaxEvents).toBeLessThanOrEqual(MAX_EVENTS_PER_MESSAGE);
});
