/** The environment of `bun run dev`, parsed once (zod, fail fast with one line). */
import { z } from "zod";
import { field, parseConfig } from "@riskinmind/runtime";

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(field.url(protocols).optional());
/** NATS_URL as the services take it: one server or a cluster's comma-separated list. */
const optionalNatsUrls = (protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(field.natsUrls(protocols).optional());

const devSchema = z.object({
  /** Where the embedded Postgres and nats-server keep their data. */
  DATA_DIR: z.string().default(".data"),
  /** Preferred ports of the embedded servers (another free port is used when taken). */
  PG_PORT: field.port(5433),
  NATS_PORT: field.port(4223),
  KEYS_PORT: field.port(3000),
  USAGE_PORT: field.port(3001),
  EXAMPLE_PORT: field.port(3002),
  DATABASE_URL: optionalUrl(["postgres:", "postgresql:"]),
  NATS_URL: optionalNatsUrls(["nats:", "tls:", "ws:", "wss:"]),
  LOG_LEVEL: field.logLevel(),
  /** Where the services listen; loopback by default so a dev stack is not reachable from the network. */
  HOST: z.string().min(1).default("127.0.0.1"),
});

export type DevEnv = z.infer<typeof devSchema>;

/** Parses the dev settings; exits 1 with one line on a bad value. */
export function parseDevEnv(env: Record<string, string | undefined> = process.env): DevEnv {
  return parseConfig(devSchema, env);
}
