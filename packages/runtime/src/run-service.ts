import type { Server } from "bun";
import type { NatsConnection } from "nats";
import pino from "pino";
import type { NatsIdentity } from "@riskinmind/contracts";
import { createSql, type Sql } from "./db";
import { createLogger, errFields, type Logger } from "./logger";
import { createMetrics, type Metrics } from "./metrics";
import { migrate } from "./migrate";
import { connectNats, type NatsSettings } from "./nats";
import { type Fetchable, serve } from "./serve";

/** The part of a service's parsed config that runService reads (see runFields in config.ts). */
export interface RunConfig {
  LOG_LEVEL: string;
  PORT: number;
  HOST: string;
  SHUTDOWN_DEADLINE_MS: number;
}

export interface PostgresPlan {
  url: string;
  /** Pool size (DB_POOL_MAX). */
  poolMax?: number;
  /** Applied before the service is built: `<dir>/NNN_name.sql` into schema `schema`. */
  migrations?: { schema: string; dir: string };
  /**
   * A second pool for read paths that may lag (a streaming replica), given to
   * build as `readSql`. It connects lazily and is not asked at start: a
   * replica that is down must not keep the service from writing.
   */
  readUrl?: string | undefined;
}

export interface NatsPlan {
  settings: NatsSettings;
  /** The NATS user the process is (nats/nats-server.conf); also picks its reply inbox. */
  identity: NatsIdentity;
  /** The connection's name as the server shows it; the service's name when absent. */
  connectionName?: string;
}

/** What a service is to the process that runs it. */
export interface RunnableService {
  app: Fetchable & { compile?(): unknown };
  /** Subscribes, starts loops: everything that needs the connections. */
  start(): Promise<void>;
  /** Drains responders, flushes buffers, commits the batch in hand; the connections stay the caller's. */
  stop(): Promise<void>;
}

/** What `build` gets: `sql` when the definition has `postgres`, `nc` when it has `nats`. */
export type ServiceContext<P extends PostgresPlan | undefined, N extends NatsPlan | undefined> = { log: Logger; metrics: Metrics } & (P extends PostgresPlan
  ? { sql: Sql /** The read pool when `readUrl` is set. */; readSql?: Sql | undefined }
  : { sql?: undefined; readSql?: undefined }) &
  (N extends NatsPlan ? { nc: NatsConnection } : { nc?: undefined });

export interface ServiceDefinition<P extends PostgresPlan | undefined, N extends NatsPlan | undefined> {
  /** Names the logger's `service`, the metrics' `service` label and, by default, the NATS connection. */
  name: string;
  /** The service's own config, parsed once by its env.ts. */
  config: RunConfig;
  postgres?: P;
  nats?: N;
  build(ctx: ServiceContext<P, N>): RunnableService | Promise<RunnableService>;
  /** Where log lines go (stdout when absent). */
  logDestination?: pino.DestinationStream;
}

export interface RunningService {
  log: Logger;
  server: Server<undefined>;
  /** The same graceful stop a SIGTERM starts; the process exits at its end. */
  shutdown(reason: string): Promise<void>;
}

/**
 * The one way a process runs a service. Start: logger → metrics → Postgres →
 * migrations → NATS → build → start → listen, then one "listening" line; a
 * failure on the way is one error line, whatever was opened is closed, exit 1.
 * SIGTERM/SIGINT: stop accepting HTTP and let in-flight requests finish →
 * service.stop() → NATS drain → Postgres end → log flush → exit 0, all within
 * SHUTDOWN_DEADLINE_MS (past it: one error line, exit 1), because an
 * orchestrator SIGKILLs a process that overstays its grace period and a
 * process that exits by itself says why in its last line.
 */
