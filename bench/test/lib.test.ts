/** The bench's pure parts: keys it generates, statistics, the table and its JSON line. */
import { describe, expect, test } from "bun:test";
import { check, hashKey, isWellFormedKey, parseJson } from "@riskinmind/contracts";
import { benchKey, keyHashHex, keyId, runTag } from "../lib/keys";
import { percentile, summarize } from "../lib/stats";
import { failedRow, jsonLine, markdown, row } from "../lib/table";
import { verifyPayloads } from "../cases/verify";

describe("bench keys", () => {
  test("are well-formed API keys the product accepts, distinct per index and per run", () => {
    const tag = runTag();
    const keys = new Set<string>();
    for (const i of [0, 1, 61, 62, 9_999, 999_999, 12_345_678]) {
      const k = benchKey(tag, i);
      expect(isWellFormedKey(k)).toBe(true);
      keys.add(k);
    }
    expect(keys.size).toBe(7);
    expect(benchKey(runTag(), 5)).not.toBe(benchKey(tag, 5));
  });

  test("hash to the same SHA-256 the product stores", () => {
    const k = benchKey(runTag(), 42);
    expect(keyHashHex(k)).toBe(hashKey(k).toString("hex"));
  });

  test("verify payloads are keys.verify requests as the guard sends them: the key's hex SHA-256, never the key", () => {
    const tag = runTag();
    const [p0, p1] = verifyPayloads(tag, 7, 9);
    const req = parseJson(p0!);
    expect(check.verifyRequest.Check(req)).toBe(true);
    expect(req).toEqual({ keyHash: hashKey(benchKey(tag, 7)).toString("hex") });
    expect(new TextDecoder().decode(p1)).not.toContain(benchKey(tag, 8).slice(8));
  });

  test("ids pass the keys table's id check", () => {
    expect(keyId(runTag(), 123_456)).toMatch(/^key_[0-9A-Za-z]{22}$/);
  });
});

describe("stats", () => {
  test("percentile is nearest-rank over sorted samples", () => {
    const s = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 50)).toBe(50);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile(s, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });

  test("summarize sorts unsorted samples first", () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toEqual({ n: 5, p50: 3, p99: 5, mean: 3 });
  });
});

describe("table", () => {
  test("ratio targets are judged on value/baseline, value targets on the value", () => {
    expect(row("a", 80, "req/s", 100, { on: "ratio", op: ">=", limit: 0.8 })).toMatchObject({ ratio: 0.8, met: true, target: ">= 0.8x" });
    expect(row("b", 79, "req/s", 100, { on: "ratio", op: ">=", limit: 0.8 }).met).toBe(false);
    expect(row("c", 3.2, "ms", 0.4, { on: "value", op: "<=", limit: 3 })).toMatchObject({ met: false, target: "<= 3 ms" });
    expect(row("d", 4.9, "µs", null, { on: "value", op: "<", limit: 5 })).toMatchObject({ met: true, baseline: null, ratio: null });
    expect(row("e", 1, "x")).toMatchObject({ target: null, met: null });
  });

  test("an unmeasured row with a target is a miss, and its value is null in JSON", () => {
    const r = failedRow("verify: not measured (boom)", "req/s", { on: "ratio", op: ">=", limit: 0.8 });
    expect(r.met).toBe(false);
    const parsed = JSON.parse(jsonLine([r]));
    expect(parsed[0].value).toBeNull();
  });

  test("the JSON line is one line holding every row with exactly the issue's fields", () => {
    const rows = [row("x", 1, "ms", 2), row("y", 3, "ms")];
    const line = jsonLine(rows);
    expect(line.includes("\n")).toBe(false);
    const parsed = JSON.parse(line) as Record<string, unknown>[];
    expect(parsed).toHaveLength(2);
    for (const p of parsed) expect(Object.keys(p).sort()).toEqual(["baseline", "met", "name", "ratio", "target", "unit", "value"]);
  });

  test("the markdown table has the issue's columns and one line per row", () => {
    const md = markdown([row("x", 1234.5, "req/s", 1000, { on: "ratio", op: ">=", limit: 0.8 })]).split("\n");
    expect(md[0]).toBe("| name | value | baseline | ratio | target | met |");
    expect(md).toHaveLength(3);
    expect(md[2]).toContain("1,235 req/s");
    expect(md[2]).toContain("| yes |");
  });
});
