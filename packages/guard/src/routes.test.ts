/** Route declarations: checked when the route is registered, found again by method and pattern. */
import { describe, expect, test } from "bun:test";
import { NO_NEEDS } from "./policy";
import { ROUTE_EXTENSION, RouteTable, routeNeeds } from "./routes";

describe("routeNeeds", () => {
  test("defaults: no scope, cost 1", () => {
    expect(routeNeeds({})).toEqual({ scope: null, cost: 1 });
    expect(routeNeeds({ scope: "loans:predict", cost: 3 })).toEqual({ scope: "loans:predict", cost: 3 });
  });

  test("a scope that no key could hold, '*', or a cost outside 1..1000 fails at registration", () => {
    for (const bad of [{ scope: "*" }, { scope: "Loans" }, { scope: "" }, { cost: 0 }, { cost: 1.5 }, { cost: 1001 }]) {
      expect(() => routeNeeds(bad)).toThrow("guard: route");
    }
  });
});

describe("RouteTable", () => {
  const route = (method: string, path: string, decl?: object) => ({ method, path, hooks: decl ? { detail: { [ROUTE_EXTENSION]: decl } } : {} });

  test("finds a declaration by method and pattern; an undeclared or unknown route needs nothing", () => {
    const t = new RouteTable();
    t.addSource(() => [route("POST", "/p", { scope: "a", cost: 2 }), route("GET", "/p"), route("GET", "/q/:id", { scope: "b", cost: 1 })]);
    expect(t.needs("POST", "/p")).toEqual({ scope: "a", cost: 2 });
    expect(t.needs("GET", "/p")).toBe(NO_NEEDS);
    expect(t.needs("GET", "/q/:id")).toEqual({ scope: "b", cost: 1 });
    expect(t.needs("GET", "/nowhere")).toBe(NO_NEEDS);
    expect(t.needs("GET", undefined)).toBe(NO_NEEDS);
  });

  test("a route registered after the first lookups is still found (the memo follows the table)", () => {
    const routes = [route("GET", "/a")];
    const t = new RouteTable();
    t.addSource(() => routes);
    expect(t.needs("POST", "/late")).toBe(NO_NEEDS);
    routes.push(route("POST", "/late", { scope: "x", cost: 1 }));
    expect(t.needs("POST", "/late")).toEqual({ scope: "x", cost: 1 });
  });

  test("every app the guard is mounted in is searched", () => {
    const t = new RouteTable();
    t.addSource(() => [route("POST", "/one", { scope: "a", cost: 1 })]);
    t.addSource(() => [route("POST", "/two", { scope: "b", cost: 1 })]);
    expect(t.needs("POST", "/one").scope).toBe("a");
    expect(t.needs("POST", "/two").scope).toBe("b");
  });
});
