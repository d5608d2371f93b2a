/**
 * What reaches a log line: key- and JWT-shaped text scrubbed, errors reduced
 * to name, message and code (never the object, whose properties may hold a
 * query's parameters), and pino's redaction as the second line of defence.
 */
import { describe, expect, test } from "bun:test";
import { createLogger, errFields, redactSecrets } from "./logger";

// Made per run (no key- or token-shaped literal in the repository): the same shapes the guard and the edge see.
const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KEY = `sk_live_${Array.from(crypto.getRandomValues(new Uint8Array(49)), (b) => B62[b % 62]).join("")}`;
const b64url = (v: string | Uint8Array) => Buffer.from(v).toString("base64url");
const JWT = [b64url('{"alg":"HS256"}'), b64url('{"sub":"owner"}'), b64url(crypto.getRandomValues(new Uint8Array(32)))].join(".");

describe("redactSecrets", () => {
  test("an API key, wherever it sits in the text, becomes [redacted]", () => {
    expect(redactSecrets(KEY)).toBe("[redacted]");
    expect(redactSecrets(`/api/v1/x?key=${KEY}&y=1`)).toBe("/api/v1/x?key=[redacted]&y=1");
    expect(redactSecrets("sk_test_abc and sk_live_def")).toBe("[redacted] and [redacted]");
  });

  test("a JWT is scrubbed whole: header, payload and signature", () => {
    const out = redactSecrets(`Bearer ${JWT} trailing`);
    expect(out).toBe("Bearer [redacted] trailing");
    for (const part of JWT.split(".")) expect(out).not.toContain(part);
  });

  test("text without anything secret-shaped is unchanged", () => {
    for (const s of ["", "GET /api/v1/keys/logs?page=2", "connection refused (ECONNREFUSED 127.0.0.1:5432)", "key_5Tq2wWc1Jp0oY3n9ZrB8xA"]) expect(redactSecrets(s)).toBe(s);
  });
});

describe("errFields", () => {
  test("an Error gives its name and message only", () => {
    expect(errFields(new TypeError("bad thing"))).toEqual({ err: { name: "TypeError", message: "bad thing" } });
  });

  test("a driver's code travels as a string (Postgres '23505', a numeric errno)", () => {
    const pg = Object.assign(new Error("duplicate key"), { code: "23505" });
    expect(errFields(pg)).toEqual({ err: { name: "Error", message: "duplicate key", code: "23505" } });
    expect(errFields(Object.assign(new Error("x"), { code: 503 })).err.code).toBe("503");
    expect(errFields(Object.assign(new Error("x"), { code: { nested: true } })).err).not.toHaveProperty("code");
  });

  test("never the error object: parameters, stack and cause stay out", () => {
    const e = Object.assign(new Error("insert failed", { cause: new Error("owner-secret-cause") }), { parameters: ["owner-secret-param"], query: "insert ..." });
    const fields = errFields(e);
    expect(fields.err).not.toBe(e);
    expect(Object.keys(fields.err).sort()).toEqual(["message", "name"]);
    const line = JSON.stringify(fields);
    expect(line).not.toContain("owner-secret-param");
    expect(line).not.toContain("owner-secret-cause");
    expect(line).not.toContain("at ");
  });

  test("a key or a JWT quoted by the message is scrubbed", () => {
    const { message } = errFields(new Error(`bad key ${KEY} for ${JWT}`)).err;
    expect(message).toBe("bad key [redacted] for [redacted]");
  });

  test("the message is cut at 500 characters", () => {
    expect(errFields(new Error("x".repeat(2_000))).err.message).toHaveLength(500);
  });

  test("anything thrown that is not an Error still gives one shape", () => {
    expect(errFields("plain string")).toEqual({ err: { name: "Error", message: "plain string" } });
    expect(errFields(null)).toEqual({ err: { name: "Error", message: "null" } });
    expect(errFields(undefined)).toEqual({ err: { name: "Error", message: "undefined" } });
    expect(errFields({ name: 42, message: "m" })).toEqual({ err: { name: "Error", message: "m" } });
  });
});

describe("createLogger", () => {
  /** A logger writing its lines into an array (pino calls write once per line). */
  const capture = (level = "info") => {
    const lines: string[] = [];
    const log = createLogger("svc-test", level, { write: (s: string) => void lines.push(s) });
    return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  };

  test("one JSON line per call, with the service, the level's name and an ISO time", () => {
    const { log, parsed } = capture();
    log.info({ keyId: "key_1" }, "issued");
    const [line] = parsed();
    expect(line).toMatchObject({ service: "svc-test", level: "info", keyId: "key_1", msg: "issued" });
    expect(Number.isNaN(Date.parse(String(line!.time)))).toBe(false);
  });

  test("below the level nothing is written", () => {
    const { log, lines } = capture("warn");
    log.info("quiet");
    log.warn("loud");
    expect(lines).toHaveLength(1);
  });

  test("keys, tokens, headers, secrets and passwords are redacted at the top level and one level down", () => {
    const { log, lines } = capture();
    log.info(
      { apiKey: KEY, token: JWT, headers: { authorization: `Bearer ${JWT}` }, secret: "s3cret-value", password: "pw-value", req: { apiKey: KEY, authorization: "Bearer abc-token", password: "pw2" } },
      "x",
    );
    const out = lines.join("");
    for (const s of [KEY, JWT, "s3cret-value", "pw-value", "abc-token", "pw2"]) expect(out).not.toContain(s);
    expect(out).toContain("[redacted]");
  });
});
