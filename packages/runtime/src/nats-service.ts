import { nanos, type NatsConnection, type NatsError, type Service, type ServiceMsg } from "nats";
import type { ResponderFailure } from "@riskinmind/contracts";
import { errFields, type Logger } from "./logger";

/** A standard NATS service error: `Nats-Service-Error-Code` / `Nats-Service-Error` headers on the reply. */
export interface ServiceErrorInfo {
  /** HTTP-like: 400 for a bad request, 503 for a dependency that is down, 500 for a bug. */
  code: number;
  /** The answer's code name (e.g. `MALFORMED`): fixed text, never request data. */
  description: string;
}

/**
 * One request/reply endpoint of a NATS service. The glue sends the reply, so
 * every request with a reply subject gets exactly one, whether `handle`
 * returns, throws or rejects.
 */
export interface EndpointSpec<A extends { reply: Uint8Array }> {
  /** Endpoint name in $SRV info/stats (letters, digits, `-`, `_`). */
  name: string;
  subject: string;
  /** Answers one request; a plain value is sent in the same tick (the hot path), a promise when it settles. */
  handle(data: Uint8Array): A | Promise<A>;
  /** The answer when `handle` throws or rejects (already logged). */
  failed: A;
  /** The standard service error this answer carries, or undefined for a normal answer. The body is `reply` either way. */
  errorOf(answer: A): ServiceErrorInfo | undefined;
  /** After the reply went out (the service's own metrics); `started` is performance.now() at arrival. */
  answered?(answer: A, started: number): void;
}

export interface NatsServiceConfig {
  name: string;
  version: string;
  description: string;
  /** Queue group of every endpoint: replicas share the load. */
  queue: string;
}

export interface NatsService {
  /** This instance's id in $SRV (ping/info/stats by name and id). */
  readonly id: string;
  addEndpoint<A extends { reply: Uint8Array }>(spec: EndpointSpec<A>): void;
  /** Resolves once the server took every subscription; rejects if it refused one (missing $SRV or subject rights). */
  ready(): Promise<void>;
  /** Stops taking requests, then waits until every request already taken has been answered. */
  stop(): Promise<void>;
}

/** The status a `{ok: false, code}` reply carries in its service error headers. */
const FAILURE_STATUS: Record<ResponderFailure, number> = { VALIDATION_ERROR: 400, DATABASE_UNAVAILABLE: 503, INTERNAL: 500 };

/** An encoded reply and, for a failure, its service error. */
export interface JsonAnswer {
  reply: Uint8Array;
  error?: ServiceErrorInfo;
}

const encoder = new TextEncoder();
const SRV_VERBS = ["PING", "INFO", "STATS"] as const;

/**
 * A reply of the `{ok: true, …} | {ok: false, code, message}` shape (keys.lookup,
 * usage.logs.query): the body exactly as before, and an `ok: false` one is
 * also a standard service error named by its code.
 */
export function jsonAnswer(body: { ok: true; [field: string]: unknown } | { ok: false; code: ResponderFailure; message: string }): JsonAnswer {
  const reply = encoder.encode(JSON.stringify(body));
  return body.ok ? { reply } : { reply, error: { code: FAILURE_STATUS[body.code], description: body.code } };
}

/**
 * nats.js keeps an endpoint's counters on an internal object: it counts an
 * error only when a handler throws synchronously and times only the
 * synchronous part of a handler. Our handlers answer errors with a body
 * (respondError, no throw) and read the database asynchronously, so we add
 * those to the same counters. Pinned nats 2.29.3; if the internals move, the
 * service still works and test/nats/services-api.test.ts fails on the counts.
 */
interface EndpointCounters {
  num_requests: number;
  processing_time: number;
  average_processing_time: number;
  countError(err: { message: string }): void;
}

function countersOf(srv: Service, endpoint: string): EndpointCounters | undefined {
  const handlers = (srv as unknown as { handlers?: { name?: string; stats?: Partial<EndpointCounters> }[] }).handlers;
  const stats = handlers?.find((h) => h.name === endpoint)?.stats;
  if (typeof stats?.countError !== "function" || typeof stats.processing_time !== "number") return undefined;
  return stats as EndpointCounters;
}

