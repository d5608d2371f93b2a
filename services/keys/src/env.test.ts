/**
 * The keys service's configuration: the documented defaults (README,
 * Configuration), the refusals and their messages, and the rules that span
 * variables (some JWT verifier is required; production refuses the public
 * development secret). Parsed with the schema itself: the one-line exit is
 * parseConfig's, pinned in packages/runtime/src/config.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEV_JWT_SECRET } from "@riskinmind/runtime";
import { keysEnv, loadConfig } from "./env";

const SECRET = "a-test-secret-of-at-least-32-chars!";
const BASE = { DATABASE_URL: "postgres://keys@127.0.0.1:5432/keys", NATS_URL: "nats://keys:pw@127.0.0.1:4222", JWT_SECRET: SECRET };

/** "ok", or the refusal as parseConfig prints it: `NAME: reason`. */
const verdict = (env: Record<string, string | undefined>) => {
  const r = keysEnv.safeParse(env);
  if (r.success) return "ok";
  const issue = r.error.issues[0]!;
  return `${issue.path.join(".")}: ${issue.message}`;
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "keys-env-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("defaults", () => {
  test("every optional setting takes its documented default", () => {
    const c = loadConfig(BASE);
    expect(c).toMatchObject({
      PORT: 3000,
      HOST: "0.0.0.0",
      LOG_LEVEL: "info",
      NATS_SUBJECT_PREFIX: "",
      USAGE_STREAM: "USAGE",
      JWT_MAX_TTL_SECONDS: 86_400,
      BODY_TIMEOUT_MS: 10_000,
      RATE_LIMIT_PER_MINUTE: 20,
      READ_RATE_LIMIT_PER_MINUTE: 600,
      LOGS_MAX_IN_FLIGHT_PER_OWNER: 4,
      VERIFY_CACHE_MAX: 100_000,
      VERIFY_CACHE_TTL_MS: 60_000,
      VERIFY_NEGATIVE_TTL_MS: 2_000,
      VERIFY_STALE_MAX_MS: 300_000,
      CURRENT_KEY_CACHE_TTL_MS: 30_000,
      CURRENT_KEY_CACHE_MAX: 100_000,
      REVOCATION_POLL_MS: 1_000,
      LOGS_TIMEOUT_MS: 2_500,
      DB_POOL_MAX: 10,
      LIFECYCLE_SWEEP_MS: 1_000,
    });
    expect(c.JWT_JWKS_FILE).toBeUndefined();
    expect(c.JWT_JWKS_URL).toBeUndefined();
    expect(c.JWT_ISSUER).toBeUndefined();
  });

  test("set values are parsed into numbers", () => {
    const c = loadConfig({ ...BASE, PORT: "8080", RATE_LIMIT_PER_MINUTE: "5", CURRENT_KEY_CACHE_TTL_MS: "0", REVOCATION_POLL_MS: "0" });
    expect([c.PORT, c.RATE_LIMIT_PER_MINUTE, c.CURRENT_KEY_CACHE_TTL_MS, c.REVOCATION_POLL_MS]).toEqual([8080, 5, 0, 0]);
  });
});

describe("required values", () => {
  test("DATABASE_URL must be a postgres URL", () => {
    expect(verdict({ ...BASE, DATABASE_URL: undefined })).toBe("DATABASE_URL: is required");
    expect(verdict({ ...BASE, DATABASE_URL: "mysql://u@h/db" })).toBe("DATABASE_URL: must be a URL starting with postgres: or postgresql://");
    expect(verdict({ ...BASE, DATABASE_URL: "postgresql://h/db" })).toBe("ok");
  });

  test("NATS_URL is required", () => {
    expect(verdict({ ...BASE, NATS_URL: undefined })).toBe("NATS_URL: is required");
  });
});

