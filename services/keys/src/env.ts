import { readFileSync } from "node:fs";
import { z } from "zod";
import { DEV_JWT_SECRET, field, httpFields, natsFields, parseConfig, runFields } from "@riskinmind/runtime";
import type { JSONWebKeySet } from "jose";
import { leakReportKeysField } from "./leaks/config";
import { webhookFields } from "./webhooks/config";

const optional = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === "" ? undefined : v));

/** A JWKS file, read and checked once at start (a bad file is a config error, not a 401 on every request). */
const jwksFile = optional().transform((path, ctx): { path: string; jwks: JSONWebKeySet } | undefined => {
  if (path === undefined) return undefined;
  // The reason names the failure only: a parser's message could quote the file, and a wrong path could name a secret one.
  let text: string;
  let jwks: JSONWebKeySet | undefined;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    ctx.addIssue({ code: "custom", message: "cannot be read" });
    return z.NEVER;
  }
  try {
    jwks = JSON.parse(text) as JSONWebKeySet;
  } catch {
    jwks = undefined;
  }
  if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) {
    ctx.addIssue({ code: "custom", message: 'must be a JWKS: JSON with a non-empty "keys" array' });
    return z.NEVER;
  }
  return { path, jwks };
});

/** Every setting of the keys service, parsed once at start. */
export const keysEnv = z
  .object({
    DATABASE_URL: field.url(["postgres:", "postgresql:"]),
    ...natsFields,
    NODE_ENV: optional(),
    // HS256 with a short secret is brute-forceable offline from one captured token.
    JWT_SECRET: optional().refine((v) => v === undefined || v.length >= 32, "must be at least 32 characters"),
    /** Public keys of the identity provider for EdDSA/ES256/RS256 tokens: a file... */
    JWT_JWKS_FILE: jwksFile,
    /** ...or a URL jose fetches and caches. */
    JWT_JWKS_URL: optional().refine((v) => v === undefined || /^https?:\/\//.test(v), "must be an http(s):// URL"),
    /** When set, a token's `iss` / `aud` must match. */
    JWT_ISSUER: optional(),
    JWT_AUDIENCE: optional(),
    /** Longest accepted token lifetime: exp − iat (or exp − now without iat). */
    JWT_MAX_TTL_SECONDS: field.int(86_400, 1, 31_536_000),
    PORT: field.port(3000),
    HOST: z.string().min(1).default("0.0.0.0"),
    LOG_LEVEL: field.logLevel(),
    ...runFields,
    ...httpFields,
    /** Management mutations (generate/regenerate/revoke) per owner per minute, per instance. */
    RATE_LIMIT_PER_MINUTE: field.int(20, 1, 1_000_000),
    /** Reads (GET / and /logs) per owner per minute, per instance. */
    READ_RATE_LIMIT_PER_MINUTE: field.int(600, 1, 100_000_000),
    /** Concurrent /logs requests of one owner; one more gets 429 (a noisy owner cannot crowd the usage service). */
    LOGS_MAX_IN_FLIGHT_PER_OWNER: field.int(4, 1, 10_000),
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
    /** How long the key-events stream keeps an event (30 days by default): consumers that fall further behind lose the oldest. */
    KEY_EVENTS_MAX_AGE_HOURS: field.int(720, 1, 87_600),
    /** How often the outbox publisher reads keys.outbox when no commit nudged it (another replica's commit, a failed round). */
    OUTBOX_POLL_MS: field.int(1_000, 50, 60_000),
    /** How often a replica looks for expiries, grace ends and quota thresholds to record (one replica per round); 0 disables. */
    LIFECYCLE_SWEEP_MS: field.int(1_000, 0, 3_600_000),
    /** Reporters' public keys for signed leak reports (leaks/config.ts); unset: every report gets 401. */
    LEAK_REPORT_PUBLIC_KEYS: leakReportKeysField(),
    /** Revoke-by-value requests per client address (TCP peer) per minute, per instance. */
    REVOKE_BY_VALUE_PER_MINUTE: field.int(60, 1, 1_000_000),
    ...webhookFields,
  })
  .superRefine((c, ctx) => {
    if (c.JWT_SECRET === undefined && c.JWT_JWKS_FILE === undefined && c.JWT_JWKS_URL === undefined) {
      ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "is required (or JWT_JWKS_FILE / JWT_JWKS_URL for asymmetric tokens)" });
    }
    // A round holds one connection for its lock while each change is recorded on another.
    if (c.LIFECYCLE_SWEEP_MS > 0 && c.DB_POOL_MAX < 2) {
      ctx.addIssue({ code: "custom", path: ["DB_POOL_MAX"], message: "must be at least 2 while LIFECYCLE_SWEEP_MS is not 0" });
    }
    // The development secret is in the repository: a token signed with it proves nothing.
    if (c.NODE_ENV === "production" && c.JWT_SECRET === DEV_JWT_SECRET) {
      ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "is the public development secret, refused when NODE_ENV=production" });
    }
  });
export type KeysConfig = z.infer<typeof keysEnv>;

/** Parses the environment or exits with one `config error: NAME: ...` line. */
export function loadConfig(env: Record<string, string | undefined> = process.env): KeysConfig {
  return parseConfig(keysEnv, env);
}
