/**
 * `bun run start`: the production-style launcher. Each service runs as its
 * own process with the environment as given (each service's env.ts validates
 * DATABASE_URL, NATS_URL, JWT_SECRET... and exits 1 naming a bad one). Output
 * stays pure JSON lines. SIGTERM/SIGINT are forwarded; when any child dies the
 * others are stopped and we exit non-zero, so a supervisor restarts the set.
 *
 *   bun run start                  keys + usage
 *   bun run start -- --with-example  also the example protected API
 *
 * Ports: the keys edge listens on KEYS_PORT, else PORT (the documented port
 * of the edge), else 3000; usage on USAGE_PORT (3001), the example on
 * EXAMPLE_PORT (3002). NATS: each service connects as its own user of
 * nats/nats-server.conf, so KEYS_NATS_URL, USAGE_NATS_URL and
 * EXAMPLE_NATS_URL, when set, replace NATS_URL for that one process. In
 * containers run one service per container instead (see docker-compose.yml).
 */
import { z } from "zod";
import { field, parseConfig } from "@riskinmind/runtime";
import { spawnManaged, type ManagedChild } from "./lib/children";
import { EXAMPLE, KEYS, ROOT, USAGE, type ServiceDef } from "./lib/services";

const ownNatsUrl = field.natsUrls(["nats:", "tls:", "ws:", "wss:"]).optional();
const env = parseConfig(
  z.object({
    PORT: field.port(KEYS.defaultPort),
    // Unset means "use PORT"; a set value is still checked like any port.
    KEYS_PORT: z.union([z.undefined(), field.port(KEYS.defaultPort)]),
    USAGE_PORT: field.port(USAGE.defaultPort),
    EXAMPLE_PORT: field.port(EXAMPLE.defaultPort),
    KEYS_NATS_URL: ownNatsUrl,
    USAGE_NATS_URL: ownNatsUrl,
    EXAMPLE_NATS_URL: ownNatsUrl,
  }),
);
const withExample = Bun.argv.slice(2).includes("--with-example");
const unknown = Bun.argv.slice(2).filter((a) => a !== "--with-example");
if (unknown.length) {
  process.stderr.write(`unknown argument ${unknown[0]}; usage: bun run start [-- --with-example]\n`);
  process.exit(1);
}

const plan: Array<[ServiceDef, number]> = [[KEYS, env.KEYS_PORT ?? env.PORT], [USAGE, env.USAGE_PORT], ...(withExample ? ([[EXAMPLE, env.EXAMPLE_PORT]] as Array<[ServiceDef, number]>) : [])];

/** The service's own NATS_URL (`KEYS_NATS_URL`...) when given: its identity, not a shared one. */
function natsUrlOf(svc: ServiceDef): { NATS_URL?: string } {
  const own = { keys: env.KEYS_NATS_URL, usage: env.USAGE_NATS_URL, example: env.EXAMPLE_NATS_URL }[svc.name];
  return own ? { NATS_URL: own } : {};
}

const children: ManagedChild[] = [];
let stopping: Promise<never> | undefined;
function stopAll(code: number): Promise<never> {
  stopping ??= (async () => {
    await Promise.all(children.map((c) => c.stop(25_000)));
    process.exit(code);
  })();
  return stopping;
}
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void stopAll(0));

for (const [svc, port] of plan) {
  const child = spawnManaged({
    name: svc.name,
    cmd: [process.execPath, svc.entry],
    // Production unless told otherwise: e.g. the keys service then refuses the public development JWT secret.
    env: { NODE_ENV: "production", ...process.env, ...natsUrlOf(svc), PORT: String(port) },
    cwd: ROOT,
    output: "raw",
  });
  children.push(child);
  void child.exited.then((code) => {
    if (stopping) return;
    process.stderr.write(`${JSON.stringify({ level: "error", time: new Date().toISOString(), service: "start", child: svc.name, code, msg: "child exited; stopping the others" })}\n`);
    void stopAll(code === 0 ? 1 : code);
  });
}