describe("JWT settings", () => {
  test("HS256 secret: 32 characters at least", () => {
    expect(verdict({ ...BASE, JWT_SECRET: "x".repeat(31) })).toBe("JWT_SECRET: must be at least 32 characters");
    expect(verdict({ ...BASE, JWT_SECRET: "x".repeat(32) })).toBe("ok");
  });

  test("some way to verify tokens is required; an empty variable counts as unset", () => {
    const message = "JWT_SECRET: is required (or JWT_JWKS_FILE / JWT_JWKS_URL for asymmetric tokens)";
    expect(verdict({ ...BASE, JWT_SECRET: undefined })).toBe(message);
    expect(verdict({ ...BASE, JWT_SECRET: "" })).toBe(message);
    expect(verdict({ ...BASE, JWT_SECRET: undefined, JWT_JWKS_URL: "https://idp.example.com/.well-known/jwks.json" })).toBe("ok");
  });

  test("a JWKS URL must be http(s)", () => {
    expect(verdict({ ...BASE, JWT_JWKS_URL: "ftp://idp.example.com/jwks" })).toBe("JWT_JWKS_URL: must be an http(s):// URL");
  });

  test("production refuses the public development secret; development accepts it, production another secret", () => {
    expect(verdict({ ...BASE, JWT_SECRET: DEV_JWT_SECRET, NODE_ENV: "production" })).toBe("JWT_SECRET: is the public development secret, refused when NODE_ENV=production");
    expect(verdict({ ...BASE, JWT_SECRET: DEV_JWT_SECRET })).toBe("ok");
    expect(verdict({ ...BASE, JWT_SECRET: DEV_JWT_SECRET, NODE_ENV: "development" })).toBe("ok");
    expect(verdict({ ...BASE, NODE_ENV: "production" })).toBe("ok");
  });

  test("a JWKS file is read once at start and must hold a non-empty keys array", () => {
    const good = join(dir, "jwks.json");
    const jwks = { keys: [{ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }] };
    writeFileSync(good, JSON.stringify(jwks));
    const c = loadConfig({ ...BASE, JWT_SECRET: undefined, JWT_JWKS_FILE: good });
    expect(c.JWT_JWKS_FILE).toEqual({ path: good, jwks });

    for (const [name, text] of [
      ["empty-keys.json", '{"keys":[]}'],
      ["no-keys.json", '{"kid":"x"}'],
      ["not-json.json", "{ nope"],
    ] as const) {
      writeFileSync(join(dir, name), text);
      expect(verdict({ ...BASE, JWT_JWKS_FILE: join(dir, name) })).toBe('JWT_JWKS_FILE: must be a JWKS: JSON with a non-empty "keys" array');
    }
  });

  test("an unreadable JWKS file is refused without naming the path (it could name a secret one)", () => {
    const missing = join(dir, "secret-name-nowhere.json");
    const v = verdict({ ...BASE, JWT_JWKS_FILE: missing });
    expect(v).toBe("JWT_JWKS_FILE: cannot be read");
    expect(v).not.toContain("secret-name-nowhere");
  });

  test("token lifetime cap: 1 s .. 1 year", () => {
    expect(verdict({ ...BASE, JWT_MAX_TTL_SECONDS: "0" })).toBe("JWT_MAX_TTL_SECONDS: must be an integer 1..31536000");
    expect(verdict({ ...BASE, JWT_MAX_TTL_SECONDS: "31536001" })).toBe("JWT_MAX_TTL_SECONDS: must be an integer 1..31536000");
    expect(verdict({ ...BASE, JWT_MAX_TTL_SECONDS: "31536000" })).toBe("ok");
  });
});

describe("bounds of the tuning values", () => {
  const cases: [string, string, string][] = [
    ["RATE_LIMIT_PER_MINUTE", "0", "must be an integer 1..1000000"],
    ["READ_RATE_LIMIT_PER_MINUTE", "0", "must be an integer 1..100000000"],
    ["LOGS_MAX_IN_FLIGHT_PER_OWNER", "0", "must be an integer 1..10000"],
    ["VERIFY_CACHE_MAX", "0", "must be an integer 1..50000000"],
    ["VERIFY_CACHE_TTL_MS", "-1", "must be an integer 0..86400000"],
    ["CURRENT_KEY_CACHE_MAX", "0", "must be an integer 1..50000000"],
    ["REVOCATION_POLL_MS", "3600001", "must be an integer 0..3600000"],
    ["LOGS_TIMEOUT_MS", "99", "must be an integer 100..60000"],
    ["DB_POOL_MAX", "1001", "must be an integer 1..1000"],
    ["LIFECYCLE_SWEEP_MS", "3600001", "must be an integer 0..3600000"],
    ["BODY_TIMEOUT_MS", "49", "must be an integer 50..600000"],
    ["PORT", "70000", "must be a port number 0..65535"],
  ];
  for (const [name, bad, reason] of cases) {
    test(`${name}=${bad} → "${name}: ${reason}"`, () => {
      expect(verdict({ ...BASE, [name]: bad })).toBe(`${name}: ${reason}`);
    });
  }

  test("the lifecycle sweep needs a second connection: DB_POOL_MAX=1 only with LIFECYCLE_SWEEP_MS=0", () => {
    expect(verdict({ ...BASE, DB_POOL_MAX: "1" })).toBe("DB_POOL_MAX: must be at least 2 while LIFECYCLE_SWEEP_MS is not 0");
    expect(verdict({ ...BASE, DB_POOL_MAX: "1", LIFECYCLE_SWEEP_MS: "0" })).toBe("ok");
    expect(verdict({ ...BASE, DB_POOL_MAX: "2" })).toBe("ok");
  });

  test("log level, subject prefix and stream name are checked too", () => {
    expect(verdict({ ...BASE, LOG_LEVEL: "loud" })).toStartWith("LOG_LEVEL: ");
    expect(verdict({ ...BASE, NATS_SUBJECT_PREFIX: "staging" })).toBe("NATS_SUBJECT_PREFIX: must be empty or like 'name.' (tokens ending in a dot)");
    expect(verdict({ ...BASE, USAGE_STREAM: "usage.events" })).toBe("USAGE_STREAM: must be 1-64 of A-Z a-z 0-9 _ -");
  });
});
