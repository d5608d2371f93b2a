import { Elysia } from "elysia";
import { AppError, check, parseJson, UsageQuery, UsageResponse, usageRange, type UsageAggregateRequest, type UsageResponse as UsageBody } from "@riskinmind/contracts";
import { errFields, type Logger } from "@riskinmind/runtime";
import type { NatsConnection } from "nats";
import { jwtAuth, type Authenticator } from "../auth/jwt";
import type { RateLimiter } from "../ratelimit";
import { BEARER, errorResponses, inline } from "../docs";

export interface UsageDeps {
  nc: NatsConnection;
  log: Logger;
  auth: Authenticator;
  /** Reads per owner (READ_RATE_LIMIT_PER_MINUTE), shared with GET / and /logs. */
  readLimiter: RateLimiter;
  subject: string;
  timeoutMs: number;
}

const encoder = new TextEncoder();
const unavailable = () => new AppError("USAGE_UNAVAILABLE", "Usage is unavailable right now; retry shortly.");

/** Asks the usage service for the owner's aggregates over NATS. */
export async function fetchUsage(deps: UsageDeps, req: UsageAggregateRequest): Promise<UsageBody["data"]> {
  let data: Uint8Array;
  try {
    data = (await deps.nc.request(deps.subject, encoder.encode(JSON.stringify(req)), { timeout: deps.timeoutMs })).data;
  } catch (err) {
    deps.log.warn({ ...errFields(err) }, "usage aggregate request failed");
    throw unavailable();
  }
  const reply = parseJson(data);
  if (!check.usageAggregateReply.Check(reply)) {
    deps.log.warn("usage aggregate reply did not match the contract");
    throw unavailable();
  }
  if (!reply.ok) {
    // Too many groups for one answer is the caller's to narrow; anything else is the usage service's.
    if (reply.code === "VALIDATION_ERROR") throw new AppError(reply.code, reply.message);
    throw unavailable();
  }
  return reply.data;
}

/**
 * GET /api/v1/keys/usage: the owner's (from the JWT) call counts, 4xx and
 * 5xx counts and p50/p95 durations per UTC hour or day, in one key mode. The
 * range is checked and widened to whole buckets here, so a bad one never
 * reaches the usage service.
 */
export function usageRoute(deps: UsageDeps) {
  return new Elysia({ prefix: "/api/v1/keys" }).use(jwtAuth(deps.auth)).get(
    "/usage",
    async ({ ownerId, query }): Promise<UsageBody> => {
      const granularity = query.granularity ?? "hour";
      const groupBy = query.groupBy ?? "none";
      const range = usageRange(query.from, query.to, granularity);
      if (!range.ok) throw new AppError("VALIDATION_ERROR", range.message);
      deps.readLimiter.take(ownerId);
      const from = new Date(range.from).toISOString();
      const to = new Date(range.to).toISOString();
      const data = await fetchUsage(deps, { ownerId, mode: query.mode ?? "live", from, to, granularity, groupBy });
      return { success: true, data, meta: { from, to, granularity, groupBy } };
    },
    {
      query: inline(UsageQuery),
      response: { 200: inline(UsageResponse), ...errorResponses(400, 401, 429, 503) },
      detail: {
        summary: "Usage of the owner's keys in one mode (default live) per UTC hour or day: counts, 4xx/5xx, p50/p95 durations",
        tags: ["keys"],
        security: BEARER,
      },
    },
  );
}
