import { z } from "zod";
import { field, natsFields, parseConfig } from "@riskinmind/runtime";

/** Every setting of the keys service, parsed once at start. */
export const keysEnv = z.object({
  DATABASE_URL: field.url(["postgres:", "postgresql:"]),
  ...natsFields,
  // HS256 with a short secret is brute-forceable offline from one captured token.
  JWT_SECRET: z.string({ error: "is required" }).min(32, "must be at least 32 characters"),
  PORT: field.port(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  LOG_LEVEL: field.logLevel(),
  /** Management mutations (generate/regenerate/revoke) per owner per minute, per instance. */
  RATE_LIMIT_PER_MINUTE: field.int(20, 1, 1_000_000),
  VERIFY_CACHE_MAX: field.int(100_000, 1, 50_000_000),
  VERIFY_CACHE_TTL_MS: field.int(60_000, 0, 86_400_000),
  VERIFY_NEGATIVE_TTL_MS: field.int(2_000, 0, 86_400_000),
  /** How long a cached answer may outlive its TTL while Postgres is unreachable. */
  VERIFY_STALE_MAX_MS: field.int(300_000, 0, 86_400_000),
  /** How long GET /api/v1/keys/ answers from memory; 0 disables. Changes invalidate at once (broadcast). */
  CURRENT_KEY_CACHE_TTL_MS: field.int(30_000, 0, 86_400_000),
  CURRENT_KEY_CACHE_MAX: field.int(100_000, 1, 50_000_000),
  /** How often every replica re-reads recent revocations from Postgres (the bound when a broadcast is lost); 0 disables. */
  REVOCATION_POLL_MS: field.int(1_000, 0, 3_600_000),
  LOGS_TIMEOUT_MS: field.int(2_500, 100, 60_000),
  DB_POOL_MAX: field.int(10, 1, 1000),
});
export type KeysConfig = z.infer<typeof keysEnv>;

/** Parses the environment or exits with one `config error: NAME: ...` line. */
export function loadConfig(env: Record<string, string | undefined> = process.env): KeysConfig {
  return parseConfig(keysEnv, env);
}
