import { Elysia, StatusMap } from "elysia";
import type { NatsConnection } from "nats";
import { AppError, errorBody, HTTP_METHODS, requestIdFor, type Topology, type UsageEvent } from "@riskinmind/contracts";
import { VerifyCache, watchInvalidations } from "./cache";
import { UsageRecorder } from "./recorder";
import { createVerifier, type CachedVerdict } from "./verify";
import { DEFAULT_GUARD_OPTIONS, type GuardLogger, type GuardOptions, type GuardResult } from "./types";

export { DEFAULT_GUARD_OPTIONS, type GuardLogger, type GuardOptions, type GuardResult, type RefusalReason } from "./types";
export { VerifyCache, type CachedKey } from "./cache";
export { UsageRecorder, type RecorderOptions } from "./recorder";
export { keyHashHex } from "./verify";

/** What the guard gives a protected route. */
export interface ApiKeyIdentity {
  readonly keyId: string;
  readonly ownerId: string;
}

export interface GuardDeps {
  nc: NatsConnection;
  topology: Topology;
  log?: GuardLogger;
  options?: Partial<GuardOptions>;
}

const METHODS = new Set<string>(HTTP_METHODS);
const MAX_ENDPOINT = 2048;
// Where the guard keeps its own start time when the host has no httpBasics `startedAt`.
const STARTED = Symbol("riskinmind.guard.startedAt");

/** The key a request presents: `Authorization: Bearer sk_...` first, else `x-api-key`; "" when none. */
export function presentedKey(headers: Headers): string {
  const auth = headers.get("authorization");
  if (auth !== null && auth.length > 7 && auth.slice(0, 7).toLowerCase() === "bearer ") {
    const v = auth.slice(7).trim();
    // A JWT in Authorization is not ours to judge; only sk_ bearers are API keys.
    if (v.startsWith("sk_")) return v;
  }
  return headers.get("x-api-key")?.trim() ?? "";
}

/**
 * The id a refusal carries: the one the host's httpBasics made (its derived
 * `requestId`, also its `x-request-id` header); mounted without httpBasics,
 * the caller's well-formed `x-request-id` or a fresh one, sent as that header
 * too, so body and header always agree.
 */
function requestIdOf(ctx: { request: Request; set: { headers: unknown } }): string {
  const derived = (ctx as { requestId?: unknown }).requestId;
  const headers = ctx.set.headers as Record<string, string | undefined>;
  if (typeof derived === "string") return derived;
  return (headers["x-request-id"] ??= requestIdFor(ctx.request.headers.get("x-request-id")));
}

/**
 * Builds the API-key guard any RiskInMind service mounts:
 * `app.use(guard.plugin).post(...)` protects the routes registered after it.
 * `deps.nc` must be connected as the NATS identity "guard"
 * (`connectNats(settings, "guard", name)`, inbox prefix `_INBOX.guard`): the
 * server lets that user ask keys.verify, publish usage events and hear key
 * broadcasts, and nothing else (nats/nats-server.conf).
 */
