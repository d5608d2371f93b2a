/**
 * `bun run token -- --sub <owner> [--ttl 1h]`: prints a JWT for the keys
 * service's HTTP API, signed with JWT_SECRET (or the development secret, with
 * a warning on stderr; refused when NODE_ENV=production).
 */
import { parseArgs } from "node:util";
import { chooseJwtSecret, DEV_SECRET_WARNING } from "./lib/dev-secret";
import { parseTtl, signToken } from "./lib/jwt";

const USAGE = "usage: bun run token -- --sub <owner> [--ttl 30s|15m|1h|1d] (at most JWT_MAX_TTL_SECONDS, default 1d)";

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

let values: { sub?: string; ttl?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    args: Bun.argv.slice(2),
    options: { sub: { type: "string" }, ttl: { type: "string", default: "1h" }, help: { type: "boolean", short: "h" } },
    strict: true,
  }));
} catch (e) {
  fail(`${(e as Error).message}\n${USAGE}`);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const sub = values.sub?.trim();
if (!sub) fail(`--sub is required (the owner of the keys)\n${USAGE}`);
const ttlSeconds = parseTtl(values.ttl ?? "1h");
if (ttlSeconds === undefined) fail(`--ttl must look like 30s, 15m, 1h or 7d (got "${values.ttl}")`);

// The keys service refuses tokens that live longer than JWT_MAX_TTL_SECONDS: do not sign one.
const maxTtl = Number(process.env.JWT_MAX_TTL_SECONDS || 86_400);
if (!(Number.isInteger(maxTtl) && maxTtl > 0)) fail("JWT_MAX_TTL_SECONDS must be a positive integer");
if (ttlSeconds > maxTtl) fail(`--ttl ${values.ttl} is longer than the keys service accepts (JWT_MAX_TTL_SECONDS=${maxTtl}); use a shorter --ttl`);

const choice = chooseJwtSecret(process.env);
if (!choice.ok) fail(choice.message.replace("; nothing was started", ""));
if (choice.isDev) process.stderr.write(`${DEV_SECRET_WARNING}\n`);
process.stdout.write(`${await signToken(choice.secret, sub, ttlSeconds)}\n`);
