/**
 * The integration harness every test uses: a database of its own, NATS names
 * of its own, tokens, and child processes that are always reaped. Postgres and
 * NATS are real (see test/preload.ts for where they come from).
 */
import postgres from "postgres";
import { SignJWT } from "jose";
import type { Subprocess } from "bun";
import type { ConnectionOptions } from "nats";
import { INBOX_PREFIX, type Topology } from "@riskinmind/contracts";
import { credentialUrl, type NatsPasswords, type NatsUser } from "../../scripts/lib/nats";

export type { NatsUser } from "../../scripts/lib/nats";

export const JWT_SECRET = "test-secret-that-is-long-enough-0123456789";

/** Every route of the keys edge that needs a JWT: the spec's five, with and without the trailing slash. */
export const KEY_ROUTES = [
  ["GET", "/api/v1/keys/"],
  ["GET", "/api/v1/keys"],
  ["POST", "/api/v1/keys/generate"],
  ["POST", "/api/v1/keys/regenerate"],
  ["POST", "/api/v1/keys/revoke"],
  ["GET", "/api/v1/keys/logs"],
] as const;

export function adminDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set (test/preload.ts should have set it)");
  return url;
}

/**
 * How each user of nats/nats-server.conf reaches one server: the URL a
 * service takes as NATS_URL, and the options a test-side `connect()` takes
 * (nats.js reads no credentials from a URL).
 */
export interface NatsAccess {
  /** `nats://user:pass@host:port`, what a service of that identity gets as NATS_URL. */
  url(user?: NatsUser): string;
  /** nats.js connect options for `user` (credentials; a service identity's inbox prefix), merged with `extra`. */
  options(user?: NatsUser, extra?: ConnectionOptions): ConnectionOptions;
}

/** Access to a server started from nats/nats-server.conf with `passwords`; without them, an open server (the benchmark's). */
export function natsAccess(server: string, passwords?: NatsPasswords): NatsAccess {
  return {
    url: (user = "admin") => (passwords ? credentialUrl(server, user, passwords) : server),
    options: (user = "admin", extra = {}) => ({
      servers: server,
      ...(passwords ? { user, pass: passwords[user] } : {}),
      // The same inbox the service of that identity uses: its replies are allowed there and only there.
      ...(user === "admin" ? {} : { inboxPrefix: INBOX_PREFIX[user] }),
      ...extra,
    }),
  };
}

/**
 * This run's NATS: the nats-server test/preload.ts started from the repository
 * config. Run without the preload (the benchmark), the open server in NATS_URL.
 */
export function testNats(): NatsAccess {
  const server = process.env.RIM_TEST_NATS_SERVER;
  if (server) return natsAccess(server, JSON.parse(process.env.RIM_TEST_NATS_PASSWORDS ?? "null") as NatsPasswords);
  const open = process.env.NATS_URL;
  if (!open) throw new Error("no NATS: test/preload.ts sets RIM_TEST_NATS_SERVER (or give NATS_URL outside bun test)");
  return natsAccess(open);
}

/** This run's NATS URL for `user` (admin: everything, for test-side checks). */
export function natsUrl(user: NatsUser = "admin"): string {
  return testNats().url(user);
}

/** Connect options for this run's NATS as `user`: `connect(natsOptions())` is the test side's admin connection. */
export function natsOptions(user: NatsUser = "admin", extra: ConnectionOptions = {}): ConnectionOptions {
  return testNats().options(user, extra);
}

/** A short random token for names, e.g. `k3x9q2`. */
export function uniqueSuffix(): string {
  return Math.random().toString(36).slice(2, 8) + Date.now().toString(36).slice(-3);
}

