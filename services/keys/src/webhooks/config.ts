import { z } from "zod";
import { field } from "@riskinmind/runtime";
import { parseSecretsKey } from "./secret-box";

const DAY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/** The webhook settings of the keys service (spread into keysEnv). */
export const webhookFields = {
  /** Key material for the signing secrets at rest: 64+ hex digits or base64 of 32+ bytes. Absent: derived from JWT_SECRET (HKDF). */
  WEBHOOK_SECRETS_KEY: z
    .string()
    .optional()
    .transform((v, ctx): Buffer | undefined => {
      if (v === undefined || v === "") return undefined;
      const key = parseSecretsKey(v.trim());
      if (key === null) {
        ctx.addIssue({ code: "custom", message: "must be 32+ bytes as hex or base64" });
        return z.NEVER;
      }
      return key;
    }),
  /** true: http:// and private, loopback, link-local targets are allowed (development and tests only). */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z
    .enum(["true", "false", ""])
    .default("false")
    .transform((v) => v === "true"),
  /** Waits before each retry, comma-separated ms; after the last one fails, the delivery is failed. Default: about a day. */
  WEBHOOK_RETRY_SCHEDULE_MS: z
    .string()
    .default(DAY_SCHEDULE_MS.join(","))
    .transform((v, ctx) => {
      const parts = v.split(",").map((p) => p.trim());
      if (parts.length > 50 || parts.some((p) => !/^[1-9][0-9]{0,9}$/.test(p))) {
        ctx.addIssue({ code: "custom", message: "must be 1-50 comma-separated positive integers (ms)" });
        return z.NEVER;
      }
      return parts.map(Number);
    }),
  /** One attempt's limit: connect, send, answer. */
  WEBHOOK_TIMEOUT_MS: field.int(10_000, 100, 120_000),
  /** Attempts in flight at once, per replica. */
  WEBHOOK_CONCURRENCY: field.int(8, 1, 256),
  /** How often a replica looks for due deliveries it was not told about (other replicas' events, retries). */
  WEBHOOK_POLL_MS: field.int(1_000, 10, 60_000),
};
