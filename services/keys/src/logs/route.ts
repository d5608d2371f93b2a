import { Elysia } from "elysia";
import { AppError, LogsQuery, LogsResponse, type LogsResponse as LogsBody } from "@riskinmind/contracts";
import type { Logger } from "@riskinmind/runtime";
import type { NatsConnection } from "nats";
import { jwtAuth, type Authenticator } from "../auth/jwt";
import type { InFlightLimit, RateLimiter } from "../ratelimit";
import { BEARER, errorResponses, inline } from "../docs";
import { askUsage, checkCursor, filterOf, usageRequest } from "./ask";
import { exportRoute } from "./export";

export interface LogsDeps {
  nc: NatsConnection;
  log: Logger;
  auth: Authenticator;
  /** Reads per owner (READ_RATE_LIMIT_PER_MINUTE), shared with GET /. */
  readLimiter: RateLimiter;
  /** Concurrent /logs and /logs/export per owner (LOGS_MAX_IN_FLIGHT_PER_OWNER). */
  inFlight: InFlightLimit;
  subject: string;
  timeoutMs: number;
}

/**
 * GET /api/v1/keys/logs: the owner (from the JWT) reads its own usage, a page
 * at a time, one key mode at a time (`?mode=live|test`, default live),
 * optionally filtered, by page number or by cursor. Every value is checked
 * here, so a bad one never reaches the usage service.
 */
export function logsRoute(deps: LogsDeps) {
  return new Elysia().use(pageRoute(deps)).use(exportRoute(deps));
}

function pageRoute(deps: LogsDeps) {
  return new Elysia({ prefix: "/api/v1/keys" }).use(jwtAuth(deps.auth)).get(
    "/logs",
    ({ ownerId, query }) => {
      const { mode, filter } = filterOf(query);
      if (query.cursor !== undefined && query.page !== undefined) throw new AppError("VALIDATION_ERROR", "Invalid query parameter 'cursor': send either 'page' or 'cursor', not both.");
      if (query.cursor !== undefined) checkCursor(query.cursor, mode, filter);
      deps.readLimiter.take(ownerId);
      // The schema's patterns already bound page and limit; Number() cannot fail here.
      const page = Number(query.page ?? 1);
      const limit = Number(query.limit ?? 10);
      const req = usageRequest(ownerId, mode, filter, { page, limit, cursor: query.cursor });
      return deps.inFlight.run(ownerId, async (): Promise<LogsBody> => {
        const r = await askUsage(deps, req);
        const meta: LogsBody["meta"] = { total: r.total, page: query.cursor === undefined ? page : null, limit };
        // An older usage service sends no cursor: the answer is then exactly today's.
        if (r.nextCursor !== undefined) meta.nextCursor = r.nextCursor;
        return { success: true, data: r.data, meta };
      });
    },
    {
      query: inline(LogsQuery),
      response: { 200: inline(LogsResponse), ...errorResponses(400, 401, 429, 503) },
      detail: {
        summary: "Usage logs of the owner's keys in one mode (default live), newest first, optionally filtered; by page or by cursor",
        tags: ["keys"],
        security: BEARER,
      },
    },
  );
}