export interface TestDb {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database for one test file, dropped by `drop()`. */
export async function createTestDb(): Promise<TestDb> {
  const admin = postgres(adminDatabaseUrl(), { max: 1, onnotice: () => {} });
  const name = `rim_test_${uniqueSuffix()}`;
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const a = postgres(adminDatabaseUrl(), { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** NATS subjects and stream names nobody else uses. */
export function testTopology(): Topology {
  const s = uniqueSuffix();
  return { prefix: `t${s}.`, stream: `USAGE_t${s}` };
}

/** The NATS identity each service entry point connects as. */
export const ENTRY_IDENTITY: Record<string, NatsUser> = {
  "services/keys/src/main.ts": "keys",
  "services/usage/src/main.ts": "usage",
  "examples/loans-api/src/main.ts": "guard",
  "bench/fixtures/guarded.ts": "guard",
};

/**
 * Environment for a service process under test. NATS_URL carries `identity`'s
 * credentials on this run's server; startService() gives each entry point its
 * own identity's instead.
 */
export function serviceEnv(db: Pick<TestDb, "url">, topo: Topology, extra: Record<string, string> = {}, identity: NatsUser = "keys"): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/root",
    DATABASE_URL: db.url,
    NATS_URL: natsUrl(identity),
    NATS_SUBJECT_PREFIX: topo.prefix,
    USAGE_STREAM: topo.stream,
    JWT_SECRET,
    LOG_LEVEL: "warn",
    ...extra,
  };
}

/**
 * Environment for `bun run start`, which runs keys, usage and the example
 * side by side: NATS_URL is keys' and each other process gets its own
 * identity (usage with keys' user could not create its stream).
 */
export function startEnv(db: Pick<TestDb, "url">, topo: Topology, extra: Record<string, string> = {}): Record<string, string> {
  return { ...serviceEnv(db, topo), USAGE_NATS_URL: natsUrl("usage"), EXAMPLE_NATS_URL: natsUrl("guard"), ...extra };
}

/** A signed HS256 token; pass claims to override or `alg` to forge. */
export async function token(sub: string | undefined, opts: { secret?: string; expSeconds?: number; nbfSeconds?: number; alg?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {};
  if (sub !== undefined) claims.sub = sub;
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? "HS256", typ: "JWT" }).setIssuedAt(now);
  jwt = jwt.setExpirationTime(now + (opts.expSeconds ?? 3600));
  if (opts.nbfSeconds !== undefined) jwt = jwt.setNotBefore(now + opts.nbfSeconds);
  return jwt.sign(new TextEncoder().encode(opts.secret ?? JWT_SECRET));
}

/** An unsigned `alg: none` token with the given claims. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}

export function authHeader(jwt: string): Record<string, string> {
  return { authorization: `Bearer ${jwt}` };
}

/** A free TCP port on loopback. */
export function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

/** Polls `probe` until it returns true (or throws after `timeoutMs`). */
export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

const children = new Set<Subprocess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

export interface Child {
  proc: Subprocess;
  /** Everything the process wrote, stdout and stderr together. */
  output(): string;
  kill(signal?: NodeJS.Signals | number): Promise<number | null>;
}

/** Spawns a process that is killed at exit whatever happens; output is kept for assertions. */
export function spawnChild(cmd: string[], env: Record<string, string>, cwd = `${import.meta.dir}/../..`): Child {
  let out = "";
  const proc = Bun.spawn(cmd, { env, cwd, stdout: "pipe", stderr: "pipe" });
  children.add(proc);
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) out += dec.decode(chunk);
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  return {
    proc,
    output: () => out,
    async kill(signal = "SIGTERM") {
      proc.kill(signal);
      const code = await proc.exited;
      children.delete(proc);
      return code;
    },
  };
}

/**
 * An env whose NATS_URL points at this run's server, switched to `entry`'s
 * own identity (a service never runs with another's rights); a NATS_URL
 * elsewhere (a server of the test's own, a deliberately wrong one) is kept.
 */
function withOwnIdentity(entry: string, env: Record<string, string>): Record<string, string> {
  const who = ENTRY_IDENTITY[entry];
  const server = process.env.RIM_TEST_NATS_SERVER;
  if (!who || !server || !env.NATS_URL || !URL.canParse(env.NATS_URL)) return env;
  if (new URL(env.NATS_URL).host !== new URL(server).host) return env;
  return { ...env, NATS_URL: natsUrl(who) };
}

/** Spawns a service (connecting as its own NATS identity) and waits until its `GET /health` answers 200. */
export async function startService(entry: string, env: Record<string, string>, port: number, timeoutMs = 15_000): Promise<Child> {
  const child = spawnChild(["bun", entry], { ...withOwnIdentity(entry, env), PORT: String(port) });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200, timeoutMs, `${entry} /health`);
  } catch (e) {
    await child.kill("SIGKILL");
    throw new Error(`${entry} did not become healthy: ${(e as Error).message}\n${child.output()}`);
  }
  return child;
}
