/**
 * The HTTP bodies and query strings the edge validates with these schemas:
 * query numbers are exact decimal strings (the pattern is the bound), bodies
 * refuse unknown fields and labels must be storable text.
 */
import { describe, expect, test } from "bun:test";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { LogsQuery } from "./http";
import { GenerateBody } from "./policy";

const query = TypeCompiler.Compile(LogsQuery);
const generate = TypeCompiler.Compile(GenerateBody);

describe("LogsQuery", () => {
  test("page is 1..999999999 written as a plain decimal", () => {
    for (const page of ["1", "9", "10", "999999999"]) expect({ page, ok: query.Check({ page }) }).toEqual({ page, ok: true });
    for (const page of ["0", "01", "1000000000", "-1", "+1", "1e3", "0x10", " 1", "1 ", "1.0", ""]) expect({ page, ok: query.Check({ page }) }).toEqual({ page, ok: false });
  });

  test("limit is 1..100 written as a plain decimal", () => {
    for (const limit of ["1", "10", "99", "100"]) expect({ limit, ok: query.Check({ limit }) }).toEqual({ limit, ok: true });
    for (const limit of ["0", "101", "010", "1000", "1e2", "-5", ""]) expect({ limit, ok: query.Check({ limit }) }).toEqual({ limit, ok: false });
  });

  test("both are optional", () => {
    expect(query.Check({})).toBe(true);
  });
});

describe("GenerateBody", () => {
  test("no body fields, or a label of 1..100 characters", () => {
    expect(generate.Check({})).toBe(true);
    expect(generate.Check({ label: "a" })).toBe(true);
    expect(generate.Check({ label: "x".repeat(100) })).toBe(true);
    expect(generate.Check({ label: "" })).toBe(false);
    expect(generate.Check({ label: "x".repeat(101) })).toBe(false);
    expect(generate.Check({ label: 5 })).toBe(false);
  });

  test("a label must be storable text; an unknown field is refused", () => {
    expect(generate.Check({ label: "prod\ud800" })).toBe(false);
    expect(generate.Check({ label: "prod\u0000" })).toBe(false);
    expect(generate.Check({ label: "prod", owner: "someone-else" })).toBe(false);
  });
});
