import { Elysia, StatusMap } from "elysia";
import type { NatsConnection } from "nats";
import { AppError, ERROR_STATUS, errorBody, HTTP_METHODS, requestIdFor, type ErrorCode, type Topology, type UsageEvent } from "@riskinmind/contracts";
import { VerifyCache, watchInvalidations } from "./cache";
import { parseTrustedProxies } from "./client-address";
import { createDecider, type ApiKeyIdentity, type Decision, type PeerSource } from "./decide";
import { Limits } from "./limits";
import { UsageRecorder } from "./recorder";
import { ROUTE_EXTENSION, RouteTable, routeNeeds, type ApiKeyRouteOptions } from "./routes";
import { createVerifier, type CachedVerdict } from "./verify";
import { DEFAULT_GUARD_OPTIONS, type GuardLogger, type GuardOptions, type GuardResult } from "./types";

export { DEFAULT_GUARD_OPTIONS, type GuardLogger, type GuardOptions, type GuardResult, type RefusalReason } from "./types";
export { VerifyCache, type CachedKey } from "./cache";
export { UsageRecorder, type RecorderOptions } from "./recorder";
export { keyHashHex } from "./verify";
export { clientAddress, parseTrustedProxies } from "./client-address";
export { MAX_ROUTE_COST, type ApiKeyRouteOptions } from "./routes";
export type { ApiKeyIdentity, Decision, PeerSource } from "./decide";
export { Limits, type LimitOutcome, type LimitPolicy, type RateHeaders } from "./limits";

export interface GuardDeps {
  nc: NatsConnection;
  topology: Topology;
  log?: GuardLogger;
  options?: Partial<GuardOptions>;
  /** The rate-limit and quota counter; one per guard by default. */
  limits?: Limits;
}

/** What the guard needs of the Elysia context before the body is read (httpBasics' beforeBody hands it over). */
export interface BeforeBodyContext {
  /** The matched route's pattern, e.g. `/api/v1/loans/predict`. */
  route?: string;
  /** Bun's server, for the socket's peer address; absent under `app.handle`. */
  server?: PeerSource | null;
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
  const trusted = parseTrustedProxies(opts.trustedProxies);
  const cache = new VerifyCache<CachedVerdict>({ ttlMs: opts.cacheTtlMs, max: opts.cacheMax });
  const watcher = watchInvalidations(deps.nc, deps.topology, cache, deps.log);
  const verifier = createVerifier(deps.nc, deps.topology, cache, opts.verifyTimeoutMs, deps.log);
  const limits = deps.limits ?? new Limits({ nc: deps.nc, topology: deps.topology, log: deps.log });
  const { decide } = createDecider(limits, trusted);
  const recorder = new UsageRecorder(deps.nc, deps.topology, { flushIntervalMs: opts.flushIntervalMs, flushMaxEvents: opts.flushMaxEvents, bufferMax: opts.bufferMax }, deps.log);
  const routes = new RouteTable();
  let skippedEvents = 0;
  // Decided already when the host checks keys before bodies (beforeBody below): units are spent once per call.
  const prechecked = new WeakMap<Request, Decision>();

  /** The full judgement for a request on a route (key, expiry, address, scope, limits). */
  function judge(request: Request, ctx: BeforeBodyContext): Decision | Promise<Decision> {
    const needs = routes.needs(request.method, ctx.route);
    const pending = verifier.check(presentedKey(request.headers));
    if (pending instanceof Promise) return pending.then((v) => decide(v, needs, request, ctx.server, Date.now()));
    return decide(pending, needs, request, ctx.server, Date.now());
  }