/**
 * Registers a service on the nats.js Services API: discovery (PING, INFO) and
 * STATS under `$SRV` come with it. Request handling differs from a bare
 * `srv.addEndpoint(handler)` in three ways: error answers are counted in the
 * stats, asynchronous answers are timed to the reply, and stop() waits for the
 * answers in flight (nats.js only drains the subscriptions, and the caller
 * drains the connection next, after which a late reply could not be sent).
 */
export async function startNatsService(nc: NatsConnection, config: NatsServiceConfig, log: Logger): Promise<NatsService> {
  const srv = await nc.services.add(config);
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  // nats.js stops the whole service when one of its subscriptions fails (a
  // permissions violation): every endpoint goes quiet, so it must be loud.
  void srv.stopped.then((err) => {
    if (err && !stopping) log.error({ ...errFields(err), service: config.name }, "NATS service stopped: its endpoints no longer answer");
  });

  return {
    id: srv.info().id,
    addEndpoint<A extends { reply: Uint8Array }>(spec: EndpointSpec<A>): void {
      let counters: EndpointCounters | undefined;
      const send = (msg: ServiceMsg, a: A, started: number, async: boolean) => {
        const err = spec.errorOf(a);
        try {
          if (err === undefined) msg.respond(a.reply);
          else msg.respondError(err.code, err.description, a.reply);
        } catch (e) {
          log.warn({ ...errFields(e), endpoint: spec.name }, "NATS service reply failed");
        }
        if (counters !== undefined) {
          if (err !== undefined) counters.countError({ message: err.description });
          if (async) {
            // nats.js timed only the synchronous part (in whole ms, usually 0): this adds the time to the reply.
            counters.processing_time += Math.round(nanos(performance.now() - started));
            counters.average_processing_time = Math.round(counters.processing_time / Math.max(1, counters.num_requests));
          }
        }
        spec.answered?.(a, started);
      };
      const fail = (e: unknown): A => {
        log.error({ ...errFields(e), endpoint: spec.name }, "NATS service handler failed");
        return spec.failed;
      };
      srv.addEndpoint(spec.name, {
        subject: spec.subject,
        queue: config.queue,
        handler: (err: NatsError | null, msg: ServiceMsg) => {
          // A subscription error stops the service (logged above); no message comes with it.
          if (err || !msg.reply) return;
          const started = performance.now();
          let out: A | Promise<A>;
          try {
            out = spec.handle(msg.data);
          } catch (e) {
            out = fail(e);
          }
          if (!(out instanceof Promise)) return send(msg, out, started, false);
          const p: Promise<void> = out
            .then(
              (a) => send(msg, a, started, true),
              (e) => send(msg, fail(e), started, true),
            )
            .catch((e) => log.error({ ...errFields(e), endpoint: spec.name }, "NATS service answer failed"))
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        },
      });
      counters = countersOf(srv, spec.name);
      if (counters === undefined) log.warn({ endpoint: spec.name }, "nats.js service internals not found: $SRV stats count only thrown errors and synchronous time");
    },
    async ready(): Promise<void> {
      // A refused endpoint subscription stops the whole nats.js service, but
      // nats.js 2.29 overlooks a refused $SRV one (it matches a refusal to its
      // subscription by queue group, and those have none), and its status
      // events arrive a few ticks late. So the $SRV subjects are asked again
      // with a queue group of their own, whose refusal reaches the callback
      // while the reply to the flush below is still on its way.
      const refused: string[] = [];
      const probes = SRV_VERBS.flatMap((verb) => [`$SRV.${verb}`, `$SRV.${verb}.${config.name}`, `$SRV.${verb}.${config.name}.${srv.info().id}`]).map((subject) =>
        nc.subscribe(subject, { queue: "riskinmind-probe", callback: (err) => void (err && refused.push(subject)) }),
      );
      await nc.flush();
      for (const p of probes) if (!p.isClosed()) p.unsubscribe();
      if (refused.length > 0 || srv.isStopped) {
        await srv.stop();
        throw new Error(
          `NATS service ${config.name} could not start: subscription refused to ${refused.join(", ") || "an endpoint"} (does nats-server.conf grant this user its subjects and $SRV ones?)`,
        );
      }
    },
    async stop(): Promise<void> {
      stopping = true;
      // Drains the endpoint and $SRV subscriptions: no new request after this,
      // and every request the server had delivered has reached its handler.
      await srv.stop();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
