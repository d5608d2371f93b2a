import { z } from "zod";
import { parseNatsUrls } from "./nats-url";

/**
 * Parses the environment once at start. A bad or missing value ends the
 * process with one line naming the variable (exit 1), never a stack trace.
 */
export function parseConfig<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined> = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = issue.path.join(".") || "environment";
  process.stderr.write(`config error: ${name}: ${issue.message}\n`);
  process.exit(1);
}

/** Reusable field parsers for the variables every service shares. */
/**
 * A number written in plain decimal digits; an empty value means unset (compose
 * files and shells pass `X=` for "not given"). `Number()` alone would read ""
 * as 0 (silently disabling a poll or a cache) and accept "0x10" or "1e3".
 */
function decimal(v: string, fallback: number): number {
  const t = v.trim();
  if (t === "") return fallback;
  return /^\d+$/.test(t) ? Number(t) : Number.NaN;
}

export const field = {
  url: (protocols: string[]) =>
    z
      .string({ error: "is required" })
      .min(1, "is required")
      .refine(
        (v) => {
          try {
            return protocols.includes(new URL(v).protocol);
          } catch {
            return false;
          }
        },
        `must be a URL starting with ${protocols.join(" or ")}//`,
      ),
  /** Like url, but unset or empty means absent (undefined). */
  optionalUrl: (protocols: string[]) =>
    z
      .string()
      .optional()
      .transform((v) => (v === undefined || v.trim() === "" ? undefined : v))
      .refine(
        (v) => {
          if (v === undefined) return true;
          try {
            return protocols.includes(new URL(v).protocol);
          } catch {
            return false;
          }
        },
        `must be a URL starting with ${protocols.join(" or ")}//`,
      ),
  /** One NATS URL, or a cluster's as a comma-separated list (see parseNatsUrls). */
  natsUrls: (protocols: string[]) =>
    z
      .string({ error: "is required" })
      .min(1, "is required")
      .superRefine((v, ctx) => {
        try {
          parseNatsUrls(v, protocols);
        } catch (e) {
          // The message names the fault and the URL's position, never its text (it may hold a password).
          ctx.addIssue({ code: "custom", message: (e as Error).message });
        }
      }),
  port: (fallback: number) =>
    z
      .string()
      .default(String(fallback))
      .transform((v) => decimal(v, fallback))
      .refine((n) => Number.isInteger(n) && n >= 0 && n <= 65535, "must be a port number 0..65535"),
  int: (fallback: number, min: number, max: number) =>
    z
      .string()
      .default(String(fallback))
      .transform((v) => decimal(v, fallback))
      .refine((n) => Number.isInteger(n) && n >= min && n <= max, `must be an integer ${min}..${max}`),
  logLevel: () => z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /** Subject prefix for isolation: empty, or dot-terminated NATS tokens. */
  subjectPrefix: () =>
    z
      .string()
      .default("")
      .refine((v) => v === "" || /^([A-Za-z0-9_-]+\.)+$/.test(v), "must be empty or like 'name.' (tokens ending in a dot)"),
  streamName: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine((v) => /^[A-Za-z0-9_-]{1,64}$/.test(v), "must be 1-64 of A-Z a-z 0-9 _ -"),
  optionalPath: () =>
    z
      .string()
      .optional()
      .transform((v) => (v === "" ? undefined : v)),
};

/** NATS connection settings shared by every service. */
export const natsFields = {
  /** One server, or every node of a cluster: `nats://u:p@h1:4222,nats://u:p@h2:4222`. */
  NATS_URL: field.natsUrls(["nats:", "tls:", "ws:", "wss:"]),
  /** A .creds file (JWT + nkey seed) for NATS decentralized auth. */
  NATS_CREDS_FILE: field.optionalPath(),
  /** A file holding an nkey seed (SU...) for nkey auth. */
  NATS_NKEY_SEED_FILE: field.optionalPath(),
  NATS_SUBJECT_PREFIX: field.subjectPrefix(),
  USAGE_STREAM: field.streamName("USAGE"),
  KEY_EVENTS_STREAM: field.streamName("KEY_EVENTS"),
  /**
   * Replicas of each stream a service creates (usage, key events): 3 on a
   * 3-node cluster keeps every event through the loss of one node. 1 on a
   * single server (it refuses more). An existing stream is brought to this.
   */
  NATS_STREAM_REPLICAS: field.int(1, 1, 5),
};

/** HTTP settings every service's edge shares. */
export const httpFields = {
  /** How long a request body may take to arrive in full before 408 REQUEST_TIMEOUT. */
  BODY_TIMEOUT_MS: field.int(10_000, 50, 600_000),
};

/** Settings runService reads, the same for every service. */
export const runFields = {
  /** How long a graceful stop (SIGTERM/SIGINT) may take in all; past it the process logs one error line and exits 1. */
  SHUTDOWN_DEADLINE_MS: field.int(20_000, 100, 600_000),
};
