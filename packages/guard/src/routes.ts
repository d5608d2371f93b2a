/**
 * What a guarded route needs of a key, declared where the route is registered:
 * `.post(path, handler, { apiKey: { scope: "loans:predict", cost: 1 } })`
 * (the guard plugin's `apiKey` macro). The declaration is kept in the route's
 * `detail` (an OpenAPI extension, so the document shows it too) and read back
 * by method and route pattern: the key is judged in the parse phase, before
 * any route-local hook runs, so the guard looks the route up itself.
 */
import { SCOPE_PATTERN } from "@riskinmind/contracts";
import { NO_NEEDS, type RouteNeeds } from "./policy";

/** The route option: `{ apiKey: { scope?, cost? } }`. */
export interface ApiKeyRouteOptions {
  /** The scope a key must hold (a key with "*" holds every scope); none: any valid key. */
  scope?: string;
  /** Units one call spends of the key's rate limit and quota (default 1). */
  cost?: number;
}

/** The OpenAPI extension in a route's `detail` that carries its declaration. */
export const ROUTE_EXTENSION = "x-api-key";
/** Largest cost a route may declare: one call must fit a rate limit of any size a key can have. */
export const MAX_ROUTE_COST = 1_000;

const scopeRe = new RegExp(SCOPE_PATTERN);

/** Checks a declaration when the route is registered: a typo must fail at start, not open the route. */
export function routeNeeds(o: ApiKeyRouteOptions): RouteNeeds {
  const scope = o.scope ?? null;
  if (scope !== null && (scope === "*" || !scopeRe.test(scope))) throw new Error(`guard: route scope '${scope}' must match ${SCOPE_PATTERN} and not be '*'`);
  const cost = o.cost ?? 1;
  if (!Number.isInteger(cost) || cost < 1 || cost > MAX_ROUTE_COST) throw new Error(`guard: route cost must be an integer from 1 to ${MAX_ROUTE_COST}, got ${cost}`);
  return { scope, cost };
}

interface RouteEntry {
  method: string;
  path: string;
  hooks?: { detail?: Record<string, unknown> };
}
type RouteSource = () => readonly RouteEntry[];

/**
 * The declarations of the apps the guard plugin is mounted in. Elysia gives a
 * plugin its host's route table when it is `.use`d (the way @elysiajs/openapi
 * reads the routes it documents); every host is kept, so a guard mounted in
 * two apps still finds each app's routes. Answers are memoised per
 * (route, method): a lookup on the hot path is two Map reads.
 */
export class RouteTable {
  private readonly sources: RouteSource[] = [];
  private readonly memo = new Map<string, Map<string, RouteNeeds>>();
  private seen = -1;

  addSource(s: RouteSource): void {
    this.sources.push(s);
    this.memo.clear();
  }

  /** What the route needs; a route that declares nothing (or is unknown) needs any valid key and costs 1. */
  needs(method: string, route: string | undefined): RouteNeeds {
    if (route === undefined) return NO_NEEDS;
    // Routes added after the first lookups (a late .post) must be seen: the memo is per table size.
    const size = this.size();
    if (size !== this.seen) {
      this.memo.clear();
      this.seen = size;
    }
    let byMethod = this.memo.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.memo.set(route, byMethod);
    }
    let n = byMethod.get(method);
    if (n === undefined) {
      n = this.find(method, route);
      byMethod.set(method, n);
    }
    return n;
  }

  private size(): number {
    let n = 0;
    for (const s of this.sources) n += s().length;
    return n;
  }

  private find(method: string, route: string): RouteNeeds {
    for (const s of this.sources) {
      for (const r of s()) {
        if (r.path !== route || (r.method !== method && r.method !== "ALL")) continue;
        const d = r.hooks?.detail?.[ROUTE_EXTENSION] as RouteNeeds | undefined;
        if (d !== undefined) return d;
      }
    }
    return NO_NEEDS;
  }
}
