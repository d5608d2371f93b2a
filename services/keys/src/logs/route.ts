import { Elysia } from "elysia";
import { AppError, check, LogsQuery, LogsResponse, parseJson, type LogsQueryRequest, type LogsResponse as LogsBody } from "@riskinmind/contracts";
import { errFields, type Logger } from "@riskinmind/runtime";
import type { NatsConnection } from "nats";
import { jwtAuth, type Authenticator } from "../auth/jwt";
import type { InFlightLimit, RateLimiter } from "../ratelimit";
import { BEARER, errorResponses, inline } from "../docs";

export interface LogsDeps {
  nc: NatsConnection;
  log: Logger;
  auth: Authenticator;
  /** Reads per owner (READ_RATE_LIMIT_PER_MINUTE), shared with GET /. */
  readLimiter: RateLimiter;
  /** Concurrent /logs per owner (LOGS_MAX_IN_FLIGHT_PER_OWNER). */
  inFlight: InFlightLimit;
  subject: string;
  timeoutMs: number;
}

const encoder = new TextEncoder();
const unavailable = () => new AppError("USAGE_UNAVAILABLE", "Usage logs are unavailable right now; retry shortly.");

/** Asks the usage service for one page of the owner's logs over NATS. */
export async function fetchLogs(deps: LogsDeps, req: LogsQueryRequest): Promise<LogsBody> {
  let data: Uint8Array;
  try {
    // No responders, a timeout or a closed connection all mean the same to the caller.
    data = (await deps.nc.request(deps.subject, encoder.encode(JSON.stringify(req)), { timeout: deps.timeoutMs })).data;
  } catch (err) {
    deps.log.warn({ ...errFields(err) }, "usage logs request failed");
    throw unavailable();
  }
  const reply = parseJson(data);
  if (!check.logsQueryReply.Check(reply)) {
    deps.log.warn("usage logs reply did not match the contract");
    throw unavailable();
  }
  if (!reply.ok) {
    // A refused query is the caller's problem; a usage database down or broken is the usage service's.
    if (reply.code === "VALIDATION_ERROR") throw new AppError(reply.code, reply.message);
    throw unavailable();
  }
  return { success: true, data: reply.data, meta: { total: reply.total, page: req.page, limit: req.limit } };
}

/**
 * GET /api/v1/keys/logs: the owner (from the JWT) reads its own usage, a page
 * at a time, one key mode at a time (`?mode=live|test`, default live).
 */
export function logsRoute(deps: LogsDeps) {
  return new Elysia({ prefix: "/api/v1/keys" }).use(jwtAuth(deps.auth)).get(
    "/logs",
    ({ ownerId, query }) => {
      deps.readLimiter.take(ownerId);
      // The schema's patterns already bound page and limit; Number() cannot fail here.
      const req: LogsQueryRequest = { ownerId, page: Number(query.page ?? 1), limit: Number(query.limit ?? 10), mode: query.mode ?? "live" };
      return deps.inFlight.run(ownerId, () => fetchLogs(deps, req));
    },
    {
      query: inline(LogsQuery),
      response: { 200: inline(LogsResponse), ...errorResponses(400, 401, 429, 503) },
      detail: { summary: "Usage logs of the owner's keys in one mode (default live), newest first", tags: ["keys"], security: BEARER },
    },
  );
}
