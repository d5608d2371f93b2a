/**
 * The usage service's configuration: documented defaults (README,
 * Configuration) and refusals with the line parseConfig prints; the NATS
 * names it derives.
 */
import { describe, expect, test } from "bun:test";
import { loadUsageConfig, topologyOf, UsageEnv } from "./env";

const BASE = { DATABASE_URL: "postgres://usage@127.0.0.1:5432/usage", NATS_URL: "nats://usage:pw@127.0.0.1:4222" };

const verdict = (env: Record<string, string | undefined>) => {
  const r = UsageEnv.safeParse(env);
  if (r.success) return "ok";
  const issue = r.error.issues[0]!;
  return `${issue.path.join(".")}: ${issue.message}`;
};

describe("usage config", () => {
  test("every optional setting takes its documented default", () => {
    expect(loadUsageConfig(BASE)).toMatchObject({
      PORT: 3001,
      HOST: "0.0.0.0",
      LOG_LEVEL: "info",
      NATS_SUBJECT_PREFIX: "",
      USAGE_STREAM: "USAGE",
      INGEST_BATCH_MAX: 2000,
      INGEST_BATCH_WAIT_MS: 5,
      INGEST_LANES: 2,
      USAGE_STREAM_MAX_AGE_HOURS: 168,
      USAGE_ACK_WAIT_MS: 30_000,
      NATS_STREAM_REPLICAS: 1,
      DB_POOL_MAX: 10,
      KEY_LOOKUP_TIMEOUT_MS: 2_000,
      KEY_OWNER_CACHE_MAX: 100_000,
      USAGE_RETENTION_DAYS: 400,
    });
  });

  test("Postgres and NATS URLs are required and must have the right scheme", () => {
    expect(verdict({ ...BASE, DATABASE_URL: undefined })).toBe("DATABASE_URL: is required");
    expect(verdict({ ...BASE, NATS_URL: "" })).toBe("NATS_URL: is required");
    expect(verdict({ ...BASE, NATS_URL: "http://127.0.0.1:4222" })).toBe("NATS_URL: must be a URL starting with nats: or tls: or ws: or wss://");
  });

  const cases: [string, string, string][] = [
    ["INGEST_BATCH_MAX", "0", "must be an integer 1..10000"],
    ["INGEST_BATCH_MAX", "10001", "must be an integer 1..10000"],
    ["INGEST_BATCH_WAIT_MS", "-1", "must be an integer 0..10000"],
    ["INGEST_LANES", "0", "must be an integer 1..16"],
    ["INGEST_LANES", "17", "must be an integer 1..16"],
    ["USAGE_STREAM_MAX_AGE_HOURS", "0", "must be an integer 1..8760"],
    ["USAGE_ACK_WAIT_MS", "999", "must be an integer 1000..600000"],
    ["USAGE_STREAM_MAX_AGE_HOURS", "8761", "must be an integer 1..8760"],
    ["DB_POOL_MAX", "201", "must be an integer 1..200"],
    ["KEY_LOOKUP_TIMEOUT_MS", "49", "must be an integer 50..60000"],
    ["KEY_OWNER_CACHE_MAX", "0", "must be an integer 1..50000000"],
    ["USAGE_RETENTION_DAYS", "0", "must be an integer 1..3650"],
    ["USAGE_RETENTION_DAYS", "3651", "must be an integer 1..3650"],
    ["PORT", "65536", "must be a port number 0..65535"],
    ["USAGE_STREAM", "a.b", "must be 1-64 of A-Z a-z 0-9 _ -"],
  ];
  for (const [name, bad, reason] of cases) {
    test(`${name}=${bad} → "${name}: ${reason}"`, () => {
      expect(verdict({ ...BASE, [name]: bad })).toBe(`${name}: ${reason}`);
    });
  }

  test("the bounds themselves are accepted", () => {
    expect(verdict({ ...BASE, INGEST_BATCH_MAX: "10000", INGEST_BATCH_WAIT_MS: "0", USAGE_STREAM_MAX_AGE_HOURS: "8760", KEY_LOOKUP_TIMEOUT_MS: "50" })).toBe("ok");
  });

  test("DATABASE_READ_URL is optional (unset or empty: reads stay on DATABASE_URL) and must be a postgres URL when given", () => {
    expect(loadUsageConfig(BASE).DATABASE_READ_URL).toBeUndefined();
    expect(loadUsageConfig({ ...BASE, DATABASE_READ_URL: "" }).DATABASE_READ_URL).toBeUndefined();
    expect(loadUsageConfig({ ...BASE, DATABASE_READ_URL: "postgres://usage@10.0.0.2:5432/usage" }).DATABASE_READ_URL).toBe("postgres://usage@10.0.0.2:5432/usage");
    expect(verdict({ ...BASE, DATABASE_READ_URL: "mysql://x@h/db" })).toBe("DATABASE_READ_URL: must be a URL starting with postgres: or postgresql://");
    expect(verdict({ ...BASE, DATABASE_READ_URL: "not a url" })).toBe("DATABASE_READ_URL: must be a URL starting with postgres: or postgresql://");
  });

  test("topologyOf takes the subject prefix and stream name from the config", () => {
    const c = loadUsageConfig({ ...BASE, NATS_SUBJECT_PREFIX: "staging.", USAGE_STREAM: "USAGE_staging" });
    expect(topologyOf(c)).toEqual({ prefix: "staging.", stream: "USAGE_staging" });
  });
});