export async function runService<P extends PostgresPlan | undefined = undefined, N extends NatsPlan | undefined = undefined>(def: ServiceDefinition<P, N>): Promise<RunningService> {
  const { config } = def;
  const log = createLogger(def.name, config.LOG_LEVEL, def.logDestination);
  const metrics = createMetrics(def.name);
  let sql: Sql | undefined;
  let readSql: Sql | undefined;
  let nc: NatsConnection | undefined;
  let service: RunnableService | undefined;
  let server: Server<undefined> | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;

  let exiting: Promise<never> | undefined;
  // Once only: the deadline can fire while a graceful stop is already flushing its last line.
  const exit = (code: number): Promise<never> =>
    (exiting ??= (async () => {
      await flushLog(log);
      process.exit(code);
    })());

  /** Starts the deadline: the whole stop must fit in it. */
  const deadline = () =>
    setTimeout(() => {
      if (exiting) return;
      log.error({ deadlineMs: config.SHUTDOWN_DEADLINE_MS }, "shutdown exceeded its deadline; exiting");
      void exit(1);
    }, config.SHUTDOWN_DEADLINE_MS);

  /** Closes the connections that were opened, in the reverse order of opening. */
  const closeConnections = async (graceful: boolean): Promise<void> => {
    if (nc && !nc.isClosed()) {
      // Drain delivers what the subscriptions still hold and flushes what was published; after a failed start there is nothing to keep.
      if (graceful) await nc.drain();
      else await nc.close();
      if (graceful) log.info({ step: "nats" }, "nats drained");
    }
    if (sql) {
      await Promise.all([sql.end({ timeout: 5 }), readSql?.end({ timeout: 5 })]);
      if (graceful) log.info({ step: "postgres" }, "postgres closed");
    }
  };

  function shutdown(reason: string): Promise<void> {
    stopping ??= (async () => {
      deadline();
      log.info({ reason }, "shutting down");
      let failed = false;
      const step = async (name: string, run: () => Promise<void>) => {
        try {
          await run();
        } catch (e) {
          // One failed step must not keep the others from releasing what they hold.
          failed = true;
          log.error({ ...errFields(e), step: name }, "shutdown step failed");
        }
      };
      if (server) {
        const s = server;
        await step("http", async () => {
          await s.stop(false);
          log.info({ step: "http" }, "http closed");
        });
      }
      if (service && started) {
        const svc = service;
        await step("service", async () => {
          await svc.stop();
          log.info({ step: "service" }, "service stopped");
        });
      }
      await step("connections", () => closeConnections(true));
      log.info("stopped");
      await exit(failed ? 1 : 0);
    })();
    return stopping;
  }

  // Installed first: a signal that arrives while connecting (NATS may wait for its server) still stops the process, within the deadline.
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void shutdown(signal));

  // A signal during start begins the shutdown; the start then goes no further (the shutdown ends the process).
  const halted = () => stopping !== undefined;
  const never = () => new Promise<never>(() => {});
  let phase = "postgres";
  try {
    if (def.postgres) {
      sql = createSql(def.postgres.url, { max: def.postgres.poolMax ?? 10, name: def.name });
      // The pool connects lazily: ask once, so an unreachable database fails the start here, named as such.
      await sql`select 1`;
      if (halted()) return never();
      if (def.postgres.readUrl) readSql = createSql(def.postgres.readUrl, { max: def.postgres.poolMax ?? 10, name: `${def.name}-read` });
      if (def.postgres.migrations) {
        phase = "migrations";
        await migrate(sql, def.postgres.migrations.schema, def.postgres.migrations.dir);
        if (halted()) return never();
      }
    }
    if (def.nats) {
      phase = "nats";
      nc = await connectNats(def.nats.settings, def.nats.identity, def.nats.connectionName ?? def.name, log);
      if (halted()) return never();
    }
    phase = "build";
    service = await def.build({ log, metrics, sql, readSql, nc } as ServiceContext<P, N>);
    if (halted()) return never();
    phase = "start";
    await service.start();
    started = true;
    if (halted()) return never();
    phase = "listen";
    server = serve(service.app, { port: config.PORT, hostname: config.HOST });
  } catch (e) {
    if (halted()) return never();
    log.error({ ...errFields(e), phase }, "start failed");
    stopping = (async () => {
      deadline();
      // Best effort and silent: the one line above says what went wrong.
      await service?.stop().catch(() => {});
      await closeConnections(false).catch(() => {});
      await exit(1);
    })();
    return never();
  }
  log.info({ port: server.port, host: config.HOST }, "listening");
  return { log, server, shutdown };
}

/** The longest the last log lines may take to reach their destination before the process exits anyway. */
const LOG_FLUSH_BOUND_MS = 1_000;

/**
 * Resolves once the log lines written so far are out. pino's flush() does not
 * wait for a write already handed to the OS (its destination writes at once,
 * asynchronously), so process.exit right after it can lose the last line, the
 * one that says why the process exits; ending the destination waits for it.
 */
function flushLog(log: Logger): Promise<void> {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { end?: () => void; once?: (event: string, listener: () => void) => void } | undefined;
  if (typeof stream?.end !== "function" || typeof stream.once !== "function") return Promise.resolve();
  const { end, once } = { end: stream.end.bind(stream), once: stream.once.bind(stream) };
  return new Promise((resolve) => {
    const bound = setTimeout(resolve, LOG_FLUSH_BOUND_MS);
    once("close", () => {
      clearTimeout(bound);
      resolve();
    });
    end();
  });
}
