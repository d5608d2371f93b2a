/** The logs filter and cursor rules shared by the edge and the usage service: what each value means, what is refused and why. */
import { describe, expect, test } from "bun:test";
import { decodeCursor, encodeCursor, filterToWire, isFiltered, parseLogsFilter, type LogsFilter } from "./logs-filter";

const ok = (input: Parameters<typeof parseLogsFilter>[0]): LogsFilter => {
  const r = parseLogsFilter(input);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

describe("parseLogsFilter", () => {
  test("status takes codes and classes, expanded, sorted, distinct", () => {
    const f = ok({ status: "429,5xx,503,429" });
    expect(f.statuses?.length).toBe(101);
    expect(f.statuses?.[0]).toBe(429);
    expect(f.statuses?.slice(1, 3)).toEqual([500, 501]);
    expect(f.statuses?.at(-1)).toBe(599);
    expect(ok({ status: "100" }).statuses).toEqual([100]);
  });

  test("bad status values are refused naming the parameter", () => {
    for (const status of ["", "99", "600", "6xx", "0xx", "5XX", "5x", "429,", ",429", "42 9", "4290", "+429", "abc", Array(21).fill("200").join(",")]) {
      const r = parseLogsFilter({ status });
      expect({ status, ok: r.ok, param: r.ok ? null : r.param }).toEqual({ status, ok: false, param: "status" });
    }
  });

  test("method is a list of the contract's methods, uppercase", () => {
    expect(ok({ method: "POST,GET,POST" }).methods).toEqual(["GET", "POST"]);
    for (const method of ["post", "FOO", "GET,", "", "GET, POST"]) expect(parseLogsFilter({ method }).ok).toBe(false);
  });

  test("endpoint is exact, or a prefix with a trailing *", () => {
    expect(ok({ endpoint: "/api/v1/loans/predict" }).endpoint).toEqual({ path: "/api/v1/loans/predict", prefix: false });
    expect(ok({ endpoint: "/api/v1/loans/*" }).endpoint).toEqual({ path: "/api/v1/loans/", prefix: true });
    expect(ok({ endpoint: "/*" }).endpoint).toEqual({ path: "/", prefix: true });
    for (const endpoint of ["", "*", "api/v1", "/a b", "/é", `/${"a".repeat(2048)}`, "/a\u0000"]) expect(parseLogsFilter({ endpoint }).ok).toBe(false);
  });

  test("from and to are ISO date-times with a zone; from must be before to", () => {
    const f = ok({ from: "2026-01-01T00:00:00+01:00", to: "2026-01-02T00:00:00.5Z" });
    expect(f.fromMs).toBe(Date.parse("2025-12-31T23:00:00Z"));
    expect(f.toMs).toBe(Date.parse("2026-01-02T00:00:00.500Z"));
    for (const from of [
      "2026-01-01",
      "2026-01-01T00:00:00",
      "yesterday",
      "2026-13-01T00:00:00Z",
      "2026-02-29T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01T23:60:00Z",
      "1767225600000",
    ]) {
      const r = parseLogsFilter({ from });
      expect({ from, param: r.ok ? null : r.param }).toEqual({ from, param: "from" });
    }
    const same = parseLogsFilter({ from: "2026-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z" });
    expect(same.ok ? null : same.param).toBe("from");
    expect(parseLogsFilter({ to: "nope" }).ok).toBe(false);
    expect(parseLogsFilter({ from: "2028-02-29T23:59:59.999-05:00" }).ok).toBe(true);
  });

  test("keyId is 1..64 printable ASCII", () => {
    expect(ok({ keyId: "key_abc" }).keyId).toBe("key_abc");
    for (const keyId of ["", "a b", "k".repeat(65)]) expect(parseLogsFilter({ keyId }).ok).toBe(false);
  });

  test("no parameter is no filter", () => {
    expect(isFiltered(ok({}))).toBe(false);
    expect(filterToWire(ok({}))).toEqual({});
    expect(isFiltered(ok({ keyId: "k" }))).toBe(true);
  });

  test("the wire form is canonical and parses back to the same filter", () => {
    const f = ok({ status: "5xx,429,404", method: "POST,GET", endpoint: "/a/*", keyId: "key_1", from: "2026-01-01T01:00:00+01:00", to: "2026-01-02T00:00:00Z" });
    const wire = filterToWire(f);
    expect(wire).toEqual({ status: "404,429,5xx", method: "GET,POST", endpoint: "/a/*", keyId: "key_1", from: "2026-01-01T00:00:00.000Z", to: "2026-01-02T00:00:00.000Z" });
    expect(ok(wire)).toEqual(f);
  });
});

describe("cursors", () => {
  const f = ok({ status: "5xx" });

  test("a cursor gives back its seq for the same mode and filter, however the filter was spelled", () => {
    const c = encodeCursor(12345, "live", f);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, "live", ok({ status: "5xx,5xx" }))).toEqual({ ok: true, value: 12345 });
  });

  test("a cursor reused with other filters or another mode is refused", () => {
    const c = encodeCursor(7, "live", f);
    for (const [mode, other] of [
      ["test", f],
      ["live", ok({})],
      ["live", ok({ status: "4xx" })],
      ["live", ok({ status: "5xx", method: "GET" })],
    ] as const) {
      const r = decodeCursor(c, mode, other);
      expect(r.ok ? null : r.param).toBe("cursor");
    }
  });

  test("anything else is refused, never thrown", () => {
    const c = encodeCursor(7, "live", f);
    const forged = [
      "",
      "abc",
      c.slice(0, -1),
      `${c}A`,
      c.replace(/.$/, (x) => (x === "A" ? "B" : "A")),
      "!!!!",
      Buffer.from("1.0.0123456789abcdef").toString("base64url"),
      Buffer.from("1.99999999999999999.0123456789abcdef").toString("base64url"),
      Buffer.from("2.7.0123456789abcdef").toString("base64url"),
      Buffer.from("1.-7.0123456789abcdef").toString("base64url"),
      "x".repeat(500),
    ];
    for (const cur of forged) {
      const r = decodeCursor(cur, "live", f);
      expect({ cur, ok: r.ok }).toEqual({ cur, ok: false });
    }
  });
});