export function createGuard(deps: GuardDeps) {
  const opts: GuardOptions = { ...DEFAULT_GUARD_OPTIONS, ...deps.options };
  const cache = new VerifyCache<CachedVerdict>({ ttlMs: opts.cacheTtlMs, max: opts.cacheMax });
  const watcher = watchInvalidations(deps.nc, deps.topology, cache, deps.log);
  const verifier = createVerifier(deps.nc, deps.topology, cache, opts.verifyTimeoutMs, deps.log);
  const recorder = new UsageRecorder(deps.nc, deps.topology, { flushIntervalMs: opts.flushIntervalMs, flushMaxEvents: opts.flushMaxEvents, bufferMax: opts.bufferMax }, deps.log);
  let skippedEvents = 0;
  const prechecked = new WeakMap<Request, GuardResult>();

  // Scoped hooks apply to the routes the host registers after `.use(plugin)`,
  // and to nothing before it or in the host's parent. `derive` (not `resolve`)
  // so the key is checked before body validation: a caller without a key
  // learns nothing about the route's schema.
  const plugin = new Elysia({ name: "riskinmind/guard" })
    .derive({ as: "scoped" }, async (ctx) => {
      (ctx as unknown as Record<symbol, number>)[STARTED] = performance.now();
      // Decided already when the host checks keys before bodies (beforeBody below).
      const pending = prechecked.get(ctx.request) ?? verifier.check(presentedKey(ctx.request.headers));
      const verdict = pending instanceof Promise ? await pending : pending;
      if (!verdict.ok) return ctx.status(verdict.code === "INVALID_API_KEY" ? 401 : 503, errorBody(verdict.code, verdict.message, requestIdOf(ctx)));
      const apiKey: ApiKeyIdentity = { keyId: verdict.keyId, ownerId: verdict.ownerId };
      return { apiKey };
    })
    .onAfterResponse({ as: "scoped" }, (ctx) => {
      const c = ctx as unknown as {
        apiKey?: ApiKeyIdentity;
        path: string;
        request: Request;
        set: { status?: number | string };
        responseValue?: unknown;
        startedAt?: number;
      } & Record<symbol, number | undefined>;
      const key = c.apiKey;
      if (key === undefined) return; // refused by the guard: nobody to bill
      const method = c.request.method;
      if (!METHODS.has(method)) {
        skippedEvents++;
        return;
      }
      const started = typeof c.startedAt === "number" ? c.startedAt : (c[STARTED] ?? performance.now());
      const event: UsageEvent = {
        id: Bun.randomUUIDv7(),
        keyId: key.keyId,
        ownerId: key.ownerId,
        endpoint: c.path.length > MAX_ENDPOINT ? c.path.slice(0, MAX_ENDPOINT) : c.path,
        method: method as UsageEvent["method"],
        statusCode: statusOf(c.responseValue, c.set.status),
        timestamp: new Date(performance.timeOrigin + started).toISOString(),
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      };
      recorder.record(event);
    });

  return {
    plugin,
    /**
     * Checks the presented key before any byte of the body is read (Elysia
     * parses bodies before the plugin's derive runs): hand it to httpBasics'
     * `beforeBody` in a service whose body-carrying routes are all guarded, so
     * a caller without a good key gets 401 (or 503), never 400/413/415/408.
     * The plugin then reuses the verdict.
     */
    async beforeBody(request: Request): Promise<void> {
      const pending = verifier.check(presentedKey(request.headers));
      const verdict = pending instanceof Promise ? await pending : pending;
      if (!verdict.ok) throw new AppError(verdict.code, verdict.message);
      prechecked.set(request, verdict);
    },
    /** The verdict for a key, as the plugin would give it (cached when possible). */
    check(apiKey: string): Promise<GuardResult> {
      const r = verifier.check(apiKey);
      // Not an async function: a cached answer costs one resolved promise, no extra frame.
      return r instanceof Promise ? r : Promise.resolve(r);
    },
    /** Stops listening and publishes queued usage events (bounded wait). */
    async close(timeoutMs = 5_000): Promise<void> {
      watcher.stop();
      await recorder.close(timeoutMs);
    },
    stats() {
      return {
        cache: { size: cache.size, hits: cache.hits, misses: cache.misses, evictions: cache.evictions, invalidations: cache.invalidations },
        verify: { ...verifier.counters },
        usage: { ...recorder.stats(), skipped: skippedEvents },
      };
    },
  };
}

export type Guard = ReturnType<typeof createGuard>;
export type GuardStats = ReturnType<Guard["stats"]>;

/** The status code actually sent, whichever way the handler set it. */
function statusOf(responseValue: unknown, status: number | string | undefined): number {
  if (responseValue instanceof Response) return responseValue.status;
  if (typeof status === "number") return status;
  if (typeof status === "string") return (StatusMap as Record<string, number>)[status] ?? 200;
  return 200;
}
