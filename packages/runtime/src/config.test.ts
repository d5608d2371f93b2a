/**
 * Config parsing: the shared field parsers (defaults, bounds, the message a
 * bad value gets) and parseConfig's one-line refusal with exit code 1.
 */
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { z } from "zod";
import { field, natsFields, parseConfig } from "./config";

/** The message of the first issue, as parseConfig would print it, or "ok". */
const verdict = (schema: z.ZodType, value: string | undefined) => {
  const r = schema.safeParse(value);
  return r.success ? "ok" : r.error.issues[0]!.message;
};
const value = <T>(schema: z.ZodType<T>, v: string | undefined): T => schema.parse(v);

describe("field.url", () => {
  const pg = field.url(["postgres:", "postgresql:"]);

  test("accepts the listed protocols only", () => {
    expect(verdict(pg, "postgres://u@127.0.0.1:5432/db")).toBe("ok");
    expect(verdict(pg, "postgresql://db.internal/x")).toBe("ok");
    for (const v of ["mysql://u@h/db", "http://h", "127.0.0.1:5432", "not a url"]) expect(verdict(pg, v)).toBe("must be a URL starting with postgres: or postgresql://");
  });

  test("missing or empty is 'is required'", () => {
    expect(verdict(pg, undefined)).toBe("is required");
    expect(verdict(pg, "")).toBe("is required");
  });
});

describe("field.port and field.int", () => {
  test("an empty value means unset (the default); only plain decimal digits count", () => {
    expect(value(field.port(3000), "")).toBe(3000);
    expect(value(field.int(1000, 0, 60_000), "")).toBe(1000);
    expect(value(field.int(1000, 0, 60_000), " 250 ")).toBe(250);
    for (const v of ["0x10", "1e3", "+5", "12abc"]) expect(verdict(field.int(1000, 0, 60_000), v)).toBe("must be an integer 0..60000");
    expect(verdict(field.port(3000), "0x50")).toBe("must be a port number 0..65535");
  });

  test("a port defaults, and is an integer 0..65535", () => {
    expect(value(field.port(3000), undefined)).toBe(3000);
    expect(value(field.port(3000), "0")).toBe(0);
    expect(value(field.port(3000), "65535")).toBe(65535);
    for (const v of ["65536", "-1", "80.5", "http"]) expect(verdict(field.port(3000), v)).toBe("must be a port number 0..65535");
  });

  test("an int defaults, accepts both bounds and refuses one past either, naming the range", () => {
    const f = field.int(10_000, 50, 600_000);
    expect(value(f, undefined)).toBe(10_000);
    expect(value(f, "50")).toBe(50);
    expect(value(f, "600000")).toBe(600_000);
    for (const v of ["49", "600001", "1.5", "ten"]) expect(verdict(f, v)).toBe("must be an integer 50..600000");
  });
});

describe("the other shared fields", () => {
  test("log level: pino's names, info by default", () => {
    expect(value(field.logLevel(), undefined)).toBe("info");
    expect(value(field.logLevel(), "silent")).toBe("silent");
    expect(verdict(field.logLevel(), "verbose")).not.toBe("ok");
  });

  test("subject prefix: empty, or NATS tokens each ending in a dot", () => {
    expect(value(field.subjectPrefix(), undefined)).toBe("");
    for (const v of ["", "staging.", "t1a2b.", "a.b-c_d."]) expect(verdict(field.subjectPrefix(), v)).toBe("ok");
    for (const v of ["staging", ".a.", "a..", "a b.", "a.*.", "a.>.", "é."]) expect(verdict(field.subjectPrefix(), v)).toBe("must be empty or like 'name.' (tokens ending in a dot)");
  });

  test("stream name: 1..64 of A-Z a-z 0-9 _ -, with a default", () => {
    expect(value(field.streamName("USAGE"), undefined)).toBe("USAGE");
    expect(verdict(field.streamName("USAGE"), "USAGE_t1-a")).toBe("ok");
    expect(verdict(field.streamName("USAGE"), "x".repeat(64))).toBe("ok");
    for (const v of ["", "a.b", "a b", "x".repeat(65)]) expect(verdict(field.streamName("USAGE"), v)).toBe("must be 1-64 of A-Z a-z 0-9 _ -");
  });

  test("an optional path that is set but empty counts as unset", () => {
    expect(value(field.optionalPath(), "")).toBeUndefined();
    expect(value(field.optionalPath(), undefined)).toBeUndefined();
    expect(value(field.optionalPath(), "/etc/nats.creds")).toBe("/etc/nats.creds");
  });

  test("NATS fields: a nats/tls/ws URL is required", () => {
    const nats = z.object(natsFields);
    expect(nats.safeParse({ NATS_URL: "nats://keys:pw@127.0.0.1:4222" }).success).toBe(true);
    expect(nats.safeParse({ NATS_URL: "wss://nats.example.com" }).success).toBe(true);
    expect(nats.safeParse({ NATS_URL: "http://127.0.0.1:4222" }).success).toBe(false);
    expect(nats.safeParse({}).success).toBe(false);
  });
});

describe("parseConfig", () => {
  const schema = z.object({ DATABASE_URL: field.url(["postgres:"]), PORT: field.port(3000) });

  /** What parseConfig does instead of exiting: the exit is turned into a throw so the test process lives on. */
  class Exit extends Error {
    constructor(readonly code: number | undefined) {
      super(`exit ${code}`);
    }
  }
  let stderr: string[] = [];
  const spies: { mockRestore(): void }[] = [];
  const refuse = (env: Record<string, string | undefined>) => {
    stderr = [];
    spies.push(
      spyOn(process, "exit").mockImplementation(((code?: number) => {
        throw new Exit(code);
      }) as typeof process.exit),
    );
    spies.push(spyOn(process.stderr, "write").mockImplementation(((chunk: string) => stderr.push(String(chunk)) > 0) as typeof process.stderr.write));
    try {
      parseConfig(schema, env);
    } catch (e) {
      return e;
    }
    return undefined;
  };
  afterEach(() => {
    for (const s of spies.splice(0)) s.mockRestore();
  });

  test("a good environment is parsed once into typed values, defaults filled in", () => {
    expect(parseConfig(schema, { DATABASE_URL: "postgres://h/db", UNRELATED: "x" })).toEqual({ DATABASE_URL: "postgres://h/db", PORT: 3000 });
  });

  test("a bad value: one line 'config error: NAME: reason', then exit code 1", () => {
    const thrown = refuse({ DATABASE_URL: "postgres://h/db", PORT: "http" });
    expect(thrown).toBeInstanceOf(Exit);
    expect((thrown as Exit).code).toBe(1);
    expect(stderr).toEqual(["config error: PORT: must be a port number 0..65535\n"]);
  });

  test("a missing value names the variable", () => {
    refuse({});
    expect(stderr).toEqual(["config error: DATABASE_URL: is required\n"]);
  });

  test("the refused value itself is never printed (it may hold a password)", () => {
    refuse({ DATABASE_URL: "mysql://admin:hunter2-secret@db/x" });
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toStartWith("config error: DATABASE_URL: ");
    expect(stderr[0]).not.toContain("hunter2-secret");
  });
});