  // Scoped hooks apply to the routes the host registers after `.use(plugin)`,
  // and to nothing before it or in the host's parent. `derive` (not `resolve`)
  // so the key is checked before body validation: a caller without a key
  // learns nothing about the route's schema.
  const plugin = new Elysia({ name: "riskinmind/guard" })
    .macro({
      /** `{ apiKey: { scope: "loans:predict", cost: 2 } }`: what this route needs of a key (checked at registration). */
      apiKey: (o: ApiKeyRouteOptions) => ({ detail: { [ROUTE_EXTENSION]: routeNeeds(o) } as Record<string, unknown> }),
    })
    .derive({ as: "scoped" }, async (ctx) => {
      (ctx as unknown as Record<symbol, number>)[STARTED] = performance.now();
      const { request } = ctx;
      const pending = prechecked.get(request) ?? judge(request, ctx as unknown as BeforeBodyContext);
      const d = pending instanceof Promise ? await pending : pending;
      if (d.headers !== null) Object.assign(ctx.set.headers as Record<string, string>, d.headers);
      if (!d.ok) return ctx.status(statusFor(d.code), errorBody(d.code, d.message, requestIdOf(ctx)));
      return { apiKey: d.apiKey };
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
        mode: key.mode,
      };
      recorder.record(event);
    });
  // Elysia hands a plugin its host's route table when the host `.use`s it
  // (assigning `getGlobalRoutes`, which @elysiajs/openapi reads the same way);
  // every host is kept, so routes are found in each app the guard is mounted in.
  Object.defineProperty(plugin, "getGlobalRoutes", {
    configurable: true,
    get: () => () => [],
    set: (fn: () => []) => routes.addSource(fn),
  });

  return {
    plugin,
    /**
     * Judges the call before any byte of the body is read (Elysia parses
     * bodies before the plugin's derive runs): hand it to httpBasics'
     * `beforeBody` in a service whose body-carrying routes are all guarded, so
     * a caller without a good key, or whose key may not call this route, gets
     * 401/403/429 (or 503), never 400/413/415/408. The plugin then reuses the decision.
     */
    async beforeBody(request: Request, ctx: BeforeBodyContext = {}): Promise<void> {
      const pending = judge(request, ctx);
      const d = pending instanceof Promise ? await pending : pending;
      if (!d.ok) throw new AppError(d.code, d.message, d.headers ?? undefined);
      prechecked.set(request, d);
    },
    /** The verdict for a key, as the plugin would give it (cached when possible). */
    check(apiKey: string): Promise<GuardResult> {
      const r = verifier.check(apiKey);
      // Not an async function: a cached answer costs one resolved promise, no extra frame.
      return r instanceof Promise ? r : Promise.resolve(r);
    },
    /**
     * The plugin's whole judgement without HTTP: the key, then its policy for
     * a call needing `scope` and costing `cost` from address `ip`.
     */
    authorize(apiKey: string, call: { scope?: string; cost?: number; ip?: string } = {}): Promise<Decision> {
      const needs = { scope: call.scope ?? null, cost: call.cost ?? 1 };
      const peer: PeerSource = { requestIP: () => (call.ip === undefined ? null : { address: call.ip }) };
      const v = verifier.check(apiKey);
      const d = v instanceof Promise ? v.then((x) => decide(x, needs, NO_REQUEST, peer, Date.now())) : decide(v, needs, NO_REQUEST, peer, Date.now());
      return d instanceof Promise ? d : Promise.resolve(d);
    },
    /** Stops listening and publishes queued usage events (bounded wait). */
    async close(timeoutMs = 5_000): Promise<void> {
      watcher.stop();
      await Promise.all([recorder.close(timeoutMs), limits.close()]);
    },
    stats() {
      return {
        cache: { size: cache.size, hits: cache.hits, misses: cache.misses, evictions: cache.evictions, invalidations: cache.invalidations },
        verify: { ...verifier.counters },
        usage: { ...recorder.stats(), skipped: skippedEvents },
        limits: limits.stats(),
      };
    },
  };
}

// authorize() judges a key with no HTTP request; its address comes from the call.
const NO_REQUEST = new Request("http://localhost/");

const statusFor = (code: ErrorCode): number => ERROR_STATUS[code];

export type Guard = ReturnType<typeof createGuard>;
export type GuardStats = ReturnType<Guard["stats"]>;

/** The status code actually sent, whichever way the handler set it. */
function statusOf(responseValue: unknown, status: number | string | undefined): number {
  if (responseValue instanceof Response) return responseValue.status;
  if (typeof status === "number") return status;
  if (typeof status === "string") return (StatusMap as Record<string, number>)[status] ?? 200;
  return 200;
}
